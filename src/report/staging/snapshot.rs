//! What was at the destination when a command started, to check again at commit.

#[allow(unused_imports)]
use super::*;

/// Every entry under a path (itself included) by relative path: file
/// type, device, inode, size and modification time. Two equal snapshots
/// mean nothing was added, removed, replaced or rewritten in between.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Snapshot(Vec<(PathBuf, u32, u64, u64, u64, i64, i64)>);

pub(super) fn snapshot(root: &Path) -> std::io::Result<Snapshot> {
    pub(super) fn walk(
        root: &Path,
        rel: &Path,
        out: &mut Vec<(PathBuf, u32, u64, u64, u64, i64, i64)>,
    ) -> std::io::Result<()> {
        // (`root.join("")` would add a trailing slash.)
        let p = if rel.as_os_str().is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        let m = fs::symlink_metadata(&p)?;
        out.push((
            rel.to_path_buf(),
            m.mode() & libc::S_IFMT,
            m.dev(),
            m.ino(),
            m.len(),
            m.mtime(),
            m.mtime_nsec(),
        ));
        if m.is_dir() {
            let mut names: Vec<_> = fs::read_dir(&p)?
                .map(|e| e.map(|e| e.file_name()))
                .collect::<std::io::Result<_>>()?;
            names.sort();
            for n in names {
                walk(root, &rel.join(n), out)?;
            }
        }
        Ok(())
    }
    let mut v = Vec::new();
    walk(root, Path::new(""), &mut v)?;
    Ok(Snapshot(v))
}

/// The destination at the start.
#[derive(Clone, Debug)]
pub(super) enum Before {
    Absent,
    Present(Snapshot),
}

impl Before {
    pub(super) fn of(dest: &Path) -> std::io::Result<Before> {
        match fs::symlink_metadata(dest) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Before::Absent),
            Err(e) => Err(e),
            Ok(_) => snapshot(dest).map(Before::Present),
        }
    }

    /// Why the destination may not be replaced now, if it may not.
    pub(super) fn changed(&self, dest: &Path) -> Option<&'static str> {
        let now = match fs::symlink_metadata(dest) {
            Err(_) => return None,
            Ok(_) => snapshot(dest).ok(),
        };
        match self {
            Before::Absent => {
                Some("appeared while coldsim was running (it did not exist at the start)")
            }
            Before::Present(s) if now.as_ref() != Some(s) => Some(
                "changed while coldsim was running (an entry was added, removed or rewritten since the start)",
            ),
            Before::Present(_) => None,
        }
    }
}
