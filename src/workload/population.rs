//! Synthetic populations: being written (see the workloads issue).

use serde::{Deserialize, Serialize};

use super::synthetic::FnSource;
use super::{Context, FunctionTable};
use crate::engine::Streams;
use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// The population's scenario keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub functions: u32,
}

impl Config {
    /// Checks what serde cannot; Err(key, message).
    pub fn validate(&self) -> std::result::Result<(), (String, String)> {
        Ok(())
    }
}

pub fn build(
    _cfg: &Config,
    _s: &Scenario,
    _ctx: &Context,
    _streams: &Streams,
) -> Result<(FunctionTable, Vec<FnSource>)> {
    Err(Error::input(
        "workload.kind",
        "populations are not written yet",
    ))
}
