//! Rendering diagnostics with their source text, at the edge.

use std::io::IsTerminal;

use std::collections::BTreeMap;
use std::sync::Arc;

use drone_lang::span::FileId;

use crate::error::CliError;
use crate::exit::Exit;
use drone_lang::{Located, SourceMap};
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};

/// Renders one diagnostic against its file, without colour unless `color`.
pub fn render<D>(diagnostic: &D, sources: &SourceMap, color: bool) -> String
where
    D: Diagnostic + Located + Clone + Send + Sync + 'static,
{
    render_with(diagnostic, sources, color, &mut Indexes::new())
}

/// Each file's text with its line starts, made once per file for all the
/// diagnostics rendered against it.
pub type Indexes = BTreeMap<FileId, Indexed>;

/// [`render`], reusing the files already indexed in `indexes`.
pub fn render_with<D>(diagnostic: &D, sources: &SourceMap, color: bool, indexes: &mut Indexes) -> String
where
    D: Diagnostic + Located + Clone + Send + Sync + 'static,
{
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
    let mut out = String::new();
    let span = diagnostic.span();
    let indexed = sources
        .get(span.file)
        .map(|file| indexes.entry(span.file).or_insert_with(|| Indexed::new(&file.name, &file.text)).clone());
    let report = match indexed {
        // A snippet of a line this long is unreadable, and miette cannot pad past 65,535 columns.
        Some(file) if file.longest_line > MAX_SNIPPET_LINE => {
            let (line, column) = file.position(span.start as usize);
            out =
                format!("{}:{line}:{column}: (a line longer than {MAX_SNIPPET_LINE} bytes is not shown)\n", file.name);
            miette::Report::new(diagnostic.clone())
        }
        Some(file) => miette::Report::new(diagnostic.clone()).with_source_code(file),
        None => miette::Report::new(diagnostic.clone()),
    };
    let mut rendered = String::new();
    if handler.render_report(&mut rendered, report.as_ref()).is_err() {
        rendered = format!("{diagnostic}\n");
    }
    out + rendered.as_str()
}

/// The longest source line a diagnostic shows as a snippet.
const MAX_SNIPPET_LINE: usize = 4096;

/// A file's text and where its lines start, so a snippet is read from the
/// lines around a span instead of by scanning the file from its start (which
/// made rendering every finding of a large file quadratic).
#[derive(Clone)]
pub struct Indexed {
    name: Arc<str>,
    text: Arc<str>,
    /// The offset of each line's first byte; a line ends at `\n`, `\r\n` or a lone `\r`, as miette counts.
    starts: Arc<Vec<usize>>,
    longest_line: usize,
}

impl Indexed {
    fn new(name: &str, text: &str) -> Indexed {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        let longest_line =
            starts.windows(2).map(|w| w[1] - w[0]).chain([text.len() - starts[starts.len() - 1]]).max().unwrap_or(0);
        Indexed { name: name.into(), text: text.into(), starts: Arc::new(starts), longest_line }
    }

    /// The 0-based line holding `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|s| *s <= offset).saturating_sub(1)
    }

    /// The 1-based line and column (in characters) of `offset`.
    fn position(&self, offset: usize) -> (usize, usize) {
        let line = self.line_of(offset);
        let column = self.text.get(self.starts[line]..offset).map_or(0, |t| t.chars().count());
        (line + 1, column + 1)
    }
}

impl SourceCode for Indexed {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // miette's own reader, over the text from the first context line on.
        let first = self.line_of(span.offset()).saturating_sub(context_lines_before);
        let base = self.starts[first];
        let local = SourceSpan::new((span.offset() - base).into(), span.len());
        let tail = self.text.as_bytes().get(base..).ok_or(MietteError::OutOfBounds)?;
        let found = tail.read_span(&local, context_lines_before, context_lines_after)?;
        let found_span = SourceSpan::new((found.span().offset() + base).into(), found.span().len());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            found.data(),
            found_span,
            found.line() + first,
            found.column(),
            found.line_count() + first,
        )))
    }
}

/// Whether output to `stream` is coloured: it is a terminal and neither `NO_COLOR` nor
/// `--no-color` (which sets it) asks otherwise.
pub fn coloured(stream: &impl IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Prints a diagnostic that points at no source (state, locks) to standard
/// error, coloured on a terminal. Lines are not wrapped: help lines hold
/// commands and paths that must stay whole to be copied.
pub fn eprint_report<D>(diagnostic: D)
where
    D: Diagnostic + Send + Sync + 'static,
{
    let color = coloured(&std::io::stderr());
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
    let color = coloured(&std::io::stderr());
    let mut indexes = Indexes::new();
    for d in diagnostics {
        eprint!("{}", render_with(d, sources, color, &mut indexes));
    }
}

/// Diagnostics against their sources as one failure: rendered with their
/// snippets and followed by their count (exit 3).
pub fn diagnostics<D>(diagnostics: &[D], sources: &SourceMap) -> CliError
where
    D: Diagnostic + Located + Clone + Send + Sync + 'static,
{
    diagnostics_exiting(diagnostics, sources, Exit::Language)
}

/// [`diagnostics`], giving `exit`.
pub fn diagnostics_exiting<D>(diagnostics: &[D], sources: &SourceMap, exit: Exit) -> CliError
where
    D: Diagnostic + Located + Clone + Send + Sync + 'static,
{
    let color = coloured(&std::io::stderr());
    let mut indexes = Indexes::new();
    let mut text: String = diagnostics.iter().map(|d| render_with(d, sources, color, &mut indexes)).collect();
    if exit == Exit::Language {
        text.push_str(&count(diagnostics.len(), "error"));
        text.push('\n');
    }
    let problems = diagnostics.iter().map(|d| crate::findings::Problem::of(d, sources)).collect();
    CliError::Diagnostics { text, exit, problems }
}

/// Prints why a command failed to standard error; the exit code it gives.
/// The one place failures are printed.
pub fn failure(error: CliError) -> Exit {
    let exit = error.exit();
    match error {
        CliError::Diagnostics { text, .. } => eprint!("{text}"),
        other => eprint_report(other),
    }
    exit
}

/// "; did you mean `x`?" for the candidate closest to `name`, or nothing.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    drone_lang::suggest::closest(name, candidates).map(|h| format!("; did you mean `{h}`?")).unwrap_or_default()
}

/// A one-line summary: "3 errors".
pub fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
