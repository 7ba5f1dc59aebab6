//! What serde cannot check in a scenario: positive durations, known app
//! names, a function that fits on a host, keys that depend on each other.
//! Every independent mistake is reported, one line each; each component's
//! table is checked by its own [`Validate`].

use std::collections::BTreeSet;

use super::apps::default_memory;
use super::{AppCfg, FunctionCfg, Scenario};
use crate::cfg::{Check, Validate};
use crate::error::{Error, Result};

/// Checks a scenario. Every mistake becomes a line `origin: prefix +
/// key.path: message` (`prefix` names a sweep point); Ok when there is
/// none.
pub fn validate(s: &Scenario, origin: &str, prefix: &str) -> Result<()> {
    let mut c = Check::new();
    s.validate(&mut c);
    let mut errors: Vec<Error> = c
        .into_errors()
        .into_iter()
        .map(|e| Error::input(format!("{origin}: {prefix}{}", e.path), e.msg))
        .collect();
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Inputs(errors)),
    }
}

impl Validate for Scenario {
    fn validate(&self, c: &mut Check) {
        let s = self;
        if s.name.is_empty()
            || !s
                .name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'))
            || s.name.starts_with('.')
        {
            c.err(
                "name",
                format!(
                    "expected a name of letters, digits, '-', '_' or '.' (it names the results folder), found \"{}\"",
                    s.name
                ),
            );
        }
        if s.duration.is_zero() {
            c.err("duration", "must be greater than zero");
        }
        if s.calibration.as_ref().is_some_and(|p| p.trim().is_empty()) {
            c.err(
                "calibration",
                "expected the path of a profile written by `coldsim calibrate`",
            );
        }
        if s.hosts.count == 0 {
            c.err("hosts.count", "expected at least 1 host");
        }
        if s.hosts.memory_mb.0 == 0 {
            c.err("hosts.memory_mb", "must be greater than zero");
        }
        if s.hosts.cores == 0 {
            c.err("hosts.cores", "expected at least 1 core");
        }
        if s.queue.timeout.is_zero() {
            c.err(
                "queue.timeout",
                "must be greater than zero (use max_len = 0 for no queue)",
            );
        }
        c.nested("placement", &s.placement);
        c.nested("keepalive", &s.keepalive);
        c.nested("eviction", &s.eviction);
        if s.limits.max_concurrency == Some(0) {
            c.err(
                "limits.max_concurrency",
                "expected at least 1 (leave it out for no limit)",
            );
        }
        if s.state.load_bandwidth.is_zero() {
            c.err("state.load_bandwidth", "must be greater than zero");
        }
        c.nested("snapshots", &s.snapshots);
        c.nested("retry", &s.retry);
        c.at("faults", |c| {
            if let Err((key, msg)) = s.faults.validate(s.hosts.count) {
                c.err(&key, msg);
            }
        });
        c.at("billing", |c| {
            if let Err((key, msg)) = s.billing.validate() {
                c.err(&key, msg);
            }
        });
        if s.report.interval.is_some_and(|i| i.is_zero()) {
            c.err(
                "report.interval",
                "must be greater than zero (leave it out for no time series)",
            );
        }
        let host_mb = s.hosts.memory_mb.0;
        let mut app_names = BTreeSet::new();
        for (i, a) in s.apps.iter().enumerate() {
            c.at(&format!("apps[{i}]"), |c| {
                check_app(a, host_mb, &mut app_names, c)
            });
        }
        c.nested("workload", &s.workload);
        let own_functions = s.workload.is_functions();
        if own_functions && s.functions.is_empty() {
            c.err("functions", "expected at least one [[functions]] entry");
        }
        if !own_functions && !s.functions.is_empty() {
            c.err(
                "functions",
                "[[functions]] belong to workload kind \"functions\"; this workload defines its own functions",
            );
        }
        if !own_functions && !s.apps.is_empty() {
            c.err(
                "apps",
                "[[apps]] belong to workload kind \"functions\"; this workload defines its own apps",
            );
        }
        let mut fn_names = BTreeSet::new();
        for (i, f) in s.functions.iter().enumerate() {
            c.at(&format!("functions[{i}]"), |c| {
                check_function(f, host_mb, &app_names, &mut fn_names, c)
            });
        }
        if let Some(sw) = &s.sweep
            && sw.replicates == 0
        {
            c.err("sweep.replicates", "expected at least 1");
        }
    }
}

fn check_app<'a>(a: &'a AppCfg, host_mb: u64, names: &mut BTreeSet<&'a str>, c: &mut Check) {
    if a.name.is_empty() || !names.insert(a.name.as_str()) {
        c.err(
            "name",
            format!(
                "expected a unique, non-empty app name, found \"{}\"",
                a.name
            ),
        );
    }
    c.result("memory_mb", check_memory(a.memory_mb.0, host_mb));
    c.result("init", a.init.validate(true));
    check_app_extras(
        a.memory_mb.0,
        a.state_mb.0,
        a.snapshot_mb.map(|m| m.0),
        a.concurrency,
        c,
    );
}

fn check_function<'a>(
    f: &'a FunctionCfg,
    host_mb: u64,
    app_names: &BTreeSet<&str>,
    fn_names: &mut BTreeSet<&'a str>,
    c: &mut Check,
) {
    if f.name.is_empty() || !fn_names.insert(f.name.as_str()) {
        c.err(
            "name",
            format!(
                "expected a unique, non-empty function name, found \"{}\"",
                f.name
            ),
        );
    }
    match &f.app {
        Some(app) => {
            if !app_names.contains(app.as_str()) {
                c.err("app", format!("no [[apps]] entry is named \"{app}\""));
            }
            let app_keys = [
                ("memory_mb", f.memory_mb.is_some(), "memory"),
                (
                    "min_instances",
                    f.min_instances.is_some(),
                    "provisioned concurrency",
                ),
                ("init", f.init.is_some(), "init time"),
                ("state_mb", f.state_mb.is_some(), "state"),
                ("snapshot_mb", f.snapshot_mb.is_some(), "the snapshot size"),
                (
                    "concurrency",
                    f.concurrency.is_some(),
                    "per-instance concurrency",
                ),
            ];
            for (key, _, what) in app_keys.iter().filter(|k| k.1) {
                c.err(
                    key,
                    format!("{what} belongs to the app; set it in the [[apps]] entry \"{app}\""),
                );
            }
        }
        None => {
            if app_names.contains(f.name.as_str()) {
                c.err(
                    "name",
                    format!(
                        "\"{}\" names no app but an app of that name exists; add app = \"{}\"",
                        f.name, f.name
                    ),
                );
            }
            if let Some(m) = f.memory_mb {
                c.result("memory_mb", check_memory(m.0, host_mb));
            }
            if let Some(d) = &f.init {
                c.result("init", d.validate(true));
            }
            let mem = f.memory_mb.unwrap_or_else(default_memory).0;
            check_app_extras(
                mem,
                f.state_mb.unwrap_or_default().0,
                f.snapshot_mb.map(|m| m.0),
                f.concurrency.unwrap_or(1),
                c,
            );
        }
    }
    c.nested("retry", &f.retry);
    if let Some(m) = &f.memory_used {
        c.result("memory_used", m.validate());
    }
    if f.max_concurrency == Some(0) {
        c.err(
            "max_concurrency",
            "expected at least 1 (leave it out for no limit)",
        );
    }
    c.result("exec", f.exec.validate(false));
    c.nested("arrivals", &f.arrivals);
}

/// Checks an app's state, snapshot size and concurrency.
fn check_app_extras(
    memory_mb: u64,
    state_mb: u64,
    snapshot_mb: Option<u64>,
    concurrency: u32,
    c: &mut Check,
) {
    if state_mb > memory_mb {
        c.err(
            "state_mb",
            format!("{state_mb} MB of state does not fit in the instance's {memory_mb} MB"),
        );
    }
    if snapshot_mb == Some(0) {
        c.err("snapshot_mb", "must be greater than zero");
    }
    if concurrency == 0 {
        c.err("concurrency", "expected at least 1 invocation per instance");
    }
}

fn check_memory(mb: u64, host_mb: u64) -> Result<(), String> {
    if mb == 0 {
        return Err("must be greater than zero".into());
    }
    if mb > host_mb {
        return Err(format!(
            "{mb} MB is larger than every host (hosts.memory_mb = {host_mb})"
        ));
    }
    Ok(())
}
