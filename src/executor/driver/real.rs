//! The performer of the real executor: worker processes for the core's
//! starts and executions, templates and forks for snapshots, kills for
//! evictions, and a local timer queue (see the module doc of `driver`).

#[allow(unused_imports)]
use super::*;

/// What a worker process is to the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Proc {
    /// It serves the platform's instance.
    Instance(InstanceId),
    /// The template of (app, host).
    Template { app: AppId, host: HostId },
    /// Killed by the driver; its `Exited` is expected.
    Killed,
}

/// A platform instance's worker, once started (None: waiting for its
/// template to be ready before it forks).
#[derive(Clone, Copy, Debug)]
pub(super) struct Live {
    pub(super) exec: Option<ExecId>,
    pub(super) app: AppId,
}

/// The template of an (app, host) pair.
#[derive(Clone, Debug)]
pub(super) struct Template {
    pub(super) exec: ExecId,
    pub(super) ready: bool,
    /// The instance whose full init took the snapshot (the first fork).
    pub(super) taker: InstanceId,
    /// The platform has been told the snapshot is taken (its first fork is
    /// ready): from then on the platform's cache decides its life.
    pub(super) committed: bool,
    /// Instances to fork once it is ready.
    pub(super) waiting: Vec<InstanceId>,
}

/// The performer of the real executor: worker processes and a local timer
/// queue.
pub(super) struct Real {
    pub(super) ex: Executor,
    pub(super) t0: Instant,
    /// Timers and fault events (no arrivals go through it).
    pub(super) timers: Engine<Event>,
    /// Each app's worker spec (state size and seed).
    pub(super) specs: Vec<WorkerSpec>,
    pub(super) work: Work,
    pub(super) inject: Vec<(u64, crate::executor::Fault)>,
    /// Executions performed so far.
    pub(super) executions: u64,
    pub(super) next_exec: u64,
    pub(super) next_job: u64,
    pub(super) procs: HashMap<ExecId, Proc>,
    pub(super) live: HashMap<InstanceId, Live>,
    pub(super) jobs: HashMap<JobId, (InstanceId, platform::JobId)>,
    pub(super) templates: HashMap<(AppId, HostId), Template>,
    pub(super) stats: DriverStats,
    /// The first failure met while performing an action; the run stops at
    /// it.
    pub(super) error: Option<Error>,
}

impl Performer for Real {
    fn start(&mut self, _now: SimTime, s: Start) {
        let r = self.start_worker(s.instance, s.app, s.host, s.kind, s.take_snapshot);
        self.keep(r);
    }

    fn execute(
        &mut self,
        _now: SimTime,
        instance: InstanceId,
        job: platform::JobId,
        _function: FnId,
        exec: SimDuration,
    ) {
        let r = self.invoke(instance, job, exec);
        self.keep(r);
    }

    fn arm(&mut self, at: SimTime, event: Event) {
        self.timers.schedule(at, event);
    }

    fn end(&mut self, instance: InstanceId) {
        let r = self.end_instance(instance);
        self.keep(r);
    }
}

impl Real {
    /// Keeps the first failure of an action.
    pub(super) fn keep(&mut self, r: Result<()>) {
        if let Err(e) = r {
            self.error.get_or_insert(e);
        }
    }

    pub(super) fn exec_id(&mut self) -> ExecId {
        self.next_exec += 1;
        ExecId(self.next_exec)
    }

    /// Starts the worker of a new platform instance (see the module doc for
    /// the mapping of start kinds).
    pub(super) fn start_worker(
        &mut self,
        instance: InstanceId,
        app: AppId,
        host: HostId,
        kind: StartKind,
        take_snapshot: bool,
    ) -> Result<()> {
        self.live.insert(instance, Live { exec: None, app });
        match kind {
            StartKind::Full if take_snapshot => {
                // A stale template of the pair (its snapshot left the
                // cache and the platform takes it again) goes first.
                if let Some(old) = self.templates.remove(&(app, host)) {
                    self.kill(old.exec)?;
                }
                let e = self.exec_id();
                self.ex
                    .start(e, ExecKind::Template, self.specs[app.index()])?;
                self.stats.templates += 1;
                self.procs.insert(e, Proc::Template { app, host });
                self.templates.insert(
                    (app, host),
                    Template {
                        exec: e,
                        ready: false,
                        taker: instance,
                        committed: false,
                        waiting: vec![instance],
                    },
                );
                Ok(())
            }
            StartKind::LocalRestore => match self.templates.get_mut(&(app, host)) {
                Some(t) if t.ready => {
                    let template = t.exec;
                    self.fork(instance, template)
                }
                Some(t) => {
                    t.waiting.push(instance);
                    Ok(())
                }
                None => {
                    self.stats.fallbacks += 1;
                    self.cold(instance, app)
                }
            },
            StartKind::RemoteRestore => {
                // Refused by check_supported; started cold if it ever comes.
                self.stats.fallbacks += 1;
                self.cold(instance, app)
            }
            StartKind::Full => self.cold(instance, app),
        }
    }

    pub(super) fn cold(&mut self, instance: InstanceId, app: AppId) -> Result<()> {
        let e = self.exec_id();
        self.ex.start(e, ExecKind::Cold, self.specs[app.index()])?;
        self.stats.cold_spawns += 1;
        self.procs.insert(e, Proc::Instance(instance));
        self.live.insert(instance, Live { exec: Some(e), app });
        Ok(())
    }

    pub(super) fn fork(&mut self, instance: InstanceId, template: ExecId) -> Result<()> {
        let Some(app) = self.live.get(&instance).map(|l| l.app) else {
            return Ok(());
        };
        let e = self.exec_id();
        self.ex
            .start(e, ExecKind::Fork { template }, self.specs[app.index()])?;
        self.stats.forks += 1;
        self.procs.insert(e, Proc::Instance(instance));
        self.live.insert(instance, Live { exec: Some(e), app });
        Ok(())
    }

    /// The platform is done with an instance (evicted or killed): its
    /// worker is killed unless it is already dead, and an instance still
    /// waiting for its template leaves the template's list.
    pub(super) fn end_instance(&mut self, instance: InstanceId) -> Result<()> {
        let Some(l) = self.live.remove(&instance) else {
            return Ok(());
        };
        match l.exec {
            Some(e) if self.procs.get(&e) == Some(&Proc::Instance(instance)) => self.kill(e),
            Some(_) => Ok(()),
            None => {
                for t in self.templates.values_mut() {
                    t.waiting.retain(|&id| id != instance);
                }
                Ok(())
            }
        }
    }

    pub(super) fn kill(&mut self, e: ExecId) -> Result<()> {
        self.procs.insert(e, Proc::Killed);
        self.ex.kill(e)
    }

    pub(super) fn invoke(
        &mut self,
        instance: InstanceId,
        job: platform::JobId,
        exec: SimDuration,
    ) -> Result<()> {
        let Some(e) = self.live.get(&instance).and_then(|l| l.exec) else {
            return Err(failure(format!(
                "the platform ran an invocation on instance {}/{} that has no worker",
                instance.slot, instance.generation
            )));
        };
        self.next_job += 1;
        let j = JobId(self.next_job);
        self.jobs.insert(j, (instance, job));
        let d = to_duration(exec);
        let mut req = match self.work {
            Work::Cpu => Request::cpu(d),
            Work::Io => Request::io(d),
        };
        if let Some(&(_, f)) = self.inject.iter().find(|(n, _)| *n == self.executions) {
            req = req.with_fault(f);
        }
        self.executions += 1;
        self.ex.invoke(e, j, req)
    }

    /// Kills the templates whose snapshot the platform's cache dropped.
    pub(super) fn retire_templates(&mut self, core: &Core) -> Result<()> {
        if self.templates.is_empty() {
            return Ok(());
        }
        let Some(sn) = core.platform.snapshots() else {
            return Ok(());
        };
        let gone: Vec<(AppId, HostId)> = self
            .templates
            .iter()
            .filter(|((app, host), t)| t.committed && !sn.cached(*host, *app))
            .map(|(&k, _)| k)
            .collect();
        for k in gone {
            if let Some(t) = self.templates.remove(&k) {
                self.kill(t.exec)?;
            }
        }
        Ok(())
    }
}
