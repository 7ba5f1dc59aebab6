//! The wire protocol between the executor and its workers: fixed-size
//! frames of five little-endian `u64`s (a tag and four fields) over a Unix
//! stream socket. Fixed frames need no parser and no allocation, and one
//! `read_exact` reads one message.

use std::io::{self, Read, Write};

const FRAME: usize = 40;

/// An injected fault, for tests: what a worker does wrong on an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The worker aborts (SIGABRT) before replying.
    Crash,
    /// The worker never replies (sleeps forever).
    Hang,
    /// The worker does the work and flips one bit of its checksum.
    BadChecksum,
    /// The worker corrupts every word of its state, then answers honestly
    /// from the corrupted state.
    CorruptState,
}

impl Fault {
    fn code(f: Option<Fault>) -> u64 {
        match f {
            None => 0,
            Some(Fault::Crash) => 1,
            Some(Fault::Hang) => 2,
            Some(Fault::BadChecksum) => 3,
            Some(Fault::CorruptState) => 4,
        }
    }

    fn from_code(c: u64) -> io::Result<Option<Fault>> {
        Ok(match c {
            0 => None,
            1 => Some(Fault::Crash),
            2 => Some(Fault::Hang),
            3 => Some(Fault::BadChecksum),
            4 => Some(Fault::CorruptState),
            _ => return Err(bad(format!("unknown fault code {c}"))),
        })
    }
}

/// One message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Worker -> executor, first frame on a connection: who I am.
    Hello { token: u64, pid: u32 },
    /// Worker -> executor: state built in `init_ns`, ready to serve.
    Ready { init_ns: u64 },
    /// Worker -> executor: the answer to the invocation with `nonce`;
    /// `started_ns` is CLOCK_MONOTONIC when its work began.
    Reply {
        nonce: u64,
        checksum: u64,
        started_ns: u64,
        digest: u64,
    },
    /// Template -> executor: the fork for `token` is process `pid`.
    Forked { token: u64, pid: u32 },
    /// Template -> executor: `fork` failed with `errno`.
    ForkFailed { token: u64, errno: i32 },
    /// Executor -> worker: run one invocation.
    Invoke {
        nonce: u64,
        exec_ns: u64,
        io_bound: bool,
        fault: Option<Fault>,
    },
    /// Executor -> template: fork a child that connects with `token`.
    Fork { token: u64 },
    /// Executor -> template: drop the state, exit when the last fork is gone.
    Retire,
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

impl Frame {
    fn encode(self) -> [u8; FRAME] {
        let f: [u64; 5] = match self {
            Frame::Hello { token, pid } => [1, token, u64::from(pid), 0, 0],
            Frame::Ready { init_ns } => [2, init_ns, 0, 0, 0],
            Frame::Reply {
                nonce,
                checksum,
                started_ns,
                digest,
            } => [3, nonce, checksum, started_ns, digest],
            Frame::Forked { token, pid } => [4, token, u64::from(pid), 0, 0],
            Frame::ForkFailed { token, errno } => [5, token, errno as u32 as u64, 0, 0],
            Frame::Invoke {
                nonce,
                exec_ns,
                io_bound,
                fault,
            } => [16, nonce, exec_ns, u64::from(io_bound), Fault::code(fault)],
            Frame::Fork { token } => [17, token, 0, 0, 0],
            Frame::Retire => [18, 0, 0, 0, 0],
        };
        let mut b = [0u8; FRAME];
        for (chunk, v) in b.chunks_exact_mut(8).zip(f) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    fn decode(b: &[u8; FRAME]) -> io::Result<Frame> {
        let mut f = [0u64; 5];
        for (v, chunk) in f.iter_mut().zip(b.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            *v = u64::from_le_bytes(w);
        }
        let pid = |v: u64| u32::try_from(v).map_err(|_| bad(format!("bad pid {v}")));
        Ok(match f[0] {
            1 => Frame::Hello {
                token: f[1],
                pid: pid(f[2])?,
            },
            2 => Frame::Ready { init_ns: f[1] },
            3 => Frame::Reply {
                nonce: f[1],
                checksum: f[2],
                started_ns: f[3],
                digest: f[4],
            },
            4 => Frame::Forked {
                token: f[1],
                pid: pid(f[2])?,
            },
            5 => Frame::ForkFailed {
                token: f[1],
                errno: f[2] as u32 as i32,
            },
            16 => Frame::Invoke {
                nonce: f[1],
                exec_ns: f[2],
                io_bound: f[3] != 0,
                fault: Fault::from_code(f[4])?,
            },
            17 => Frame::Fork { token: f[1] },
            18 => Frame::Retire,
            t => return Err(bad(format!("unknown frame tag {t}"))),
        })
    }

    /// Writes the frame in one `write_all`.
    pub fn write_to(self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(&self.encode())
    }

    /// Reads one frame; `Ok(None)` at a clean end of stream.
    pub fn read_from(r: &mut impl Read) -> io::Result<Option<Frame>> {
        let mut b = [0u8; FRAME];
        let mut got = 0;
        while got < FRAME {
            match r.read(&mut b[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Frame::decode(&b).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let frames = [
            Frame::Hello {
                token: u64::MAX,
                pid: 4_000_000,
            },
            Frame::Ready { init_ns: 12 },
            Frame::Reply {
                nonce: 1,
                checksum: 2,
                started_ns: 3,
                digest: 4,
            },
            Frame::Forked { token: 9, pid: 77 },
            Frame::ForkFailed {
                token: 9,
                errno: 12,
            },
            Frame::Invoke {
                nonce: 5,
                exec_ns: 6,
                io_bound: true,
                fault: Some(Fault::CorruptState),
            },
            Frame::Invoke {
                nonce: 5,
                exec_ns: 6,
                io_bound: false,
                fault: None,
            },
            Frame::Fork { token: 3 },
            Frame::Retire,
        ];
        let mut buf = Vec::new();
        for f in frames {
            f.write_to(&mut buf).unwrap();
        }
        let mut r = &buf[..];
        for f in frames {
            assert_eq!(Frame::read_from(&mut r).unwrap(), Some(f));
        }
        assert_eq!(Frame::read_from(&mut r).unwrap(), None);
        assert!(Frame::read_from(&mut &[0u8; 40][..]).is_err());
        assert!(Frame::read_from(&mut &[1u8; 7][..]).is_err());
    }
}
