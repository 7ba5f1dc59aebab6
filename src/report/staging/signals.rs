//! The registry of what is being staged, and the signal handler that removes it.

#[allow(unused_imports)]
use super::*;

/// Paths (folders or files) of this process being staged or deleted;
/// removed by the signal thread. Every write into a staging folder holds
/// the lock, so the signal thread never races a write.
pub(super) static STAGED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

pub(super) fn staged() -> MutexGuard<'static, Vec<PathBuf>> {
    STAGED.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn unregister(reg: &mut Vec<PathBuf>, p: &Path) {
    reg.retain(|q| q != p);
}

/// Deletes a folder coldsim wrote, its marker last: a deletion cut short
/// by a kill leaves a folder that is still recognisably coldsim's (or
/// empty), which the next command then finishes deleting.
pub(super) fn remove_marked(dir: &Path) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        if e.file_name() == MARKER {
            continue;
        }
        if e.file_type()?.is_dir() {
            fs::remove_dir_all(e.path())?;
        } else {
            fs::remove_file(e.path())?;
        }
    }
    match fs::remove_file(dir.join(MARKER)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    fs::remove_dir(dir)
}

/// Marks an old folder about to be deleted (an older coldsim's may have no
/// marker), then deletes it with [`remove_marked`].
pub(super) fn remove_old(dir: &Path) -> std::io::Result<()> {
    let _ = fs::write(
        dir.join(MARKER),
        format!("{MARKER_LINE}, being deleted\nhost: {}\n", this_host()),
    );
    remove_marked(dir)
}

pub(super) fn remove_any(p: &Path) {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            let _ = remove_marked(p);
        }
        Ok(_) => {
            let _ = fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// Installs a thread that, on SIGINT, SIGTERM or SIGHUP, removes every
/// folder and file being staged and exits with 128 + the signal number
/// (130, 143, 129). Call once, early, in a program that writes outputs.
pub fn remove_staged_on_signals() -> std::io::Result<()> {
    use signal_hook::iterator::Signals;
    let mut signals = Signals::new([libc::SIGINT, libc::SIGTERM, libc::SIGHUP])?;
    std::thread::Builder::new()
        .name("coldsim-signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                // Held until exit: no write can start again.
                let reg = staged();
                for p in reg.iter() {
                    remove_any(p);
                }
                std::process::exit(128 + sig);
            }
        })?;
    Ok(())
}
