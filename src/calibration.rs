//! Calibration profiles: start costs measured with real worker processes
//! by `coldsim calibrate` (see `executor::calibrate`), as plain data the
//! simulator reads to price starts (a scenario's `calibration` key).
//!
//! # The profile (schema 1)
//!
//! ```toml
//! schema = 1                        # this layout
//! quick = false                     # measured with --quick
//! [machine]
//! cores = 2                         # available parallelism
//! cpu_model = "AMD EPYC"            # /proc/cpuinfo "model name"
//! kernel = "6.18.44"                # /proc/sys/kernel/osrelease
//! date = "2026-03-01T12:00:00Z"     # UTC, when the measurement ended
//! coldsim_version = "0.1.0"
//! [cold]                            # likewise [fork] and [warm]
//! fixed_ms = 1.9                    # fitted cost = fixed_ms + per_mb_ms * state_mb
//! per_mb_ms = 0.41
//! [[cold.points]]                   # one per size, sizes increasing
//! state_mb = 0
//! samples = 9
//! median_ms = 1.8
//! p10_ms = 1.7
//! p90_ms = 2.2
//! mad_ms = 0.1
//! [dispatch]                        # no-op round trip, microseconds
//! samples = 1000
//! median_us = 45.0
//! p10_us = 40.0
//! p90_us = 60.0
//! mad_us = 3.0
//! ```
//!
//! [`CalibrationProfile::load`] reads and validates a profile, naming the
//! file and the place (line and column, or key path) of any error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// SHA-256 of `bytes` as lowercase hex.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The schema version this code reads and writes.
pub const SCHEMA: u32 = 1;

/// A measured start-cost profile. See the module doc for the schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationProfile {
    pub schema: u32,
    pub quick: bool,
    pub machine: Machine,
    pub cold: StartCost,
    pub fork: StartCost,
    pub warm: StartCost,
    pub dispatch: Dispatch,
}

/// Where the profile was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub cores: u32,
    pub cpu_model: String,
    pub kernel: String,
    pub date: String,
    pub coldsim_version: String,
}

/// One start kind: the fitted line and the measured points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartCost {
    pub fixed_ms: f64,
    pub per_mb_ms: f64,
    pub points: Vec<Point>,
}

/// The samples at one state size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    pub state_mb: u32,
    pub samples: u32,
    pub median_ms: f64,
    pub p10_ms: f64,
    pub p90_ms: f64,
    pub mad_ms: f64,
}

/// The no-op invocation round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dispatch {
    pub samples: u32,
    pub median_us: f64,
    pub p10_us: f64,
    pub p90_us: f64,
    pub mad_us: f64,
}

impl StartCost {
    /// The fitted cost of a start with `state_mb` MiB of state.
    pub fn predict(&self, state_mb: u32) -> Duration {
        let ms = self.fixed_ms + self.per_mb_ms * f64::from(state_mb);
        Duration::from_secs_f64(ms.max(0.0) / 1e3)
    }

    /// The cost of a start with `state_mb` MiB of state as the simulator
    /// prices it: the measured medians joined by straight lines; below the
    /// smallest size measured, its median; beyond the largest, its median
    /// plus `per_mb_ms` for each MiB more. The fitted line alone is pulled
    /// by the large sizes and misses the small ones by milliseconds (a
    /// cold start with no state is a few ms, the line's intercept can be
    /// several times that), which is the range `coldsim compare` runs in.
    pub fn at(&self, state_mb: u64) -> Duration {
        let x = state_mb as f64;
        let ms = match self.points.iter().position(|p| f64::from(p.state_mb) >= x) {
            None => match self.points.last() {
                Some(last) => last.median_ms + self.per_mb_ms * (x - f64::from(last.state_mb)),
                None => self.fixed_ms + self.per_mb_ms * x,
            },
            Some(0) => self.points[0].median_ms,
            Some(i) => {
                let (a, b) = (&self.points[i - 1], &self.points[i]);
                let (xa, xb) = (f64::from(a.state_mb), f64::from(b.state_mb));
                a.median_ms + (b.median_ms - a.median_ms) * (x - xa) / (xb - xa)
            }
        };
        Duration::from_secs_f64(ms.max(0.0) / 1e3)
    }
}

/// A profile named by a scenario's `calibration` key, as loaded.
#[derive(Debug, Clone)]
pub struct LoadedProfile {
    /// The file, as reached from the current folder.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes (recorded in manifests).
    pub sha256: String,
    pub profile: CalibrationProfile,
}

impl LoadedProfile {
    /// Reads, hashes and validates a profile file.
    pub fn load(path: &Path) -> Result<LoadedProfile> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(&origin, format!("cannot read profile: {e}")))?;
        let profile = CalibrationProfile::parse_str(&text, &origin)?;
        Ok(LoadedProfile {
            path: path.to_path_buf(),
            sha256: sha256_hex(text.as_bytes()),
            profile,
        })
    }

    /// The profile of a scenario's `calibration` key (None without one),
    /// resolved against `base_dir`, the scenario file's folder. A missing
    /// or bad file is an input error naming the file.
    pub fn for_key(calibration: Option<&str>, base_dir: &Path) -> Result<Option<Self>> {
        let Some(rel) = calibration else {
            return Ok(None);
        };
        let path = base_dir.join(rel);
        if !path.is_file() {
            return Err(Error::input(
                path.display().to_string(),
                format!(
                    "calibration: no such profile (the scenario's `calibration = \"{rel}\"` is relative to its folder); write one with `coldsim calibrate --out {}`",
                    path.display()
                ),
            ));
        }
        LoadedProfile::load(&path).map(Some)
    }
}

const HEADER: &str = "\
# coldsim calibration profile (schema 1): start costs measured with real
# worker processes by `coldsim calibrate`. Times in milliseconds (ms) or
# microseconds (us); a start kind's cost is fixed_ms + per_mb_ms * state_mb,
# fitted by least squares to the medians of its points. See
# src/calibration.rs for the meaning of every key.
";

impl CalibrationProfile {
    /// Reads and validates a profile file.
    pub fn load(path: &Path) -> Result<CalibrationProfile> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(&origin, format!("cannot read profile: {e}")))?;
        CalibrationProfile::parse_str(&text, &origin)
    }

    /// Parses and validates profile text; `origin` names it in errors.
    pub fn parse_str(text: &str, origin: &str) -> Result<CalibrationProfile> {
        let de = toml::Deserializer::parse(text)
            .map_err(|e| crate::cfg::toml_error(text, origin, "", &e))?;
        let p: CalibrationProfile = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            crate::cfg::toml_error(text, origin, &path, e.inner())
        })?;
        p.validate(origin)?;
        Ok(p)
    }

    fn validate(&self, origin: &str) -> Result<()> {
        let err = |path: String, msg: &str| Err(Error::input(format!("{origin}: {path}"), msg));
        if self.schema != SCHEMA {
            return err(
                "schema".into(),
                &format!(
                    "expected {SCHEMA} (this coldsim reads schema {SCHEMA}), found {}",
                    self.schema
                ),
            );
        }
        if self.machine.cores == 0 {
            return err("machine.cores".into(), "expected at least 1");
        }
        for (name, c) in [
            ("cold", &self.cold),
            ("fork", &self.fork),
            ("warm", &self.warm),
        ] {
            for (key, v) in [("fixed_ms", c.fixed_ms), ("per_mb_ms", c.per_mb_ms)] {
                if !(v.is_finite() && v >= 0.0) {
                    return err(format!("{name}.{key}"), "expected a finite number >= 0");
                }
            }
            if c.points.is_empty() {
                return err(format!("{name}.points"), "expected at least one point");
            }
            for (i, p) in c.points.iter().enumerate() {
                let at = |k: &str| format!("{name}.points[{i}].{k}");
                if i > 0 && p.state_mb <= c.points[i - 1].state_mb {
                    return err(at("state_mb"), "expected sizes in increasing order");
                }
                if p.samples == 0 {
                    return err(at("samples"), "expected at least 1");
                }
                for (k, v) in [
                    ("median_ms", p.median_ms),
                    ("p10_ms", p.p10_ms),
                    ("p90_ms", p.p90_ms),
                    ("mad_ms", p.mad_ms),
                ] {
                    if !(v.is_finite() && v >= 0.0) {
                        return err(at(k), "expected a finite number >= 0");
                    }
                }
                if !(p.p10_ms <= p.median_ms && p.median_ms <= p.p90_ms) {
                    return err(at("median_ms"), "expected p10_ms <= median_ms <= p90_ms");
                }
            }
        }
        let d = &self.dispatch;
        if d.samples == 0 {
            return err("dispatch.samples".into(), "expected at least 1");
        }
        for (k, v) in [
            ("median_us", d.median_us),
            ("p10_us", d.p10_us),
            ("p90_us", d.p90_us),
            ("mad_us", d.mad_us),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return err(format!("dispatch.{k}"), "expected a finite number >= 0");
            }
        }
        if !(d.p10_us <= d.median_us && d.median_us <= d.p90_us) {
            return err(
                "dispatch.median_us".into(),
                "expected p10_us <= median_us <= p90_us",
            );
        }
        Ok(())
    }

    /// The profile as TOML, with a header comment.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).unwrap_or_default();
        format!("{HEADER}\n{body}")
    }
}
