//! manifest.json: everything needed to reproduce a result, and the figures
//! that depend on the machine (wall time, events per second).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::scenario::ScenarioFile;

/// The manifest.json of every folder coldsim writes (`run`, a sweep,
/// `merge`, `plan`, `compare`, `report`): the provenance every result
/// needs (build, command line, scenario file and hash, seed), then the
/// command's own fields (`body`, flattened in place), the files of the
/// folder and the scenario text.
///
/// Field names and order are those of the manifests coldsim has always
/// written; `files` is new: every file of the folder but manifest.json and
/// the `.coldsim` marker, by path relative to the folder, with its SHA-256
/// (`coldsim merge` checks a shard's files against it).
#[derive(Clone, Debug, Serialize)]
pub struct Manifest<B> {
    pub coldsim_version: String,
    pub git_commit: String,
    pub command: Vec<String>,
    pub scenario_file: String,
    pub scenario_name: String,
    pub scenario_sha256: String,
    pub seed: u64,
    #[serde(flatten)]
    pub body: B,
    /// Filled in by [`super::Staging::write_manifest`].
    pub files: BTreeMap<String, String>,
    pub scenario_text: String,
}

impl<B> Manifest<B> {
    /// The provenance of a command that ran `sf` with this build.
    pub fn new(sf: &ScenarioFile, command: &[String], body: B) -> Manifest<B> {
        Manifest {
            coldsim_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: git_commit().to_string(),
            command: command.to_vec(),
            scenario_file: sf.origin.clone(),
            scenario_name: sf.base.name.clone(),
            scenario_sha256: sha256_hex(sf.text.as_bytes()),
            seed: sf.base.seed,
            body,
            files: BTreeMap::new(),
            scenario_text: sf.text.clone(),
        }
    }
}

impl<B> std::ops::Deref for Manifest<B> {
    type Target = B;
    fn deref(&self) -> &B {
        &self.body
    }
}

impl<B: Serialize> Manifest<B> {
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

/// Which calibration profile a run used: its path as read and the SHA-256
/// of its bytes.
#[derive(Clone, Debug, Serialize)]
pub struct ProfileRecord {
    pub path: String,
    pub sha256: String,
}

impl ProfileRecord {
    pub fn of(p: &crate::calibration::LoadedProfile) -> ProfileRecord {
        ProfileRecord {
            path: p.path.display().to_string(),
            sha256: p.sha256.clone(),
        }
    }
}

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The commit coldsim was built from ("unknown" outside a git checkout).
pub fn git_commit() -> &'static str {
    env!("COLDSIM_GIT_COMMIT")
}

/// This machine's host name, or "unknown".
pub fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// A UNIX time as RFC 3339 UTC, to the second (`2026-11-26T22:30:34Z`).
pub fn rfc3339_utc(unix_secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(unix_secs)).to_string()
}

/// The time now as RFC 3339 UTC, to the second (`started_at_utc`).
pub fn now_utc() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_795_732_234), "2026-11-26T22:30:34Z");
    }

    #[test]
    fn sha() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
