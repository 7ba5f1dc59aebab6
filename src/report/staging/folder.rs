//! Results folders: the `Staging` type.

#[allow(unused_imports)]
use super::*;

// Folders

/// A results folder being assembled under a temporary name beside its
/// destination (see the module doc).
pub struct Staging {
    tmp: PathBuf,
    dest: PathBuf,
    before: Before,
    /// SHA-256 of every file written but manifest.json and the marker.
    files: Mutex<BTreeMap<String, String>>,
    done: bool,
}

impl Staging {
    /// Checks `dest` (the guard, then: refused if it exists, unless `force`
    /// and it is coldsim's), cleans up after killed runs in its parent
    /// folder, and creates `.NAME.partial-PID` with the marker of `kind`.
    /// `inputs` are the files and folders the command reads.
    pub fn new(dest: &Path, force: bool, kind: Kind, inputs: &[&Path]) -> Result<Staging> {
        check_out(dest, inputs)?;
        let shown = dest.display().to_string();
        // Without a trailing slash, which would follow a symbolic link.
        let dest: &Path = &dest.components().collect::<PathBuf>();
        let parent = parent_of(dest);
        recover(&parent);
        if let Ok(meta) = fs::symlink_metadata(dest) {
            if !force {
                return Err(Error::Usage(format!(
                    "{shown}: already exists; pass --force to replace it or --out to choose another folder"
                )));
            }
            if meta.file_type().is_symlink() {
                return Err(Error::Usage(format!(
                    "{shown}: is a symbolic link; --force replaces only a folder coldsim wrote, so choose another --out"
                )));
            }
            if !meta.is_dir() {
                return Err(Error::Usage(format!(
                    "{shown}: exists and is a file, not a results folder; choose another --out"
                )));
            }
            match owner(dest) {
                None => {
                    return Err(Error::Usage(format!(
                        "{shown}: exists and is not a coldsim results folder (no {MARKER} marker nor coldsim manifest.json); --force replaces only folders coldsim wrote, so choose another --out"
                    )));
                }
                Some(o) if kind == Kind::Report && o != Owner::Empty && !o.is_report() => {
                    return Err(Error::Usage(format!(
                        "{shown}: holds coldsim results, not a report; report --force replaces only a report folder, so choose another --out"
                    )));
                }
                Some(_) => {}
            }
        }
        let cannot = |e: std::io::Error| Error::Output {
            path: shown.clone(),
            msg: format!("cannot create the results folder: {e}"),
        };
        fs::create_dir_all(&parent).map_err(cannot)?;
        let before = Before::of(dest).map_err(cannot)?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "results".into());
        let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        let mut reg = staged();
        if reg.contains(&tmp) {
            return Err(Error::Usage(format!(
                "{shown}: is being written by this process already"
            )));
        }
        if fs::symlink_metadata(&tmp).is_ok() {
            // Left by an earlier process with this PID.
            if owner(&tmp).is_none() {
                return Err(Error::Usage(format!(
                    "{}: is in the way and is not coldsim's; move it elsewhere",
                    tmp.display()
                )));
            }
            remove_marked(&tmp).map_err(cannot)?;
        }
        reg.push(tmp.clone());
        let made =
            fs::create_dir(&tmp).and_then(|()| fs::write(tmp.join(MARKER), marker_text(kind)));
        if let Err(e) = made {
            unregister(&mut reg, &tmp);
            let _ = fs::remove_dir_all(&tmp);
            return Err(cannot(e));
        }
        drop(reg);
        Ok(Staging {
            tmp,
            dest: dest.to_path_buf(),
            before,
            files: Mutex::new(BTreeMap::new()),
            done: false,
        })
    }

    /// The destination.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Writes a file at `rel` inside the folder.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let _reg = staged();
        let path = self.tmp.join(rel);
        if let Some(p) = path.parent() {
            fs::create_dir_all(p).map_err(|e| Error::output(p, e))?;
        }
        fs::write(&path, bytes).map_err(|e| Error::output(&self.dest.join(rel), e))?;
        if rel != "manifest.json" && rel != MARKER {
            self.files
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(rel.to_string(), crate::report::manifest::sha256_hex(bytes));
        }
        Ok(())
    }

    /// Relative path and SHA-256 of every file written so far, but
    /// manifest.json and the marker.
    pub fn files(&self) -> BTreeMap<String, String> {
        self.files.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Writes manifest.json, with the files written so far listed in it.
    pub fn write_manifest<B: serde::Serialize>(
        &self,
        m: &mut crate::report::manifest::Manifest<B>,
    ) -> Result<()> {
        m.files = self.files();
        self.write("manifest.json", &m.to_json())
    }

    /// Moves the folder into place (see the module doc): refuses, keeping
    /// the new folder as `NAME.new-PID`, when the destination appeared or
    /// changed since [`Staging::new`]; swaps it in atomically otherwise.
    pub fn commit(mut self) -> Result<PathBuf> {
        let dest = self.dest.clone();
        let shown = dest.display().to_string();
        let parent = parent_of(&dest);
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "results".into());
        let mut reg = staged();
        let out = |e: std::io::Error| Error::output(&dest, e);
        let refuse = |reg: &mut Vec<PathBuf>, why: &str| -> Error {
            let kept = keep_name(&parent, &name);
            match fs::rename(&self.tmp, &kept) {
                Ok(()) => {
                    unregister(reg, &self.tmp);
                    Error::Usage(format!(
                        "{shown}: {why}; left it as it is and kept the new results in {}",
                        kept.display()
                    ))
                }
                Err(e) => Error::Usage(format!(
                    "{shown}: {why}; left it as it is, and could not keep the new results ({e})"
                )),
            }
        };
        if let Some(why) = self.before.changed(&dest) {
            return Err(refuse(&mut reg, why));
        }
        if fs::symlink_metadata(&dest).is_err() {
            // A first write (or the old folder is gone): never over
            // anything that appears at the last moment.
            return match rename_noreplace(&self.tmp, &dest) {
                Ok(()) => {
                    unregister(&mut reg, &self.tmp);
                    self.done = true;
                    sync_dir(&parent);
                    Ok(dest)
                }
                Err(e)
                    if matches!(e.raw_os_error(), Some(libc::EEXIST | libc::ENOTEMPTY))
                        || e.kind() == std::io::ErrorKind::AlreadyExists =>
                {
                    Err(refuse(
                        &mut reg,
                        "appeared while coldsim was running (it did not exist at the start)",
                    ))
                }
                Err(e) => Err(out(e)),
            };
        }
        let aside = parent.join(format!(".{name}.old-{}", std::process::id()));
        if fs::symlink_metadata(&aside).is_ok() {
            // Left by an earlier process with this PID.
            remove_old(&aside).map_err(out)?;
        }
        match rename2(&self.tmp, &dest, How::Exchange) {
            Ok(()) => {
                // The old folder is now at the staging name.
                unregister(&mut reg, &self.tmp);
                self.done = true;
                let old = match fs::rename(&self.tmp, &aside) {
                    Ok(()) => aside,
                    Err(_) => self.tmp.clone(),
                };
                reg.push(old.clone());
                drop(reg);
                sync_dir(&parent);
                let _ = remove_old(&old);
                unregister(&mut staged(), &old);
                Ok(dest)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                fs::rename(&dest, &aside).map_err(out)?;
                if let Err(e) = rename_noreplace(&self.tmp, &dest) {
                    let _ = fs::rename(&aside, &dest);
                    return Err(out(e));
                }
                unregister(&mut reg, &self.tmp);
                self.done = true;
                reg.push(aside.clone());
                drop(reg);
                sync_dir(&parent);
                let _ = remove_old(&aside);
                unregister(&mut staged(), &aside);
                Ok(dest)
            }
            Err(e) => Err(out(e)),
        }
    }
}

impl Drop for Staging {
    /// An abandoned staging folder (an error midway) is removed.
    fn drop(&mut self) {
        if !self.done {
            let mut reg = staged();
            if reg.contains(&self.tmp) {
                let _ = remove_marked(&self.tmp);
                unregister(&mut reg, &self.tmp);
            }
        }
    }
}

// ---------------------------------------------------------------------
