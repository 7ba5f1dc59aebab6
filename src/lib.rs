//! coldsim: a deterministic discrete-event simulator and benchmarking
//! harness for stateless compute (serverless / FaaS).
//!
//! The map of the crate, in the order data flows through a run:
//!
//! * [`scenario`]: the TOML schema, defaults, validation with precise
//!   errors, and sweep grids. `scenario.toml -> ScenarioFile`.
//! * [`workload`]: arrival processes as pull iterators of
//!   [`model::Invocation`]s sorted by arrival time.
//! * [`engine`]: the clock, the event heap (ties pop in insertion order),
//!   the merge of the arrival stream with the heap, and seeded random
//!   streams. Knows nothing about FaaS.
//! * [`platform`]: the sans-IO core. Hosts, instances and the queue; it is
//!   handed `now` and an input and returns actions. Never reads a clock,
//!   never draws a random number, never does I/O.
//! * [`policy`]: one trait per decision (placement, keep-alive), one file
//!   per implementation.
//! * [`sim`]: the simulator, which performs the platform's actions in
//!   virtual time and feeds [`metrics`].
//! * [`metrics`]: HDR histograms, counters and time integrals.
//! * [`report`]: CSV files, manifest.json, the printed summary, progress.
//! * [`plan`]: capacity planning: the smallest value of an integer key
//!   that meets a service-level objective, by bisection over replicates.
//! * [`sweep`]: runs a scenario file (one run, or a sweep in parallel with
//!   rayon) into a results folder; runs one shard of a sweep, and merges
//!   the shards' folders into the folder one run would write.
//! * [`time`]: integer-nanosecond time and the human units of scenario
//!   files.
//! * [`executor`]: the real executor's process layer: worker processes
//!   that build real state, fork from templates, serve invocations over a
//!   socket with verified checksums, and calibration of their costs
//!   (Linux only).
//!
//! Determinism is a contract: the same scenario and seed give byte-identical
//! CSV files, whatever the thread count; see `engine` for the ordering and
//! randomness rules that make it so.

pub mod calibration;
pub mod cfg;
pub mod dist;
pub mod engine;
pub mod error;
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
