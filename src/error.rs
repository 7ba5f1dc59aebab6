//! The library's error type. User input never panics: a bad scenario, trace
//! or flag becomes [`Error::Input`], which the CLI prints as one line and
//! maps to exit code 2.

use std::path::Path;

/// Everything that can go wrong in a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad user input: `origin` names the file and the place (line and
    /// column and/or key path), `msg` what was expected.
    #[error("{origin}: {msg}")]
    Input { origin: String, msg: String },
    /// Several independent mistakes in one input, one line each.
    #[error("{}", lines(.0))]
    Inputs(Vec<Error>),
    /// A command-line usage problem that clap cannot see (such as an output
    /// folder that already exists).
    #[error("{0}")]
    Usage(String),
    /// Writing results failed.
    #[error("{path}: {msg}")]
    Output { path: String, msg: String },
    /// The real executor (worker processes) failed or was misused; the
    /// executor's own error type (`executor::ExecError`) is inside. (Not a
    /// `#[source]`: the message already includes it, and a chain would
    /// print it twice.)
    #[error("executor: {0}")]
    Exec(Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn input(origin: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Input {
            origin: origin.into(),
            msg: msg.into(),
        }
    }

    pub fn output(path: &Path, err: impl std::fmt::Display) -> Self {
        Error::Output {
            path: path.display().to_string(),
            msg: err.to_string(),
        }
    }

    /// 2 for anything the user can fix in their input, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } | Error::Inputs(_) | Error::Usage(_) => 2,
            Error::Output { .. } | Error::Exec(_) => 1,
        }
    }
}

/// The errors, one per line.
fn lines(errors: &[Error]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
