//! Writing outputs without ever deleting or losing a user's files: the one
//! staging type for results folders ([`Staging`], used by `run`, `merge`,
//! `plan`, `compare` and `report`) and the one atomic write for single files
//! ([`AtomicFile`], used by `calibrate --out`).
//!
//! # The rules
//!
//! * **Guard.** An output folder is never `.`, `..` or `/` (as written), never
//!   the current folder or one of its parents, and never an input folder or
//!   one of its parents (`--out ./x/..` is resolved first: `..` after
//!   symbolic links, as the system does).
//! * **Ownership.** Every folder coldsim writes holds a marker file,
//!   [`MARKER`] (`.coldsim`), whose first line is `coldsim results folder,
//!   version X`, followed by `kind: run|sweep|merge|plan|compare|report`
//!   and `host: NAME` (the machine that wrote it).
//!   `--force` replaces only a folder that is provably coldsim's: one with
//!   that marker, one written by an older coldsim (a manifest.json with
//!   coldsim's fields, or a report folder holding only report.md,
//!   report.html and plots/), or an empty folder; never a symbolic link or a
//!   file. `coldsim report --force` replaces only a report folder (or an
//!   empty one), never a results folder.
//! * **Staging.** The new folder is assembled as `.NAME.partial-PID` beside
//!   its destination (the marker is written into it first) and moved into
//!   place at the end.
//! * **Check again at commit.** What was at the destination at the start is
//!   recorded (every entry's inode, size and modification time); at the end
//!   it must be the same, or absent. A folder that appeared meanwhile (a
//!   user's, or a second coldsim's with the same `--out`) or that changed is
//!   left alone: the new results are kept as `NAME.new-PID` beside it and
//!   the command fails with one line saying so.
//! * **Atomic swap.** The new folder replaces the old one with one
//!   `renameat2(RENAME_EXCHANGE)`, so the destination is always either the
//!   old complete folder or the new one; the old one is then renamed to
//!   `.NAME.old-PID` and deleted. Where the file system cannot exchange, the
//!   old folder is renamed aside to `.NAME.old-PID` first, the new one
//!   renamed in, and the old one deleted.
//! * **Interrupted runs.** SIGINT, SIGTERM and SIGHUP remove every folder and
//!   file being staged and exit with 128 + the signal (130, 143, 129), once
//!   [`remove_staged_on_signals`] is installed (the CLI does). What a
//!   SIGKILL, an allocation failure or a power cut leaves behind is cleaned
//!   up by the next command that writes into the same parent folder
//!   ([`recover`]): a `.NAME.partial-PID` folder or `.NAME.tmp-PID` file of
//!   a process that no longer runs is deleted; a `.NAME.old-PID` folder of
//!   such a process is deleted when `NAME` exists (the swap had finished)
//!   and renamed back to `NAME` when it does not (the kill fell between the
//!   two renames of the fallback). Entries of running processes, staging
//!   folders whose marker names another host (shards on cluster nodes may
//!   share a folder, and a PID means nothing elsewhere), and entries that
//!   are not provably coldsim's are left alone.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::error::{Error, Result};

/// The marker file of every folder coldsim writes.
pub const MARKER: &str = ".coldsim";

/// How the first line of [`MARKER`] starts.
pub const MARKER_LINE: &str = "coldsim results folder";

/// How a calibration profile (or any single file coldsim writes through
/// [`AtomicFile`]) starts, so that a stale temporary file can be recognised.
const FILE_HEADER: &[u8] = b"# coldsim";

/// Which command wrote a folder (the marker's second line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Run,
    Sweep,
    Merge,
    Plan,
    Compare,
    Report,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Sweep => "sweep",
            Kind::Merge => "merge",
            Kind::Plan => "plan",
            Kind::Compare => "compare",
            Kind::Report => "report",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Run,
            Kind::Sweep,
            Kind::Merge,
            Kind::Plan,
            Kind::Compare,
            Kind::Report,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// The text of the marker file: the marker line, the kind, and the host
/// that wrote the folder (so that a command on another machine sharing the
/// folder never takes it for a stale one of its own).
pub fn marker_text(kind: Kind) -> String {
    format!(
        "{MARKER_LINE}, version {}\nkind: {}\nhost: {}\n",
        env!("CARGO_PKG_VERSION"),
        kind.as_str(),
        this_host()
    )
}

/// This machine's host name, as markers record it.
fn this_host() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(super::manifest::host_name)
}

/// Why a folder counts as coldsim's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// An empty folder.
    Empty,
    /// A folder with coldsim's marker (its kind, when the marker names a
    /// known one).
    Marked(Option<Kind>),
    /// A results folder of an older coldsim: manifest.json with coldsim's
    /// fields, no marker.
    LegacyResults,
    /// A report folder of an older coldsim: report.html, report.md and
    /// plots/ with SVG and PNG files, nothing else.
    LegacyReport,
}

impl Owner {
    fn is_report(self) -> bool {
        matches!(
            self,
            Owner::Marked(Some(Kind::Report)) | Owner::LegacyReport
        )
    }
}

/// Whether `dir` is provably a folder coldsim wrote (or an empty folder),
/// and why; None for anything else (a file, a symbolic link, a user's
/// folder).
pub fn owner(dir: &Path) -> Option<Owner> {
    let meta = fs::symlink_metadata(dir).ok()?;
    if !meta.is_dir() {
        return None;
    }
    let names: Vec<String> = fs::read_dir(dir)
        .ok()?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()
        .ok()?;
    if names.is_empty() {
        return Some(Owner::Empty);
    }
    if let Some(kind) = read_marker(dir) {
        return Some(Owner::Marked(kind));
    }
    if is_coldsim_manifest(&dir.join("manifest.json")) {
        return Some(Owner::LegacyResults);
    }
    if is_legacy_report(dir, &names) {
        return Some(Owner::LegacyReport);
    }
    None
}

/// The kind named by `dir`'s marker: None without a marker, Some(None)
/// for a marker of an unknown kind.
pub fn read_marker(dir: &Path) -> Option<Option<Kind>> {
    let text = marker_of(dir)?;
    Some(marker_field(&text, "kind").and_then(Kind::parse))
}

/// The text of `dir`'s marker, if it has coldsim's.
fn marker_of(dir: &Path) -> Option<String> {
    let p = dir.join(MARKER);
    if !fs::symlink_metadata(&p).ok()?.is_file() {
        return None;
    }
    let mut head = Vec::new();
    use std::io::Read as _;
    fs::File::open(&p)
        .ok()?
        .take(4096)
        .read_to_end(&mut head)
        .ok()?;
    let text = String::from_utf8_lossy(&head).into_owned();
    text.lines()
        .next()?
        .starts_with(MARKER_LINE)
        .then_some(text)
}

/// The value of a `key: value` line of a marker.
fn marker_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .skip(1)
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// Whether a folder left behind may be cleaned up from this machine: its
/// marker names this host, or no host (an older coldsim's, or none).
fn ours_here(dir: &Path) -> bool {
    marker_of(dir)
        .and_then(|t| marker_field(&t, "host").map(|h| h == this_host()))
        .unwrap_or(true)
}

/// A manifest.json that parses and has coldsim's provenance fields.
fn is_coldsim_manifest(p: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(p) else {
        return false;
    };
    if !meta.is_file() || meta.len() > 256 << 20 {
        return false;
    }
    let Ok(v) = fs::read(p).map(|b| serde_json::from_slice::<serde_json::Value>(&b)) else {
        return false;
    };
    let Ok(v) = v else { return false };
    ["coldsim_version", "git_commit", "scenario_sha256"]
        .iter()
        .all(|k| v.get(k).is_some_and(serde_json::Value::is_string))
        && v.get("command").is_some_and(serde_json::Value::is_array)
}

/// report.html, report.md and plots/*.svg|png, nothing else.
fn is_legacy_report(dir: &Path, names: &[String]) -> bool {
    let file = |n: &str| fs::symlink_metadata(dir.join(n)).is_ok_and(|m| m.is_file());
    if !file("report.html") {
        return false;
    }
    names.iter().all(|n| match n.as_str() {
        "report.html" => true,
        "report.md" => file("report.md"),
        "plots" => {
            let plots = dir.join("plots");
            fs::symlink_metadata(&plots).is_ok_and(|m| m.is_dir())
                && fs::read_dir(&plots).is_ok_and(|rd| {
                    rd.into_iter().all(|e| {
                        e.is_ok_and(|e| {
                            let n = e.file_name().to_string_lossy().into_owned();
                            (n.ends_with(".svg") || n.ends_with(".png"))
                                && e.file_type().is_ok_and(|t| t.is_file())
                        })
                    })
                })
        }
        _ => false,
    })
}

// ---------------------------------------------------------------------
// Paths

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
fn parent_of(path: &Path) -> PathBuf {
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

// ---------------------------------------------------------------------
// What was at the destination

/// Every entry under a path (itself included) by relative path: file
/// type, device, inode, size and modification time. Two equal snapshots
/// mean nothing was added, removed, replaced or rewritten in between.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Snapshot(Vec<(PathBuf, u32, u64, u64, u64, i64, i64)>);

fn snapshot(root: &Path) -> std::io::Result<Snapshot> {
    fn walk(
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
enum Before {
    Absent,
    Present(Snapshot),
}

impl Before {
    fn of(dest: &Path) -> std::io::Result<Before> {
        match fs::symlink_metadata(dest) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Before::Absent),
            Err(e) => Err(e),
            Ok(_) => snapshot(dest).map(Before::Present),
        }
    }

    /// Why the destination may not be replaced now, if it may not.
    fn changed(&self, dest: &Path) -> Option<&'static str> {
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

// ---------------------------------------------------------------------
// Renames

#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    /// Fails if the destination exists.
    NoReplace,
    /// Swaps the two (both must exist).
    Exchange,
}

/// `renameat2`; Err(Unsupported) where the file system or the system
/// cannot.
#[cfg(target_os = "linux")]
fn rename2(from: &Path, to: &Path, how: How) -> std::io::Result<()> {
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
fn rename2(_: &Path, _: &Path, _: How) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Renames `from` to `to` unless `to` exists (checked by the system where
/// it can, else just before).
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
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
fn sync_dir(dir: &Path) {
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// `parent/NAME.new-PID` (or `-2`, `-3` ... if taken): where results that
/// could not be put in place are kept.
fn keep_name(parent: &Path, name: &str) -> PathBuf {
    let base = format!("{name}.new-{}", std::process::id());
    let mut p = parent.join(&base);
    let mut i = 2;
    while fs::symlink_metadata(&p).is_ok() {
        p = parent.join(format!("{base}-{i}"));
        i += 1;
    }
    p
}

// ---------------------------------------------------------------------
// The registry of what is being staged, and signals

/// Paths (folders or files) of this process being staged or deleted;
/// removed by the signal thread. Every write into a staging folder holds
/// the lock, so the signal thread never races a write.
static STAGED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn staged() -> MutexGuard<'static, Vec<PathBuf>> {
    STAGED.lock().unwrap_or_else(|e| e.into_inner())
}

fn unregister(reg: &mut Vec<PathBuf>, p: &Path) {
    reg.retain(|q| q != p);
}

/// Deletes a folder coldsim wrote, its marker last: a deletion cut short
/// by a kill leaves a folder that is still recognisably coldsim's (or
/// empty), which the next command then finishes deleting.
fn remove_marked(dir: &Path) -> std::io::Result<()> {
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
fn remove_old(dir: &Path) -> std::io::Result<()> {
    let _ = fs::write(
        dir.join(MARKER),
        format!("{MARKER_LINE}, being deleted\nhost: {}\n", this_host()),
    );
    remove_marked(dir)
}

fn remove_any(p: &Path) {
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

// ---------------------------------------------------------------------
// Stale entries of killed processes

/// Whether process `pid` runs (or is a zombie not yet reaped).
fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return true;
    }
    // SAFETY: kill with signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// `.NAME.WHAT-PID` -> (NAME, WHAT, PID).
fn parse_staged_name(name: &str) -> Option<(&str, &str, i32)> {
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
                .insert(rel.to_string(), super::manifest::sha256_hex(bytes));
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
        m: &mut super::manifest::Manifest<B>,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A PID that no process has: a child that has exited and was reaped.
    fn dead_pid() -> u32 {
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        pid
    }

    fn marked(dir: &Path, kind: Kind, extra: &str) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(MARKER), marker_text(kind)).unwrap();
        fs::write(dir.join("manifest.json"), extra).unwrap();
    }

    #[test]
    fn staged_names_parse() {
        assert_eq!(
            parse_staged_name(".my.run.partial-123"),
            Some(("my.run", "partial", 123))
        );
        assert_eq!(parse_staged_name(".x.old-7"), Some(("x", "old", 7)));
        assert_eq!(parse_staged_name(".x.old-"), None);
        assert_eq!(parse_staged_name("x.old-7"), None);
        assert_eq!(parse_staged_name(".x.old-7a"), None);
    }

    #[test]
    fn owners() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        fs::create_dir(p.join("empty")).unwrap();
        assert_eq!(owner(&p.join("empty")), Some(Owner::Empty));
        marked(&p.join("m"), Kind::Plan, "{}");
        assert_eq!(owner(&p.join("m")), Some(Owner::Marked(Some(Kind::Plan))));
        fs::create_dir(p.join("legacy")).unwrap();
        fs::write(
            p.join("legacy/manifest.json"),
            r#"{"coldsim_version":"0.1.0","git_commit":"x","command":[],"scenario_sha256":"y"}"#,
        )
        .unwrap();
        assert_eq!(owner(&p.join("legacy")), Some(Owner::LegacyResults));
        fs::create_dir(p.join("fake")).unwrap();
        fs::write(p.join("fake/manifest.json"), "{}").unwrap();
        assert_eq!(owner(&p.join("fake")), None);
        fs::create_dir_all(p.join("rep/plots")).unwrap();
        fs::write(p.join("rep/report.html"), "<html>").unwrap();
        fs::write(p.join("rep/plots/a.svg"), "<svg>").unwrap();
        assert_eq!(owner(&p.join("rep")), Some(Owner::LegacyReport));
        fs::write(p.join("rep/plots/notes.txt"), "mine").unwrap();
        assert_eq!(owner(&p.join("rep")), None);
        fs::write(p.join("file"), "x").unwrap();
        assert_eq!(owner(&p.join("file")), None);
        std::os::unix::fs::symlink(p.join("m"), p.join("link")).unwrap();
        assert_eq!(owner(&p.join("link")), None);
    }

    #[test]
    fn recovery_of_interrupted_swaps() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        let pid = dead_pid();
        // The kill fell between the two renames: no dest, old aside.
        marked(&p.join(format!(".a.old-{pid}")), Kind::Run, "old a");
        // The kill fell after the new folder was in: both.
        marked(&p.join("b"), Kind::Run, "new b");
        marked(&p.join(format!(".b.old-{pid}")), Kind::Run, "old b");
        // A partial folder and a temporary file of a killed process.
        marked(&p.join(format!(".c.partial-{pid}")), Kind::Run, "");
        fs::write(
            p.join(format!(".prof.toml.tmp-{pid}")),
            "# coldsim calibration",
        )
        .unwrap();
        // Not coldsim's, or of a running process: left alone.
        fs::create_dir(p.join(format!(".d.partial-{pid}"))).unwrap();
        fs::write(p.join(format!(".d.partial-{pid}/mine.txt")), "x").unwrap();
        fs::write(p.join(format!(".e.tmp-{pid}")), "user text").unwrap();
        // PID 1 always runs.
        marked(&p.join(".f.partial-1"), Kind::Run, "");
        // Staged on another machine sharing the folder: its PID means
        // nothing here.
        let far = p.join(format!(".g.partial-{pid}"));
        fs::create_dir(&far).unwrap();
        fs::write(
            far.join(MARKER),
            format!(
                "{MARKER_LINE}, version 0.1.0\nkind: run\nhost: elsewhere-{}\n",
                this_host()
            ),
        )
        .unwrap();
        let done = recover(p);
        assert_eq!(done.len(), 4, "{done:?}");
        assert_eq!(
            fs::read_to_string(p.join("a/manifest.json")).unwrap(),
            "old a"
        );
        assert_eq!(
            fs::read_to_string(p.join("b/manifest.json")).unwrap(),
            "new b"
        );
        let mut left: Vec<String> = fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".d.partial-".to_string() + &pid.to_string(),
                format!(".e.tmp-{pid}"),
                ".f.partial-1".into(),
                format!(".g.partial-{pid}"),
                "a".into(),
                "b".into()
            ]
        );
    }

    #[test]
    fn paths_resolve_dot_dot_and_links() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        fs::create_dir_all(root.join("x/y")).unwrap();
        assert_eq!(resolve(&root.join("x/y/..")).unwrap(), root.join("x"));
        assert_eq!(resolve(&root.join("x/./new/..")).unwrap(), root.join("x"));
        std::os::unix::fs::symlink(root.join("x/y"), root.join("l")).unwrap();
        // `l/..` is the parent of the link's target, as the system sees it.
        assert_eq!(resolve(&root.join("l/..")).unwrap(), root.join("x"));
    }
}
