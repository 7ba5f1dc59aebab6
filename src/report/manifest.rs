//! manifest.json: everything needed to reproduce a result, and the figures
//! that depend on the machine (wall time, events per second).

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The manifest of one `coldsim run`.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub coldsim_version: String,
    pub git_commit: String,
    pub command: Vec<String>,
    pub scenario_file: String,
    pub scenario_name: String,
    pub scenario_sha256: String,
    pub seed: u64,
    pub sweep_points: usize,
    pub replicates: u32,
    /// The runs in this folder: all of them, or those of its shard.
    pub runs: usize,
    /// Which slice of the sweep this folder holds (`coldsim run --shard`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::sweep::Shard>,
    pub host: String,
    pub threads: usize,
    pub started_at_utc: String,
    pub wall_seconds: f64,
    pub events: u64,
    pub events_per_second: f64,
    pub invocations: u64,
    pub invocations_per_second: f64,
    /// Trace files read and rows skipped or functions dropped (first run).
    pub workload: crate::workload::WorkloadStats,
    /// The calibration profile that priced the starts (the scenario's
    /// `calibration` key); absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<ProfileRecord>,
    pub scenario_text: String,
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

impl Manifest {
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
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

/// A UNIX time as RFC 3339 UTC (`2026-11-26T22:30:34Z`).
pub fn rfc3339_utc(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Civil from days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
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
