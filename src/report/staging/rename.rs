//! Renames: the atomic exchange, and the fallback through an aside name.

#[allow(unused_imports)]
use super::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum How {
    /// Fails if the destination exists.
    NoReplace,
    /// Swaps the two (both must exist).
    Exchange,
}

/// `renameat2`; Err(Unsupported) where the file system or the system
/// cannot.
#[cfg(target_os = "linux")]
pub(super) fn rename2(from: &Path, to: &Path, how: How) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
    };
    let (a, b) = (c(from)?, c(to)?);
    let flags = match how {
        How::NoReplace => libc::RENAME_NOREPLACE,
        How::Exchange => libc::RENAME_EXCHANGE,
    };
    // SAFETY: both paths are valid NUL-terminated strings for the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            flags,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => {
            Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
        }
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn rename2(_: &Path, _: &Path, _: How) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Renames `from` to `to` unless `to` exists (checked by the system where
/// it can, else just before).
pub(super) fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    match rename2(from, to, How::NoReplace) {
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
            if fs::symlink_metadata(to).is_ok() {
                return Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists));
            }
            fs::rename(from, to)
        }
        r => r,
    }
}

/// fsync of a folder, so that a rename in it is on disk.
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// `parent/NAME.new-PID` (or `-2`, `-3` ... if taken): where results that
/// could not be put in place are kept.
pub(super) fn keep_name(parent: &Path, name: &str) -> PathBuf {
    let base = format!("{name}.new-{}", std::process::id());
    let mut p = parent.join(&base);
    let mut i = 2;
    while fs::symlink_metadata(&p).is_ok() {
        p = parent.join(format!("{base}-{i}"));
        i += 1;
    }
    p
}
