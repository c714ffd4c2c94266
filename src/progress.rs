//! Progress while applying: a live view (indicatif) on a terminal, plain
//! timestamped lines otherwise, so CI logs read well.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use drone_engine::apply::{Observer, Operation, Outcome, Status};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Reports progress on standard error.
pub enum Progress {
    /// One spinner per operation in flight.
    Live {
        /// The spinners' container.
        bars: MultiProgress,
        /// Spinners by address.
        active: Mutex<BTreeMap<String, ProgressBar>>,
    },
    /// One line per event.
    Plain,
}

impl Progress {
    /// The live view on a terminal, plain lines otherwise.
    pub fn for_stderr() -> Progress {
        if std::io::stderr().is_terminal() {
            Progress::Live { bars: MultiProgress::new(), active: Mutex::new(BTreeMap::new()) }
        } else {
            Progress::Plain
        }
    }
}

/// Now, as RFC 3339 to the second (UTC): how progress lines, audit records and releases say when.
pub(crate) fn stamp() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

fn describe(outcome: &Outcome, elapsed: Duration) -> String {
    match &outcome.status {
        Status::Done if outcome.adopted => {
            format!("adopted in {:.1}s: found already made, with this state's tags", elapsed.as_secs_f64())
        }
        Status::Done => format!("done in {:.1}s", elapsed.as_secs_f64()),
        Status::Failed(reason) => format!("FAILED: {reason}"),
        Status::Skipped(reason) => format!("skipped: {reason}"),
    }
}

impl Observer for Progress {
    fn started(&self, address: &str, operation: Operation) {
        match self {
            Progress::Plain => line(format_args!("{} {:<6} {address} ...", stamp(), operation.verb())),
            Progress::Live { bars, active } => {
                let bar = bars.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_message(format!("{} {address}", operation.verb()));
                bar.enable_steady_tick(Duration::from_millis(120));
                if let Ok(mut a) = active.lock() {
                    a.insert(address.to_string(), bar);
                }
            }
        }
    }

    fn finished(&self, outcome: &Outcome, elapsed: Duration) {
        let line = format!("{:<6} {} {}", outcome.operation.verb(), outcome.address, describe(outcome, elapsed));
        match self {
            Progress::Plain => self::line(format_args!("{} {line}", stamp())),
            Progress::Live { bars, active } => {
                let bar = active.lock().ok().and_then(|mut a| a.remove(&outcome.address));
                if let Some(bar) = bar {
                    bar.finish_and_clear();
                }
                let mark = match outcome.status {
                    Status::Done => "✓",
                    Status::Failed(_) => "✗",
                    Status::Skipped(_) => "-",
                };
                let _ = bars.println(format!("{mark} {line}"));
            }
        }
    }
}

/// Writes one progress line to standard error. A closed stderr (a reader
/// that went away) must not stop an apply half-way: the line is dropped.
fn line(text: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{text}");
}
