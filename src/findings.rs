//! Reporters for policy findings: human (miette, with source), JSON (a
//! documented schema), SARIF 2.1.0 for code scanning, and GitHub workflow
//! annotations. Findings are data; only these functions format them.

use std::fmt;

use drone_engine::policy::{BaselineState, Finding, Report, Severity};
use drone_lang::{Located, SourceMap, Span};
use miette::{Diagnostic, LabeledSpan};
use serde_json::json;

/// One finding as a miette diagnostic.
#[derive(Clone, Debug)]
struct Shown {
    finding: Finding,
    help: Option<String>,
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.finding.suppression {
            Some(s) if !s.expired => write!(f, "{} (suppressed: {})", self.finding.message, s.reason),
            Some(s) => {
                write!(f, "{} (suppression expired on {})", self.finding.message, s.until.clone().unwrap_or_default())
            }
            None if self.finding.baseline == Some(BaselineState::Unchanged) => {
                write!(f, "{} (in baseline)", self.finding.message)
            }
            None => f.write_str(&self.finding.message),
        }
    }
}

impl std::error::Error for Shown {}

impl Diagnostic for Shown {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("policy::{}", self.finding.rule)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match (self.finding.active(), self.finding.severity) {
            (false, _) | (_, Severity::Info) => miette::Severity::Advice,
            (true, Severity::Warning) => miette::Severity::Warning,
            (true, Severity::Error) => miette::Severity::Error,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = if self.finding.proven { "here" } else { "not decidable before apply" };
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(Some(label.into()), self.finding.span))))
    }
}

impl Located for Shown {
    fn span(&self) -> Span {
        self.finding.span
    }
}

/// Prints findings for a person, grouped by file (findings are ordered by span).
pub fn human(report: &Report, sources: &SourceMap) {
    let color = crate::render::coloured(&std::io::stderr());
    let mut indexes = crate::render::Indexes::new();
    for finding in &report.findings {
        let rule = report.rule(&finding.rule);
        let help = rule.and_then(|r| r.fix.clone()).map(|fix| {
            match rule.map(|r| r.aliases.join(", ")).filter(|a| !a.is_empty()) {
                Some(aliases) => format!("{fix} (also known as {aliases})"),
                None => fix,
            }
        });
        let shown = Shown { finding: finding.clone(), help };
        eprint!("{}", crate::render::render_with(&shown, sources, color, &mut indexes));
    }
}

/// "2 errors, 1 warning, 1 suppressed".
pub fn summary(report: &Report) -> String {
    let baselined = in_baseline(report);
    let suppressed = report.findings.iter().filter(|f| !f.active()).count() - baselined;
    let baseline = if report.findings.iter().any(|f| f.baseline.is_some()) {
        format!(", {baselined} in baseline")
    } else {
        String::new()
    };
    format!(
        "policy: {}, {}, {} suppressed{baseline} ({} rules)",
        crate::render::count(report.active(Severity::Error), "error"),
        crate::render::count(report.active(Severity::Warning), "warning"),
        suppressed,
        report.rules.len()
    )
}

/// Findings that the baseline already holds (and that no live suppression covers).
fn in_baseline(report: &Report) -> usize {
    report
        .findings
        .iter()
        .filter(|f| f.baseline == Some(BaselineState::Unchanged) && f.suppression.as_ref().is_none_or(|s| s.expired))
        .count()
}

/// Where something is, as reports give it: 1-based lines and columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

/// A language error (syntax, names, types, evaluation, an unreadable file)
/// as the machine-readable reports give it beside policy findings, so a pull
/// request's annotations show why a file could not be judged at all.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Its stable code, e.g. `drone::check::undefined`.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when the diagnostic says.
    pub help: Option<String>,
    /// Where.
    pub place: Place,
}

impl Problem {
    /// A diagnostic located in `sources`.
    pub fn of<D: Diagnostic + Located>(diagnostic: &D, sources: &SourceMap) -> Problem {
        Problem {
            code: diagnostic.code().map_or_else(|| "drone::error".to_string(), |c| c.to_string()),
            message: diagnostic.to_string(),
            help: diagnostic.help().map(|h| h.to_string()),
            place: place(diagnostic.span(), sources),
        }
    }

    /// A failure that points at no source, reported against `file` itself.
    pub fn of_file(diagnostic: &dyn Diagnostic, file: &str) -> Problem {
        Problem {
            code: diagnostic.code().map_or_else(|| "drone::error".to_string(), |c| c.to_string()),
            message: diagnostic.to_string(),
            help: diagnostic.help().map(|h| h.to_string()),
            place: Place { file: file.to_string(), line: 1, column: 1, end_line: 1, end_column: 1 },
        }
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "code": self.code,
            "severity": "error",
            "message": self.message,
            "help": self.help,
            "file": self.place.file,
            "line": self.place.line,
            "column": self.place.column,
            "end_line": self.place.end_line,
            "end_column": self.place.end_column,
        })
    }

    /// As a GitHub workflow command.
    pub fn github(&self) -> String {
        annotation("error", &self.place, &self.code, &self.message)
    }
}

fn place(span: Span, sources: &SourceMap) -> Place {
    let Some(file) = sources.get(span.file) else {
        return Place { file: String::new(), line: 1, column: 1, end_line: 1, end_column: 1 };
    };
    let (line, column) = file.line_col(span.start as usize);
    let (end_line, end_column) = file.line_col(span.end as usize);
    Place { file: file.name.clone(), line, column, end_line, end_column }
}

/// The JSON report over several checked files (schema in README.md), with
/// the language errors of those that could not be judged.
pub fn json(reports: &[(Report, SourceMap)], problems: &[Problem]) -> serde_json::Value {
    let all = merged(reports);
    let findings: Vec<_> = reports
        .iter()
        .flat_map(|(report, sources)| report.findings.iter().map(move |f| (f, sources)))
        .map(|(f, sources)| {
            let p = place(f.span, sources);
            json!({
                "rule": f.rule,
                "severity": f.severity,
                "message": f.message,
                "address": f.address,
                "attribute": f.attribute,
                "file": p.file,
                "line": p.line,
                "column": p.column,
                "end_line": p.end_line,
                "end_column": p.end_column,
                "proven": f.proven,
                "active": f.active(),
                "suppression": f.suppression,
                "baseline": f.baseline,
            })
        })
        .collect();
    json!({
        "format_version": 1,
        "summary": {
            "errors": all.active(Severity::Error),
            "warnings": all.active(Severity::Warning),
            "info": all.active(Severity::Info),
            "suppressed": all.findings.iter().filter(|f| !f.active()).count() - in_baseline(&all),
            "in_baseline": in_baseline(&all),
            "language_errors": problems.len(),
        },
        "rules": all.rules,
        "findings": findings,
        "errors": problems.iter().map(Problem::json).collect::<Vec<_>>(),
    })
}

/// The rules and findings of several reports as one (rules once each).
fn merged(reports: &[(Report, SourceMap)]) -> Report {
    let mut all = Report::default();
    for (report, _) in reports {
        for rule in &report.rules {
            if all.rule(&rule.id).is_none() {
                all.rules.push(rule.clone());
            }
        }
        all.findings.extend(report.findings.iter().cloned());
    }
    all
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A SARIF 2.1.0 log with one run over several checked files.
pub fn sarif(reports: &[(Report, SourceMap)], problems: &[Problem]) -> serde_json::Value {
    let all = merged(reports);
    let rules: Vec<_> = all
        .rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id.replace('.', "_"),
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": r.rationale.clone().unwrap_or_else(|| r.title.clone()) },
                "help": { "text": r.fix.clone().unwrap_or_else(|| r.title.clone()) },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": { "aliases": r.aliases, "pack": r.pack },
            })
        })
        .collect();
    let results: Vec<_> = reports
        .iter()
        .flat_map(|(report, sources)| report.findings.iter().map(move |f| (f, sources)))
        .map(|(f, sources)| {
            let p = place(f.span, sources);
            let index = all.rules.iter().position(|r| r.id == f.rule).unwrap_or(0);
            let mut result = json!({
                "ruleId": f.rule,
                "ruleIndex": index,
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": p.file.trim_start_matches("./") },
                        "region": { "startLine": p.line, "startColumn": p.column, "endLine": p.end_line, "endColumn": p.end_column },
                    },
                    "logicalLocations": [{ "fullyQualifiedName": f.address, "kind": "resource" }],
                }],
            });
            if let Some(state) = f.baseline {
                result["baselineState"] = json!(match state {
                    BaselineState::New => "new",
                    BaselineState::Unchanged => "unchanged",
                });
            }
            if let Some(s) = &f.suppression {
                result["suppressions"] = json!([{
                    "kind": "inSource",
                    "status": if s.expired { "rejected" } else { "accepted" },
                    "justification": s.reason,
                }]);
            }
            result
        })
        .collect();
    // Language errors: one rule per code, after the policy rules.
    let mut rules = rules;
    let mut results = results;
    let mut codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let first = rules.len();
    for code in &codes {
        rules.push(json!({
            "id": code,
            "name": code.replace("::", "_"),
            "shortDescription": { "text": "a language error: the file cannot be checked further" },
            "defaultConfiguration": { "level": "error" },
            "properties": { "pack": "language" },
        }));
    }
    for problem in problems {
        let p = &problem.place;
        let index = first + codes.iter().position(|c| *c == problem.code).unwrap_or(0);
        let text = match &problem.help {
            Some(help) => format!("{} (help: {help})", problem.message),
            None => problem.message.clone(),
        };
        results.push(json!({
            "ruleId": problem.code,
            "ruleIndex": index,
            "level": "error",
            "message": { "text": text },
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": { "uri": p.file.trim_start_matches("./") },
                    "region": { "startLine": p.line, "startColumn": p.column, "endLine": p.end_line, "endColumn": p.end_column },
                },
            }],
        }));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "drone",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/drone-shuttle/drone",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// GitHub Actions workflow commands, one per active finding.
pub fn github(report: &Report, sources: &SourceMap) -> String {
    let mut out = String::new();
    for f in report.findings.iter().filter(|f| f.active()) {
        let p = place(f.span, sources);
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        out.push_str(&annotation(command, &p, &f.rule, &f.message));
    }
    out
}

/// One GitHub Actions workflow command (`::error file=...::message`) at `p`.
fn annotation(command: &str, p: &Place, title: &str, message: &str) -> String {
    format!(
        "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
        property(&p.file),
        p.line,
        p.column,
        p.end_line,
        p.end_column,
        property(title),
        data(message)
    )
}

/// Escapes a workflow-command message.
fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow-command property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}
