//! Arrival processes of synthetic functions.
//!
//! A [`Process`] keeps its own clock and yields its arrival times one by
//! one, in increasing order, drawing from the stream it is handed. Each is
//! configured by an [`ArrivalsCfg`] from the scenario.

use crate::engine::RngStream;
use crate::error::Result;
use crate::scenario::ArrivalsCfg;
use crate::time::{SimDuration, SimTime};

use super::Context;

/// A running arrival process.
#[derive(Clone, Debug)]
pub enum Process {
    /// Exponential gaps with this mean, in seconds.
    Poisson { mean_gap_s: f64, now: SimTime },
}

impl Process {
    /// A process from its scenario configuration; `rate_scale` multiplies
    /// its rate (1 for a function's own process; a population gives each
    /// function its share).
    pub fn new(cfg: &ArrivalsCfg, rate_scale: f64, _ctx: &Context) -> Result<Process> {
        Ok(match cfg {
            ArrivalsCfg::Poisson { rate } => Process::Poisson {
                mean_gap_s: 1.0 / (rate.per_sec() * rate_scale),
                now: SimTime::ZERO,
            },
        })
    }

    /// The next arrival time, or None when the process has no more.
    #[inline]
    pub fn next(&mut self, rng: &mut RngStream) -> Option<SimTime> {
        match self {
            Process::Poisson { mean_gap_s, now } => {
                *now += SimDuration::from_secs_f64(rng.exp(*mean_gap_s));
                Some(*now)
            }
        }
    }

    /// The long-run mean rate, arrivals per second.
    pub fn mean_rate(&self) -> f64 {
        match self {
            Process::Poisson { mean_gap_s, .. } => 1.0 / mean_gap_s,
        }
    }
}
