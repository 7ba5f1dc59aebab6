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

mod file;
mod folder;
mod paths;
mod rename;
mod signals;
mod snapshot;
mod stale;
#[cfg(test)]
mod tests;

#[allow(unused_imports)]
pub use file::*;
#[allow(unused_imports)]
pub use folder::*;
#[allow(unused_imports)]
pub use paths::*;
#[allow(unused_imports)]
pub use rename::*;
#[allow(unused_imports)]
pub use signals::*;
#[allow(unused_imports)]
pub use snapshot::*;
#[allow(unused_imports)]
pub use stale::*;

/// The marker file of every folder coldsim writes.
pub const MARKER: &str = ".coldsim";

/// How the first line of [`MARKER`] starts.
pub const MARKER_LINE: &str = "coldsim results folder";

/// How a calibration profile (or any single file coldsim writes through
/// [`AtomicFile`]) starts, so that a stale temporary file can be recognised.
pub(super) const FILE_HEADER: &[u8] = b"# coldsim";

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
pub(super) fn this_host() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(crate::report::manifest::host_name)
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
pub(super) fn marker_of(dir: &Path) -> Option<String> {
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
pub(super) fn marker_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .skip(1)
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// Whether a folder left behind may be cleaned up from this machine: its
/// marker names this host, or no host (an older coldsim's, or none).
pub(super) fn ours_here(dir: &Path) -> bool {
    marker_of(dir)
        .and_then(|t| marker_field(&t, "host").map(|h| h == this_host()))
        .unwrap_or(true)
}

/// A manifest.json that parses and has coldsim's provenance fields.
pub(super) fn is_coldsim_manifest(p: &Path) -> bool {
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
pub(super) fn is_legacy_report(dir: &Path, names: &[String]) -> bool {
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
