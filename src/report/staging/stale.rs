//! Stale entries of killed processes, cleaned up by the next command writing beside them.

#[allow(unused_imports)]
use super::*;

/// Whether process `pid` runs (or is a zombie not yet reaped).
pub(super) fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return true;
    }
    // SAFETY: kill with signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// `.NAME.WHAT-PID` -> (NAME, WHAT, PID).
pub(super) fn parse_staged_name(name: &str) -> Option<(&str, &str, i32)> {
    let rest = name.strip_prefix('.')?;
    let (base, tail) = rest.rsplit_once('.')?;
    let (what, pid) = tail.split_once('-')?;
    if base.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((base, what, pid.parse().ok()?))
}

/// Cleans up after killed coldsim processes in `parent` (see the module
/// doc): stale `.NAME.partial-PID` folders and `.NAME.tmp-PID` files are
/// deleted, and a stale `.NAME.old-PID` folder is deleted when `NAME`
/// exists or renamed back to `NAME` when it does not. Returns what it did,
/// one line per entry.
pub fn recover(parent: &Path) -> Vec<String> {
    let mut done = Vec::new();
    let Ok(rd) = fs::read_dir(parent) else {
        return done;
    };
    let me = std::process::id() as i32;
    let mut entries: Vec<(PathBuf, String)> = rd
        .flatten()
        .map(|e| (e.path(), e.file_name().to_string_lossy().into_owned()))
        .collect();
    entries.sort();
    let reg = staged();
    for (path, name) in entries {
        let Some((base, what, pid)) = parse_staged_name(&name) else {
            continue;
        };
        let stale = if pid == me {
            !reg.contains(&path)
        } else {
            !alive(pid)
        };
        if !stale {
            continue;
        }
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        // A PID is only meaningful on the machine that staged the folder
        // (shards on several nodes may share a folder). An old folder set
        // aside may be finished from anywhere: deleted once the new one is
        // in place, moved back when it is not.
        if what == "partial" && meta.is_dir() && !ours_here(&path) {
            continue;
        }
        match what {
            "partial" if meta.is_dir() => {
                // Ours: the marker is written first (a kill before it
                // leaves an empty folder); after an exchange the old folder
                // sits here for a moment, marked or an older coldsim's.
                let removed = owner(&path).is_some() && remove_marked(&path).is_ok();
                if removed {
                    done.push(format!(
                        "removed {} (left by a killed coldsim)",
                        path.display()
                    ));
                }
            }
            "tmp" if meta.is_file() => {
                let ours =
                    meta.len() == 0 || fs::read(&path).is_ok_and(|b| b.starts_with(FILE_HEADER));
                if ours && fs::remove_file(&path).is_ok() {
                    done.push(format!(
                        "removed {} (left by a killed coldsim)",
                        path.display()
                    ));
                }
            }
            "old" if meta.is_dir() => {
                let Some(o) = owner(&path) else {
                    continue;
                };
                let dest = parent.join(base);
                // An empty one was all but deleted.
                if o == Owner::Empty || fs::symlink_metadata(&dest).is_ok() {
                    if remove_marked(&path).is_ok() {
                        done.push(format!(
                            "removed {} (the folder a killed coldsim had replaced)",
                            path.display()
                        ));
                    }
                } else if rename_noreplace(&path, &dest).is_ok() {
                    done.push(format!(
                        "moved {} back to {} (a killed coldsim had not put the new folder in place)",
                        path.display(),
                        dest.display()
                    ));
                }
            }
            _ => {}
        }
    }
    if !done.is_empty() {
        sync_dir(parent);
    }
    done
}

// ---------------------------------------------------------------------
