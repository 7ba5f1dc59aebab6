//! Paths: resolving an output path and refusing one that would hold the current folder or an input.

#[allow(unused_imports)]
use super::*;

/// `path` made absolute and resolved: symbolic links of the part that
/// exists followed, `.` dropped and `..` applied to what precedes it, as
/// the system would resolve it once it exists.
pub fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let mut out = if path.is_absolute() {
        PathBuf::from("/")
    } else {
        std::env::current_dir()?.canonicalize()?
    };
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => out = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => {
                out.push(n);
                if fs::symlink_metadata(&out).is_ok() {
                    out = out.canonicalize()?;
                }
            }
        }
    }
    Ok(out)
}

/// The folder `path` is in (`.` for a bare name).
pub(super) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Refuses an output path that names no new entry or that would hold the
/// current folder or an input (see the module doc). `what` names the
/// option in messages (`--out`).
pub fn check_out(dest: &Path, inputs: &[&Path]) -> Result<()> {
    let shown = dest.display().to_string();
    let last = dest.components().next_back();
    if matches!(
        last,
        None | Some(Component::CurDir | Component::ParentDir | Component::RootDir)
    ) {
        return Err(Error::Usage(format!(
            "{shown}: not a results folder name; give --out a new folder such as results/my-run"
        )));
    }
    let resolved = resolve(dest).map_err(|e| Error::output(dest, e))?;
    if let Ok(cwd) = std::env::current_dir().and_then(|c| c.canonicalize())
        && cwd.starts_with(&resolved)
    {
        return Err(Error::Usage(format!(
            "{shown}: is the current folder or one of its parents ({}); give --out a new folder such as results/my-run",
            resolved.display()
        )));
    }
    for input in inputs {
        let Ok(inp) = resolve(input) else { continue };
        if inp.starts_with(&resolved) {
            let how = if inp == resolved { "is" } else { "holds" };
            return Err(Error::Usage(format!(
                "{shown}: {how} the input {}; give --out a folder outside it",
                input.display()
            )));
        }
    }
    Ok(())
}
