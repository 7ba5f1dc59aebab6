//! The model's nouns, shared by every layer above: an invocation, and the
//! functions and apps of a run.
//!
//! An app is the unit of deployment (design.md): what is loaded, scaled and
//! kept alive; memory, init time, state and concurrency are its. A function
//! belongs to one app and has its own execution times and arrivals.
//! Workloads fix the [`FunctionTable`] of a run before it starts; the
//! platform, policies and metrics index functions and apps by their
//! position in it, through the ids [`FnId`] and [`AppId`]; hosts are
//! numbered from 0 by [`HostId`]. The ids are plain `u32`s
//! (`#[repr(transparent)]`, no cost) that the type checker keeps apart.

use crate::dist::Dist;
use crate::engine::Timed;
use crate::time::{SimDuration, SimTime};

/// Declares a dense `u32` id: a newtype with `index()` for indexing the
/// tables it names.
macro_rules! dense_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// The id as an index into the table it names.
            #[inline(always)]
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl From<u32> for $name {
            #[inline(always)]
            fn from(i: u32) -> Self {
                $name(i)
            }
        }

        impl From<$name> for u32 {
            #[inline(always)]
            fn from(id: $name) -> u32 {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
pub(crate) use dense_id;

dense_id!(
    /// A function of the run: its index in [`FunctionTable::functions`].
    FnId
);
dense_id!(
    /// An app of the run: its index in [`FunctionTable::apps`].
    AppId
);
dense_id!(
    /// A host of the platform, numbered from 0.
    HostId
);

/// One request for a function. `exec` is how long it will run once on an
/// instance (drawn when the workload generates it, or read from a trace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// Sequence number in arrival order, from 0.
    pub id: u64,
    /// The function, in the run's [`FunctionTable`].
    pub function: FnId,
    /// When it first arrived: retries keep it, so latency counts from here.
    pub arrival: SimTime,
    pub exec: SimDuration,
    /// 0 for the first attempt, n for the n-th retry (fits in padding).
    pub attempt: u32,
}

impl Timed for Invocation {
    #[inline]
    fn time(&self) -> SimTime {
        self.arrival
    }
}

/// A function of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct FnInfo {
    pub name: String,
    /// Its app, in [`FunctionTable::apps`].
    pub app: AppId,
    /// Its concurrency limit (reserved concurrency): invocations of it
    /// given an instance or waiting for one at once; None = no limit.
    pub max_concurrency: Option<u32>,
}

/// An application of the run: the unit that is loaded, scaled and kept
/// alive; memory and init time belong to it.
#[derive(Clone, Debug, PartialEq)]
pub struct AppInfo {
    pub name: String,
    pub memory_mb: u64,
    /// The fixed part of a full initialisation (runtime start, code load);
    /// loading `state_mb` adds `state_mb / state.load_bandwidth`.
    pub init: Dist,
    /// Provisioned concurrency: instances started at time 0 and never
    /// evicted while the app has no more than this many (0 for apps of a
    /// trace).
    pub min_instances: u32,
    /// State loaded at initialisation (model weights, indexes, pools).
    pub state_mb: u64,
    /// Size of its snapshot; None = its memory size (a full memory image).
    pub snapshot_mb: Option<u64>,
    /// Invocations one instance serves at once.
    pub concurrency: u32,
}

impl AppInfo {
    /// The size of the app's snapshot in MB.
    pub fn snapshot_mb(&self) -> u64 {
        self.snapshot_mb.unwrap_or(self.memory_mb)
    }
}

/// The functions and apps of a run, fixed before it starts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FunctionTable {
    pub functions: Vec<FnInfo>,
    pub apps: Vec<AppInfo>,
}

impl FunctionTable {
    /// The function `f`.
    #[inline]
    pub fn function(&self, f: FnId) -> &FnInfo {
        &self.functions[f.index()]
    }

    /// The app `a`.
    #[inline]
    pub fn app(&self, a: AppId) -> &AppInfo {
        &self.apps[a.index()]
    }

    /// The app of function `f`.
    #[inline]
    pub fn app_of(&self, f: FnId) -> &AppInfo {
        self.app(self.function(f).app)
    }
}
