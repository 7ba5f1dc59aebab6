//! Single files: the `AtomicFile` type.

#[allow(unused_imports)]
use super::*;

// Single files

/// What `--force` may replace for an [`AtomicFile`].
pub type Replaceable = fn(&[u8]) -> bool;

/// A single output file written atomically: `.NAME.tmp-PID` beside it,
/// written, fsynced and renamed over it, with the same rules as folders:
/// an existing file is refused without `force`, and with it replaced only
/// if `replaceable` accepts its bytes (empty files always are); at commit
/// the destination must be as it was at the start.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    before: Before,
    done: bool,
}

impl AtomicFile {
    /// Checks `dest` and reserves the temporary file (so a path that cannot
    /// be written fails before any work). `option` names the flag in
    /// messages (`--out`).
    pub fn create(
        dest: &Path,
        force: bool,
        replaceable: Replaceable,
        option: &str,
    ) -> Result<AtomicFile> {
        let bad = |msg: String| Error::Usage(format!("{option} {}: {msg}", dest.display()));
        // Without a trailing slash, which would follow a symbolic link.
        let dest: &Path = &dest.components().collect::<PathBuf>();
        let name = match dest.components().next_back() {
            Some(Component::Normal(n)) => n.to_string_lossy().into_owned(),
            _ => return Err(bad("expected a file name".into())),
        };
        let parent = parent_of(dest);
        if !parent.is_dir() {
            return Err(bad(format!(
                "folder {} does not exist; create it first",
                parent.display()
            )));
        }
        recover(&parent);
        if let Ok(meta) = fs::symlink_metadata(dest) {
            if meta.is_dir() {
                return Err(bad("is a folder; expected a file name".into()));
            }
            if !force {
                return Err(bad(
                    "already exists; pass --force to replace it or choose another file".into(),
                ));
            }
            if !meta.is_file() {
                return Err(bad(
                    "is not a regular file (a symbolic link?); --force replaces only a file coldsim wrote"
                        .into(),
                ));
            }
            let bytes = fs::read(dest).map_err(|e| bad(format!("cannot read: {e}")))?;
            if !bytes.is_empty() && !replaceable(&bytes) {
                return Err(bad(
                    "exists and was not written by coldsim; --force replaces only a file coldsim wrote, so choose another file"
                        .into(),
                ));
            }
        }
        let before = Before::of(dest).map_err(|e| Error::output(dest, e))?;
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let mut reg = staged();
        reg.push(tmp.clone());
        if let Err(e) = fs::write(&tmp, b"") {
            unregister(&mut reg, &tmp);
            return Err(bad(format!("cannot write there: {e}")));
        }
        Ok(AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
            before,
            done: false,
        })
    }

    /// Writes the bytes to the temporary file, fsyncs it, and renames it
    /// over the destination (refusing, and keeping the bytes as
    /// `NAME.new-PID`, if the destination appeared or changed meanwhile).
    pub fn commit(mut self, bytes: &[u8]) -> Result<()> {
        let mut reg = staged();
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&self.tmp)?;
            f.write_all(bytes)?;
            f.sync_all()
        };
        write().map_err(|e| Error::output(&self.dest, e))?;
        let parent = parent_of(&self.dest);
        let shown = self.dest.display().to_string();
        if let Some(why) = self.before.changed(&self.dest) {
            let name = self
                .dest
                .file_name()
                .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
            let kept = keep_name(&parent, &name);
            fs::rename(&self.tmp, &kept).map_err(|e| Error::output(&self.dest, e))?;
            unregister(&mut reg, &self.tmp);
            self.done = true;
            return Err(Error::Usage(format!(
                "{shown}: {why}; left it as it is and kept the new file as {}",
                kept.display()
            )));
        }
        fs::rename(&self.tmp, &self.dest).map_err(|e| Error::output(&self.dest, e))?;
        unregister(&mut reg, &self.tmp);
        self.done = true;
        sync_dir(&parent);
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.done {
            let mut reg = staged();
            let _ = fs::remove_file(&self.tmp);
            unregister(&mut reg, &self.tmp);
        }
    }
}
