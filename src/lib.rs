//! coldsim: a deterministic discrete-event simulator and benchmarking
//! harness for stateless compute (serverless / FaaS).
//!
//! # Layers
//!
//! The crate is built in layers; each imports only from the layers below
//! it (a test, `tests/layers.rs`, fails on an upward `crate::` path):
//!
//! | layer | modules | what they hold |
//! |---|---|---|
//! | 0 | [`time`], [`error`] | integer-nanosecond time and human units; the error type |
//! | 1 | [`cfg`](mod@cfg), [`engine`] | key paths, tagged tables, validation; the event queue, its merge with the arrival stream, seeded random streams (knows nothing about FaaS) |
//! | 2 | [`dist`] | distributions of durations and of memory sizes |
//! | 3 | [`model`] | invocations, the functions and apps of a run |
//! | 4 | [`platform`] | the sans-IO core: protocol (events in, actions out), instances, admission, lifecycle, kills; its decision traits |
//! | 5 | [`policy`] | the decisions' implementations, a folder per decision, each owning its configuration |
//! | 6 | [`workload`], [`faults`], [`metrics`], [`calibration`] | arrivals and trace readers; fault injection; histograms, counters, billing, time series; measured start costs |
//! | 7 | [`scenario`] | the TOML schema, which assembles the components' configurations and validates them |
//! | 8 | [`run`] | setup (a scenario becomes a [`run::RunSpec`] once) and the one action loop ([`run::Core`], [`run::Performer`]) |
//! | 9 | [`sim`] | the performer in virtual time |
//! | 10 | `executor` | the performer with real worker processes (cargo feature `executor`, Linux) |
//! | 11 | [`report`] | outputs: CSV rows, manifest, results folders, plots, reports |
//! | 12 | [`sweep`], `compare` | sweeps, shards and merges; the simulator against the real executor (`coldsim compare`) |
//! | 13 | [`plan`] | capacity planning |
//!
//! Modules of one layer do not import each other. Nothing below `run` sees a [`scenario::Scenario`]. The binary
//! (`src/main.rs`) only parses arguments, calls the library and maps errors
//! to exit codes.
//!
//! # A run
//!
//! ```text
//! scenario.toml --parse/validate--> Scenario --RunSpec::new--> RunSpec
//! RunSpec.workload --> Iterator<Invocation> (sorted by arrival)
//! engine: merge(arrival stream, event queue) --> next input
//! Core: platform.handle(now, input) --> actions --> Performer (start, execute, arm, end)
//!       + metrics.observe(action)
//! end of run --> RunResult --> report (CSV + manifest.json + plots)
//! ```
//!
//! From Rust, [`scenario::Scenario::builder`] builds a scenario without
//! TOML and [`sim::run_scenario`] runs it; see `examples/`.
//!
//! Determinism is a contract: the same scenario and seed give byte-identical
//! CSV files, whatever the thread count; see [`engine`] for the ordering and
//! randomness rules that make it so.

pub mod calibration;
pub mod cfg;
#[cfg(feature = "executor")]
pub mod compare;
pub mod dist;
pub mod engine;
pub mod error;
#[cfg(feature = "executor")]
pub mod executor;
pub mod faults;
pub mod metrics;
pub mod model;
pub mod plan;
pub mod platform;
pub mod policy;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod time;
pub mod workload;

pub use error::{Error, Result};
