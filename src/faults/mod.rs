//! Faults and provider actions: host failures, spot preemption, planned
//! consolidation, and the retry and billing settings that price them.
//!
//! The stateless contract lets the provider kill, relocate and replicate
//! instances at will; this module decides *when* it does, from the
//! scenario's `[faults]` section and its own random streams, and hands the
//! platform core the events ([`crate::platform::Event::HostFail`],
//! `Preempt`, `Reclaim`, `HostRepair`, `Consolidate`). What a kill does to
//! instances and invocations (retries, lost work, relocations) is the
//! core's business; this module only schedules.
//!
//! Every draw comes from a stream named after the host (`("faults",
//! "fail-<h>")`, `("faults", "spot-<h>")`), so adding a fault kind or a
//! host leaves the other hosts' fault times unchanged, and a run without a
//! `[faults]` section draws nothing: it is byte-identical to one written
//! before faults existed.

use serde::{Deserialize, Serialize};

use crate::dist::{Dist, Sampler};
use crate::engine::{RngStream, Streams};
use crate::model::HostId;
use crate::platform::{Event, HostState};
use crate::time::{SimDuration, SimTime};

/// Which hosts a fault applies to: `count` hosts from `first` (default:
/// all of them).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostRange {
    #[serde(default)]
    pub first: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

impl HostRange {
    /// The hosts, clipped to the cluster.
    pub fn hosts(&self, total: u32) -> impl Iterator<Item = HostId> + use<> {
        let end = match self.count {
            Some(c) => self.first.saturating_add(c).min(total),
            None => total,
        };
        (self.first.min(end)..end).map(HostId)
    }
}

/// `[faults.failures]`: hosts fail and are repaired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailuresCfg {
    #[serde(flatten)]
    pub hosts: HostRange,
    /// Time from a host's start (or repair) to its next failure:
    /// exponential for a constant failure rate (mean = MTBF), Weibull for
    /// one that changes with age.
    pub time_to_failure: Dist,
    /// Time to repair. Default 10 minutes.
    #[serde(default = "FailuresCfg::default_repair")]
    pub repair: Dist,
}

impl FailuresCfg {
    fn default_repair() -> Dist {
        Dist::Constant {
            value: SimDuration::from_secs(600),
        }
    }
}

/// `[faults.preemption]`: spot or harvested capacity is reclaimed after a
/// notice and comes back later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreemptionCfg {
    #[serde(flatten)]
    pub hosts: HostRange,
    /// Time from a host's start (or return) to its next preemption notice.
    pub interval: Dist,
    /// Notice before the reclaim. Default 2 minutes, EC2 Spot's
    /// interruption notice.
    #[serde(default = "PreemptionCfg::default_notice")]
    pub notice: SimDuration,
    /// How long the reclaimed capacity stays away. Default 30 minutes.
    #[serde(default = "PreemptionCfg::default_down")]
    pub down: Dist,
    /// During the notice, move idle instances to other hosts (true) or
    /// evict them (false).
    #[serde(default = "yes")]
    pub relocate: bool,
}

fn yes() -> bool {
    true
}

impl PreemptionCfg {
    fn default_notice() -> SimDuration {
        SimDuration::from_secs(120)
    }
    fn default_down() -> Dist {
        Dist::Constant {
            value: SimDuration::from_secs(1800),
        }
    }
}

/// `[faults.consolidation]`: a periodic controller that empties lightly
/// used hosts and powers them off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsolidationCfg {
    /// How often the controller runs.
    pub every: SimDuration,
    /// `consolidate` (empty lightly used hosts, power them off) or `spread`
    /// (move idle instances off heavily used hosts).
    #[serde(default)]
    pub mode: ControllerMode,
    /// A host with only idle instances and at most this fraction of its
    /// memory in use is emptied. Default 0.25.
    #[serde(default = "ConsolidationCfg::default_threshold")]
    pub threshold: f64,
    /// Power empty hosts off (and on again on demand). Default true.
    #[serde(default = "yes")]
    pub power_off: bool,
    /// Hosts kept on whatever happens. Default 1.
    #[serde(default = "ConsolidationCfg::default_min_on")]
    pub min_on: u32,
}

/// What the periodic controller does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControllerMode {
    #[default]
    Consolidate,
    Spread,
}

impl ConsolidationCfg {
    fn default_threshold() -> f64 {
        0.25
    }
    fn default_min_on() -> u32 {
        1
    }
}

/// `[faults]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsCfg {
    /// Instances are recycled after this long, when next idle (providers
    /// recycle execution environments after some hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<SimDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<FailuresCfg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preemption: Option<PreemptionCfg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consolidation: Option<ConsolidationCfg>,
}

impl FaultsCfg {
    pub fn is_empty(&self) -> bool {
        *self == FaultsCfg::default()
    }

    /// Checks what serde cannot; Err names the key.
    pub fn validate(&self, hosts: u32) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((k.to_string(), m));
        let range = |k: &str, r: &HostRange| -> Result<(), (String, String)> {
            if r.first >= hosts || r.count == Some(0) {
                return bad(
                    k,
                    format!("expected hosts within 0..{hosts} (first < hosts.count, count >= 1)"),
                );
            }
            Ok(())
        };
        if self.max_lifetime.is_some_and(|d| d.is_zero()) {
            return bad("max_lifetime", "must be greater than zero".into());
        }
        if let Some(f) = &self.failures {
            range("failures.first", &f.hosts)?;
            if let Err(m) = f.time_to_failure.validate(false) {
                return bad("failures.time_to_failure", m);
            }
            if let Err(m) = f.repair.validate(false) {
                return bad("failures.repair", m);
            }
        }
        if let Some(p) = &self.preemption {
            range("preemption.first", &p.hosts)?;
            if let Err(m) = p.interval.validate(false) {
                return bad("preemption.interval", m);
            }
            if let Err(m) = p.down.validate(false) {
                return bad("preemption.down", m);
            }
        }
        if let Some(c) = &self.consolidation {
            if c.every.is_zero() {
                return bad("consolidation.every", "must be greater than zero".into());
            }
            if !(c.threshold.is_finite() && (0.0..=1.0).contains(&c.threshold)) {
                return bad(
                    "consolidation.threshold",
                    "expected a fraction of host memory from 0 to 1".into(),
                );
            }
        }
        Ok(())
    }
}

/// Schedules the fault events of a run. The run calls [`Injector::start`]
/// once and [`Injector::after`] after the platform has handled each fault
/// event, to schedule what follows it (a repair after a failure, the next
/// failure after a repair, ...), each time through `engine(at, event)`,
/// which arms a timer. Nothing is scheduled at or after the horizon.
pub struct Injector {
    horizon: SimTime,
    failures: Option<(FailuresCfg, Sampler, Sampler)>,
    preemption: Option<(PreemptionCfg, Sampler, Sampler)>,
    consolidation: Option<SimDuration>,
    /// Per host: failure stream and spot stream.
    fail_rng: Vec<RngStream>,
    spot_rng: Vec<RngStream>,
}

impl Injector {
    pub fn new(
        cfg: &FaultsCfg,
        hosts: u32,
        horizon: SimTime,
        streams: &Streams,
    ) -> Result<Injector, String> {
        let failures = match &cfg.failures {
            Some(f) => Some((f.clone(), f.time_to_failure.sampler()?, f.repair.sampler()?)),
            None => None,
        };
        let preemption = match &cfg.preemption {
            Some(p) => Some((p.clone(), p.interval.sampler()?, p.down.sampler()?)),
            None => None,
        };
        Ok(Injector {
            horizon,
            failures,
            preemption,
            consolidation: cfg.consolidation.as_ref().map(|c| c.every),
            fail_rng: (0..hosts)
                .map(|h| streams.named("faults", &format!("fail-{h}")))
                .collect(),
            spot_rng: (0..hosts)
                .map(|h| streams.named("faults", &format!("spot-{h}")))
                .collect(),
        })
    }

    fn at(&self, engine: &mut dyn FnMut(SimTime, Event), t: SimTime, ev: Event) {
        if t < self.horizon {
            engine(t, ev);
        }
    }

    /// Schedules the first event of every fault kind.
    pub fn start(&mut self, hosts: u32, engine: &mut dyn FnMut(SimTime, Event)) {
        if let Some((f, ttf, _)) = &self.failures {
            for host in f.hosts.hosts(hosts) {
                let d = ttf.sample(&mut self.fail_rng[host.index()]);
                self.at(engine, SimTime::ZERO + d, Event::HostFail { host });
            }
        }
        if let Some((p, interval, _)) = &self.preemption {
            for host in p.hosts.hosts(hosts) {
                let d = interval.sample(&mut self.spot_rng[host.index()]);
                self.at(engine, SimTime::ZERO + d, Event::Preempt { host });
            }
        }
        if let Some(every) = self.consolidation {
            self.at(engine, SimTime::ZERO + every, Event::Consolidate);
        }
    }

    /// Schedules what follows fault event `ev`, handled at `now`, given
    /// the host's state just before the platform handled it (`prior`; Up
    /// for events that name no host). An event the platform ignored (a
    /// host that was already down) restarts its own clock instead, so each
    /// host has at most one pending event of each kind.
    pub fn after(
        &mut self,
        now: SimTime,
        ev: Event,
        prior: HostState,
        engine: &mut dyn FnMut(SimTime, Event),
    ) {
        use HostState::*;
        match ev {
            Event::HostFail { host } => {
                if let Some((_, ttf, repair)) = &self.failures {
                    let rng = &mut self.fail_rng[host.index()];
                    if matches!(prior, Up | Draining) {
                        let d = repair.sample(rng);
                        self.at(engine, now + d, Event::HostRepair { host });
                    } else {
                        let d = ttf.sample(rng);
                        self.at(engine, now + d, Event::HostFail { host });
                    }
                }
            }
            Event::Preempt { host } => {
                if let Some((p, interval, _)) = &self.preemption {
                    if prior == Up {
                        let notice = p.notice;
                        self.at(engine, now + notice, Event::Reclaim { host });
                    } else {
                        let d = interval.sample(&mut self.spot_rng[host.index()]);
                        self.at(engine, now + d, Event::Preempt { host });
                    }
                }
            }
            Event::Reclaim { host } => {
                if let Some((_, interval, down)) = &self.preemption {
                    let rng = &mut self.spot_rng[host.index()];
                    if matches!(prior, Up | Draining) {
                        let d = down.sample(rng);
                        self.at(engine, now + d, Event::HostRepair { host });
                    } else {
                        let d = interval.sample(rng);
                        self.at(engine, now + d, Event::Preempt { host });
                    }
                }
            }
            Event::HostRepair { host } => match prior {
                Failed => {
                    if let Some((_, ttf, _)) = &self.failures {
                        let d = ttf.sample(&mut self.fail_rng[host.index()]);
                        self.at(engine, now + d, Event::HostFail { host });
                    }
                }
                Reclaimed => {
                    if let Some((_, interval, _)) = &self.preemption {
                        let d = interval.sample(&mut self.spot_rng[host.index()]);
                        self.at(engine, now + d, Event::Preempt { host });
                    }
                }
                _ => {}
            },
            Event::Consolidate => {
                if let Some(every) = self.consolidation {
                    self.at(engine, now + every, Event::Consolidate);
                }
            }
            _ => {}
        }
    }
}
