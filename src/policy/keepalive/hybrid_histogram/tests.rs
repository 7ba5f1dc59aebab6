//! Unit tests of the hybrid histogram policy: windows for given
//! histories, the forecast, and the fallbacks.

use super::*;

const MIN: u64 = 60_000_000_000;

fn mins(m: f64) -> SimDuration {
    SimDuration::from_secs_f64(m * 60.0)
}

fn inst() -> IdleInstance {
    IdleInstance {
        created: SimTime(0),
        first_idle: SimTime(0),
    }
}

/// Feeds ITs through the trait: idle at t, arrival at t + it.
fn feed(p: &mut HybridHistogram, app: AppId, its: &[SimDuration]) -> SimTime {
    let mut t = SimTime(0);
    for &it in its {
        p.on_idle(app, t, inst());
        t += it;
        p.on_arrival(app, t);
    }
    t
}

#[test]
fn defaults_are_the_papers() {
    let c = Config::default();
    assert_eq!(c.range, SimDuration::from_secs(4 * 3600));
    assert_eq!(c.bin, SimDuration::from_secs(60));
    assert_eq!((c.head_percentile, c.tail_percentile), (5.0, 99.0));
    assert_eq!((c.margin, c.cv_threshold), (0.1, 2.0));
    assert_eq!(c.fallback(), c.range);
    assert!(c.check().is_ok());
}

#[test]
fn ten_minute_its_prewarm_at_nine_and_keep_until_twelve_point_one() {
    let mut p = HybridHistogram::new(Config::default());
    let t = feed(&mut p, AppId(0), &[SimDuration(10 * MIN); 10]);
    // Head and tail in bin 10 ([10, 11) min): pre-warm 10 min - 10% =
    // 9 min; keep-alive 11 min + 10% = 12.1 min; so the pre-warmed
    // instance lives 3.1 min.
    let w = p.windows(AppId(0));
    assert_eq!(w.mode, Mode::Histogram);
    assert_eq!(w.prewarm, SimDuration(9 * MIN));
    assert_eq!(w.keep_alive, SimDuration(12 * MIN + 6 * MIN / 60));
    let d = p.on_idle(AppId(0), t, inst());
    assert_eq!(
        d,
        KeepDecision::Prewarm {
            after: SimDuration(9 * MIN),
            keep: SimDuration(3 * MIN + 6 * MIN / 60),
        }
    );
}

#[test]
fn periodic_timer_of_the_module_doc() {
    let mut p = HybridHistogram::new(Config::default());
    let it = SimDuration(20 * MIN - 10_000_000);
    feed(&mut p, AppId(3), &[it; 12]);
    let w = p.windows(AppId(3));
    assert_eq!(w.prewarm, mins(17.1));
    assert_eq!(w.keep_alive, mins(22.0));
    assert_eq!(
        w.decision(),
        KeepDecision::Prewarm {
            after: mins(17.1),
            keep: mins(4.9)
        }
    );
}

#[test]
fn head_and_tail_of_a_mixed_history() {
    // 19 ITs of 10.5 min and one of 30 min (n = 20). Head: 5% of 20 =
    // 1 IT, reached in bin 10 -> 10 min - 10% = 9 min. Tail: 99% of 20
    // = 19.8 ITs, reached in bin 30 -> 31 min + 10% = 34.1 min.
    // CV = sqrt(240 * (19^2 + 1^2) - 20^2) / 20 = 14.7 >= 2.
    let mut p = HybridHistogram::new(Config::default());
    let mut its = vec![mins(10.5); 19];
    its.push(SimDuration(30 * MIN));
    feed(&mut p, AppId(0), &its);
    let cv = p.cv(AppId(0)).unwrap();
    assert!((cv - (240.0f64 * 362.0 - 400.0).sqrt() / 20.0).abs() < 1e-12);
    let w = p.windows(AppId(0));
    assert_eq!(w.mode, Mode::Histogram);
    assert_eq!(w.prewarm, mins(9.0));
    assert_eq!(w.keep_alive, mins(34.1));
    assert_eq!(
        w.decision(),
        KeepDecision::Prewarm {
            after: mins(9.0),
            keep: mins(25.1)
        }
    );
}

#[test]
fn head_in_first_bin_keeps_for_the_tail() {
    // ITs of 20 s and 90 s: head in bin 0 (pre-warm 0), tail in bin 1
    // -> keep 2 min + 10% = 132 s after the execution.
    let mut p = HybridHistogram::new(Config::default());
    let mut its = vec![SimDuration::from_secs(20); 8];
    its.extend([SimDuration::from_secs(90); 4]);
    let t = feed(&mut p, AppId(0), &its);
    assert_eq!(
        p.on_idle(AppId(0), t, inst()),
        KeepDecision::Keep(SimDuration::from_secs(132))
    );
}

#[test]
fn too_few_its_fall_back_to_the_range() {
    let mut p = HybridHistogram::new(Config::default());
    let t = feed(&mut p, AppId(0), &[SimDuration(10 * MIN); 9]);
    assert_eq!(p.windows(AppId(0)).mode, Mode::Fallback);
    assert_eq!(
        p.on_idle(AppId(0), t, inst()),
        KeepDecision::Keep(SimDuration::from_secs(4 * 3600))
    );
    // An app never seen is kept for the range too.
    assert_eq!(
        p.on_idle(AppId(7), t, inst()),
        KeepDecision::Keep(SimDuration::from_secs(4 * 3600))
    );
    // The tenth IT makes the histogram usable.
    p.on_arrival(AppId(0), t + SimDuration(10 * MIN));
    assert_eq!(p.windows(AppId(0)).mode, Mode::Histogram);
}

#[test]
fn spread_its_have_no_pattern() {
    // One IT in each of 60 bins: CV = sqrt(240 / 60 - 1) = 1.73 < 2.
    let cfg = Config {
        fallback_ttl: Some(SimDuration(15 * MIN)),
        ..Config::default()
    };
    let mut p = HybridHistogram::new(cfg);
    let its: Vec<_> = (0..60).map(|i| SimDuration(i * MIN + MIN / 2)).collect();
    let t = feed(&mut p, AppId(0), &its);
    assert!((p.cv(AppId(0)).unwrap() - 3f64.sqrt()).abs() < 1e-12);
    assert_eq!(
        p.on_idle(AppId(0), t, inst()),
        KeepDecision::Keep(SimDuration(15 * MIN))
    );
    // In 48 bins the CV is exactly 2: a pattern.
    let mut q = HybridHistogram::new(Config::default());
    let its: Vec<_> = (0..48).map(|i| SimDuration(i * MIN)).collect();
    feed(&mut q, AppId(0), &its);
    assert_eq!(q.cv(AppId(0)), Some(2.0));
    assert_eq!(q.windows(AppId(0)).mode, Mode::Histogram);
}

#[test]
fn zero_fallback_evicts() {
    let cfg = Config {
        fallback_ttl: Some(SimDuration::ZERO),
        ..Config::default()
    };
    let mut p = HybridHistogram::new(cfg);
    assert_eq!(p.on_idle(AppId(0), SimTime(5), inst()), KeepDecision::Evict);
}

#[test]
fn mostly_out_of_bounds_uses_the_forecast() {
    // 6 OOB ITs (exactly 4 h counts as OOB) and 4 in range: 6 > 0.5 x
    // 10. EWMA (w = 0.5) of 4, 6, 5, 5, 5, 5 h: 4 -> 5 -> 5 -> ... = 5 h.
    // Pre-warm 5 h x 0.85 = 4.25 h; keep 2 x 0.15 x 5 h = 1.5 h.
    let h = |x: f64| SimDuration::from_secs_f64(x * 3600.0);
    let mut p = HybridHistogram::new(Config::default());
    let its = [
        h(4.0),
        SimDuration(10 * MIN),
        h(6.0),
        SimDuration(10 * MIN),
        h(5.0),
        h(5.0),
        SimDuration(10 * MIN),
        h(5.0),
        SimDuration(10 * MIN),
        h(5.0),
    ];
    let t = feed(&mut p, AppId(2), &its);
    let w = p.windows(AppId(2));
    assert_eq!(w.mode, Mode::Forecast);
    assert_eq!(w.prewarm, h(4.25));
    assert_eq!(w.keep_alive, h(5.75));
    assert_eq!(
        p.on_idle(AppId(2), t, inst()),
        KeepDecision::Prewarm {
            after: h(4.25),
            keep: h(1.5)
        }
    );
    // Half OOB is not more than half: back to the histogram rules.
    let mut q = HybridHistogram::new(Config::default());
    let mut its = vec![h(5.0); 5];
    its.extend([SimDuration(10 * MIN); 5]);
    feed(&mut q, AppId(0), &its);
    assert_eq!(q.windows(AppId(0)).mode, Mode::Histogram);
}

#[test]
fn forecast_follows_the_newest_its() {
    let h = |x: f64| SimDuration::from_secs_f64(x * 3600.0);
    let mut p = HybridHistogram::new(Config {
        min_samples: 1,
        ..Config::default()
    });
    for (it, want) in [(8.0, 8.0), (4.0, 6.0), (10.0, 8.0)] {
        p.record(AppId(0), h(it));
        assert_eq!(p.windows(AppId(0)).mode, Mode::Forecast);
        assert_eq!(p.windows(AppId(0)).prewarm, h(want * 0.85));
    }
}

#[test]
fn only_the_first_arrival_after_an_idle_moment_is_an_it() {
    let mut p = HybridHistogram::new(Config {
        min_samples: 1,
        ..Config::default()
    });
    // Arrivals with no idle moment before them record nothing.
    p.on_arrival(AppId(0), SimTime(5));
    assert_eq!(p.windows(AppId(0)).mode, Mode::Fallback);
    // Two ends, then two arrivals: one IT, from the later end.
    p.on_idle(AppId(0), SimTime(0), inst());
    p.on_idle(AppId(0), SimTime(3 * MIN), inst());
    p.on_arrival(AppId(0), SimTime(13 * MIN + 1));
    p.on_arrival(AppId(0), SimTime(40 * MIN));
    let w = p.windows(AppId(0));
    assert_eq!(w.mode, Mode::Histogram);
    assert_eq!(w.prewarm, SimDuration(9 * MIN));
}

#[test]
fn validation_names_the_key() {
    let key = |c: Config| c.check().unwrap_err().0;
    let d = Config::default;
    assert_eq!(key(Config { margin: 1.0, ..d() }), "margin");
    assert_eq!(
        key(Config {
            bin: SimDuration::from_secs(7),
            ..d()
        }),
        "range"
    );
    assert_eq!(
        key(Config {
            bin: SimDuration::ZERO,
            ..d()
        }),
        "bin"
    );
    assert_eq!(
        key(Config {
            bin: SimDuration::from_millis(1),
            ..d()
        }),
        "bin"
    );
    assert_eq!(
        key(Config {
            head_percentile: 50.0,
            tail_percentile: 40.0,
            ..d()
        }),
        "tail_percentile"
    );
    assert_eq!(
        key(Config {
            head_percentile: -1.0,
            ..d()
        }),
        "head_percentile"
    );
    assert_eq!(
        key(Config {
            cv_threshold: f64::NAN,
            ..d()
        }),
        "cv_threshold"
    );
    assert_eq!(
        key(Config {
            min_samples: 0,
            ..d()
        }),
        "min_samples"
    );
    assert_eq!(
        key(Config {
            oob_threshold: 1.5,
            ..d()
        }),
        "oob_threshold"
    );
    assert_eq!(
        key(Config {
            forecast_weight: 0.0,
            ..d()
        }),
        "forecast_weight"
    );
    assert_eq!(
        key(Config {
            forecast_margin: -0.1,
            ..d()
        }),
        "forecast_margin"
    );
}
