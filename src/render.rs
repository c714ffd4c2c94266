//! Rendering diagnostics with their source text, at the edge.

use std::io::IsTerminal;

use drone_lang::{Located, SourceMap};
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, NamedSource};

/// Renders one diagnostic against its file, without colour unless `color`.
pub fn render<D>(diagnostic: &D, sources: &SourceMap, color: bool) -> String
where
    D: Diagnostic + Located + Clone + Send + Sync + 'static,
{
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
    let mut out = String::new();
    let span = diagnostic.span();
    let report = match sources.get(span.file) {
        // A snippet of a line this long is unreadable, and miette cannot pad past 65,535 columns.
        Some(file) if file.text.lines().any(|l| l.len() > MAX_SNIPPET_LINE) => {
            let before = file.text.get(..span.start as usize).unwrap_or_default();
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            out =
                format!("{}:{line}:{column}: (a line longer than {MAX_SNIPPET_LINE} bytes is not shown)\n", file.name);
            miette::Report::new(diagnostic.clone())
        }
        Some(file) => miette::Report::new(diagnostic.clone())
            .with_source_code(NamedSource::new(file.name.clone(), file.text.clone())),
        None => miette::Report::new(diagnostic.clone()),
    };
    let mut rendered = String::new();
    if handler.render_report(&mut rendered, report.as_ref()).is_err() {
        rendered = format!("{diagnostic}\n");
    }
    out + &rendered
}

/// The longest source line a diagnostic shows as a snippet.
const MAX_SNIPPET_LINE: usize = 4096;

/// Prints a diagnostic that points at no source (state, locks) to standard
/// error, coloured on a terminal. Lines are not wrapped: help lines hold
/// commands and paths that must stay whole to be copied.
pub fn eprint_report<D>(diagnostic: D)
where
    D: Diagnostic + Send + Sync + 'static,
{
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_links(false).with_wrap_lines(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &diagnostic).is_err() {
        out = format!("error: {diagnostic}\n");
    }
    eprint!("{out}");
}

/// Prints diagnostics to standard error, coloured on a terminal.
pub fn print_all<D>(diagnostics: &[D], sources: &SourceMap)
where
    D: Diagnostic + Located + Clone + Send + Sync + 'static,
{
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for d in diagnostics {
        eprint!("{}", render(d, sources, color));
    }
}

/// "; did you mean `x`?" for the candidate closest to `name`, or nothing.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    drone_lang::suggest::closest(name, candidates).map(|h| format!("; did you mean `{h}`?")).unwrap_or_default()
}

/// A one-line summary: "3 errors".
pub fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
