//! Trace reader: being written (see the workloads issue).

use serde::{Deserialize, Serialize};

use super::{Context, FunctionTable, Invocation, TraceReader, WorkloadStats};
use crate::engine::Streams;
use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// The reader's scenario keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub path: String,
}

impl Config {
    /// Checks what serde cannot; Err(key, message).
    pub fn validate(&self) -> std::result::Result<(), (String, String)> {
        Ok(())
    }
}

pub struct Reader;

impl Iterator for Reader {
    type Item = Invocation;
    fn next(&mut self) -> Option<Invocation> {
        None
    }
}

impl TraceReader for Reader {
    fn stats(&self) -> WorkloadStats {
        WorkloadStats::default()
    }
    fn take_error(&mut self) -> Option<Error> {
        None
    }
}

pub fn open(
    _cfg: &Config,
    _s: &Scenario,
    _ctx: &Context,
    _streams: &Streams,
) -> Result<(FunctionTable, Reader)> {
    Err(Error::input(
        "workload.kind",
        "this reader is not written yet",
    ))
}
