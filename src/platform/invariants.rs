//! The core's internal invariants, checked from scratch by
//! [`Platform::check_invariants`] (tests call it after every event).

use std::collections::VecDeque;

use crate::model::{FnId, HostId};

use super::arena::NIL;
use super::{Gauges, HostState, Platform, State};

impl Platform {
    /// Checks every internal invariant; used by tests after each event.
    pub fn check_invariants(&self) -> Result<(), String> {
        let h = self.hosts.len();
        let mut used = vec![0u64; h];
        let mut idle = vec![0u64; h];
        let mut count = vec![0u32; h];
        let mut g = Gauges {
            queued: self.gauges.queued,
            throttled: self.gauges.throttled,
            hosts_on: self
                .host_state
                .iter()
                .filter(|s| matches!(s, HostState::Up | HostState::Failed | HostState::Draining))
                .count() as u64,
            ..Gauges::default()
        };
        for (h, st) in self.host_state.iter().enumerate() {
            if self.hosts.is_closed(HostId(h as u32)) != (*st != HostState::Up) {
                return Err(format!("host {h} is {st:?} but closed is out of step"));
            }
            if matches!(
                st,
                HostState::Failed | HostState::Reclaimed | HostState::Off
            ) && !self.host_insts[h].is_empty()
            {
                return Err(format!("host {h} is {st:?} and still has instances"));
            }
        }
        let retries = self.retries.iter().filter(|r| r.is_some()).count() as u64;
        if retries != self.pending_retries
            || retries as usize + self.free_retries.len() != self.retries.len()
        {
            return Err("pending retries out of step".into());
        }
        if !self.deferred.is_empty() {
            return Err("admitted invocations left undispatched".into());
        }
        let mut idle_per_app = vec![0usize; self.app_idle.len()];
        let mut spare_per_app = vec![0usize; self.app_idle.len()];
        let mut attached = 0u64;
        for inst in self.insts.iter() {
            if inst.state == State::Free {
                continue;
            }
            let mb = self.cfg.app_memory_mb[inst.app.index()];
            used[inst.host.index()] += mb;
            count[inst.host.index()] += 1;
            let k = self.cfg.app_concurrency[inst.app.index()];
            let mut pending = 0;
            let mut j = inst.pending;
            while j != NIL {
                pending += 1;
                if !self.jobs[j as usize].live {
                    return Err("a freed job waits for an instance".into());
                }
                j = self.jobs[j as usize].next;
            }
            match inst.state {
                State::Starting => {
                    g.starting += 1;
                    g.starting_mb += mb;
                    if pending != inst.active {
                        return Err(format!(
                            "starting instance with {} jobs, {pending} pending",
                            inst.active
                        ));
                    }
                }
                State::Busy => {
                    g.busy += 1;
                    g.busy_mb += mb;
                    g.running += inst.active as u64;
                    if inst.active == 0 || pending != 0 {
                        return Err("busy instance with no job or pending jobs".into());
                    }
                }
                State::Idle => {
                    g.idle += 1;
                    g.idle_mb += mb;
                    idle[inst.host.index()] += mb;
                    idle_per_app[inst.app.index()] += 1;
                    if inst.active != 0 {
                        return Err("idle instance with jobs".into());
                    }
                }
                State::Free => {}
            }
            if inst.active > k {
                return Err(format!("instance runs {} > concurrency {k}", inst.active));
            }
            attached += inst.active as u64;
            let should_spare = inst.active >= 1
                && inst.active < k
                && matches!(inst.state, State::Starting | State::Busy)
                && !inst.retiring;
            if inst.in_spare != should_spare {
                return Err(format!(
                    "instance with {} of {k} jobs in state {:?}: spare {}",
                    inst.active, inst.state, inst.in_spare
                ));
            }
            if inst.in_spare {
                spare_per_app[inst.app.index()] += 1;
            }
        }
        let live_jobs = self.jobs.iter().filter(|j| j.live).count() as u64;
        if live_jobs != attached || live_jobs as usize + self.free_jobs.len() != self.jobs.len() {
            return Err(format!(
                "{live_jobs} live jobs, {attached} attached to instances"
            ));
        }
        for i in 0..h {
            let hi = HostId(i as u32);
            if used[i] > self.hosts.capacity_mb() {
                return Err(format!("host {i} over capacity: {} MB used", used[i]));
            }
            if self.hosts.unused_mb(hi) + used[i] != self.hosts.capacity_mb() {
                return Err(format!("host {i} free memory out of step"));
            }
            if self.hosts.idle_mb(hi) != idle[i] || self.hosts.instances(hi) != count[i] {
                return Err(format!("host {i} idle memory or count out of step"));
            }
            let list = &self.host_insts[i];
            if list.len() != count[i] as usize
                || list.iter().enumerate().any(|(p, &slot)| {
                    let inst = &self.insts[slot as usize];
                    inst.host != hi || inst.host_pos as usize != p || inst.state == State::Free
                })
            {
                return Err(format!("host {i} instance list out of step"));
            }
        }
        if g != self.gauges {
            return Err(format!("gauges {:?} != recount {:?}", self.gauges, g));
        }
        let queued: usize = self.app_queue.iter().map(VecDeque::len).sum();
        if queued as u64 != self.gauges.queued {
            return Err("queue length out of step".into());
        }
        if self.gauges.queued + self.gauges.throttled > self.cfg.queue_max_len as u64 {
            return Err("more waiting than the queue holds".into());
        }
        for (app, &n) in idle_per_app.iter().enumerate() {
            let mut walked = 0;
            let mut cur = self.app_idle[app].head;
            while cur != NIL {
                walked += 1;
                cur = self.insts[cur as usize].app_next;
            }
            if walked != n {
                return Err(format!("app {app} idle list has {walked}, expected {n}"));
            }
            let mut walked = 0;
            let mut cur = self.app_idle[app].spare;
            while cur != NIL {
                walked += 1;
                cur = self.insts[cur as usize].spare_next;
            }
            if walked != spare_per_app[app] {
                return Err(format!("app {app} spare list out of step"));
            }
            if (n > 0 || spare_per_app[app] > 0) && !self.app_queue[app].is_empty() {
                return Err(format!("app {app} has free slots and queued work"));
            }
        }
        match &self.limits {
            Some(l) => {
                // Admitted = given an instance or waiting for memory.
                let mut per_fn = vec![0u32; l.inflight.len()];
                for j in self.jobs.iter().filter(|j| j.live) {
                    per_fn[j.inv.function.index()] += 1;
                }
                for q in &self.app_queue {
                    for w in q {
                        per_fn[w.inv.function.index()] += 1;
                    }
                }
                if per_fn != l.inflight || per_fn.iter().map(|&n| n as u64).sum::<u64>() != l.total
                {
                    return Err("concurrency counts out of step".into());
                }
                if l.total > l.global || per_fn.iter().zip(&l.fn_limit).any(|(&n, &lim)| n > lim) {
                    return Err("a concurrency limit is exceeded".into());
                }
                let held: usize = l.held.iter().map(VecDeque::len).sum();
                if held as u64 != self.gauges.throttled {
                    return Err("throttled count out of step".into());
                }
                for (f, q) in l.held.iter().enumerate() {
                    if !q.is_empty() && l.admits(FnId(f as u32)) {
                        return Err(format!("function {f} is held while its limits admit it"));
                    }
                }
            }
            None => {
                if self.gauges.throttled != 0 {
                    return Err("throttled invocations with no limits".into());
                }
            }
        }
        if let Some(s) = &self.snapshots {
            s.check()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::admission::Waiting;
    use super::super::arena::NIL;
    use super::super::testkit::*;
    use super::super::{Event, JobId, Ticket};
    use crate::model::{AppId, HostId};
    use crate::time::SimDuration;

    /// One busy instance of app 0 and one idle of app 1, on one host, with
    /// a concurrency limit on function 0.
    fn script() -> Script {
        let mut cfg = config(1, 1000, &[100, 100], 10);
        cfg.fn_limit = vec![Some(5), None];
        let ttl = Box::new(FixedTtl(SimDuration::from_secs(60)));
        let mut s = Script::new(platform_with(cfg, ttl));
        let busy = started(&s.arrive(inv(0, 0, 0)));
        let idle = started(&s.arrive(inv(1, 1, 0)));
        s.event(1, Event::Ready { instance: busy });
        s.event(1, Event::Ready { instance: idle });
        s.event(
            6,
            Event::Done {
                instance: idle,
                job: JobId(1),
            },
        );
        s
    }

    /// The error `check_invariants` gives after `corrupt`.
    fn caught(corrupt: impl FnOnce(&mut Script)) -> String {
        let mut s = script();
        s.p.check_invariants().unwrap();
        corrupt(&mut s);
        s.p.check_invariants().unwrap_err()
    }

    #[test]
    fn a_consistent_state_passes() {
        let s = script();
        assert_eq!((s.gauges().busy, s.gauges().idle), (1, 1));
        s.p.check_invariants().unwrap();
    }

    #[test]
    fn gauges_out_of_step_are_caught() {
        let e = caught(|s| s.p.gauges.busy += 1);
        assert!(e.starts_with("gauges"), "{e}");
    }

    #[test]
    fn host_memory_out_of_step_is_caught() {
        let e = caught(|s| s.p.hosts.alloc(HostId(0), 10));
        assert_eq!(e, "host 0 free memory out of step");
    }

    #[test]
    fn a_broken_idle_list_is_caught() {
        let e = caught(|s| s.p.app_idle[1].head = NIL);
        assert_eq!(e, "app 1 idle list has 0, expected 1");
    }

    #[test]
    fn queued_work_next_to_an_idle_instance_is_caught() {
        let e = caught(|s| {
            let inv = inv(9, 1, 7);
            s.p.app_queue[1].push_back(Waiting {
                ticket: Ticket(0),
                inv,
            });
            s.p.order.push_back((Ticket(0), AppId(1)));
            s.p.gauges.queued += 1;
        });
        assert_eq!(e, "app 1 has free slots and queued work");
    }

    #[test]
    fn a_lost_job_is_caught() {
        let e = caught(|s| s.p.jobs[0].live = false);
        assert_eq!(e, "0 live jobs, 1 attached to instances");
    }

    #[test]
    fn concurrency_counts_out_of_step_are_caught() {
        let e = caught(|s| s.p.limits.as_mut().unwrap().inflight[0] += 1);
        assert_eq!(e, "concurrency counts out of step");
    }
}
