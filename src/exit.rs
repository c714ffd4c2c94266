//! Exit codes: documented in README.md and stable across releases.

use std::process::ExitCode;

/// Every outcome the binary reports through its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything succeeded (for `plan`: the plan was made).
    Success = 0,
    /// A bug in drone.
    Internal = 1,
    /// Bad command-line usage: unknown flag, missing file.
    Usage = 2,
    /// Language errors: syntax, names, types, evaluation; or `fmt --check` found unformatted files.
    Language = 3,
    /// Error-severity policy findings.
    Policy = 4,
    /// Execution failed: a provider call, an unreachable endpoint, unreadable state.
    Execution = 5,
    /// The state is locked by another run.
    Locked = 6,
    /// `check` found policy warnings but no errors.
    PolicyWarnings = 7,
    /// A script was stopped by its sandbox or its grants: a limit (time,
    /// operations, call depth, size), a call outside its grants, a SQL statement refused.
    ScriptRefused = 8,
    /// A script failed on its own (`throw`, a runtime error).
    ScriptFailed = 9,
    /// The confirmation (`Apply these changes?`) was declined: nothing was changed.
    Declined = 10,
    /// A release was rolled back (an alarm fired, ECS's circuit breaker, or `--rollback`):
    /// the previous revision serves all traffic.
    RolledBack = 11,
    /// Interrupted (Ctrl-C): state records every operation that finished.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}
