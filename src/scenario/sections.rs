//! The scenario's platform sections: `[hosts]` and `[queue]`.

use serde::{Deserialize, Serialize};

use crate::time::{MemoryMb, SimDuration};

/// Identical hosts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hosts {
    #[serde(default = "Hosts::default_count")]
    pub count: u32,
    #[serde(default = "Hosts::default_memory")]
    pub memory_mb: MemoryMb,
    #[serde(default = "Hosts::default_cores")]
    pub cores: u32,
}

impl Hosts {
    fn default_count() -> u32 {
        10
    }
    fn default_memory() -> MemoryMb {
        MemoryMb(32 * 1024)
    }
    fn default_cores() -> u32 {
        16
    }
}

impl Default for Hosts {
    fn default() -> Self {
        Hosts {
            count: Self::default_count(),
            memory_mb: Self::default_memory(),
            cores: Self::default_cores(),
        }
    }
}

/// The front-end queue that holds invocations while no host has room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueCfg {
    /// Invocations waiting at once; one more is rejected. 0 = no queue.
    #[serde(default = "QueueCfg::default_max_len")]
    pub max_len: u32,
    /// A waiting invocation is rejected after this long. Default 30 s, as
    /// API front ends time out requests (Amazon API Gateway: 29 s).
    #[serde(default = "QueueCfg::default_timeout")]
    pub timeout: SimDuration,
}

impl QueueCfg {
    fn default_max_len() -> u32 {
        1000
    }
    fn default_timeout() -> SimDuration {
        SimDuration::from_secs(30)
    }
}

impl Default for QueueCfg {
    fn default() -> Self {
        QueueCfg {
            max_len: Self::default_max_len(),
            timeout: Self::default_timeout(),
        }
    }
}
