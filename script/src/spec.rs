//! The scripts a program declares, read out of its syntax tree: each with
//! its kind, event, inputs, grants and source text (read through the confined
//! reader and added to the program's sources, so errors point into it).

use std::path::Path;
use std::time::Duration;

use drone_lang::ast::{HookEvent, Item, Script, ScriptKind};
use drone_lang::span::{FileId, Span};
use drone_lang::Program;

use crate::grants::Grants;
use crate::ScriptError;

/// One declared script.
#[derive(Clone, Debug)]
pub struct ScriptSpec {
    /// Task, step or hook.
    pub kind: ScriptKind,
    /// Its name.
    pub name: String,
    /// The phase a step belongs to.
    pub phase: Option<String>,
    /// A hook's event.
    pub event: Option<HookEvent>,
    /// A task's inputs.
    pub inputs: Vec<InputSpec>,
    /// What it may do.
    pub grants: Grants,
    /// Its text and where it comes from.
    pub source: Source,
    /// How long it may run.
    pub timeout: Duration,
    /// A task's `fargate` settings (evaluated by `drone task --on fargate`).
    pub fargate: Option<drone_lang::ast::Expr>,
    /// Its name in the workflow.
    pub span: Span,
}

impl ScriptSpec {
    /// `task delete_posts`, for messages.
    pub fn title(&self) -> String {
        format!("{} {}", self.kind.keyword(), self.name)
    }
}

/// A task's input.
#[derive(Clone, Debug)]
pub struct InputSpec {
    /// Its name.
    pub name: String,
    /// Its type as written: `string`, `number`, `bool`, `list(string)`, ...
    pub ty: String,
    /// Its default, when it has one (a literal).
    pub default: Option<serde_json::Value>,
}

/// A script's text and the file it lives in.
#[derive(Clone, Debug)]
pub struct Source {
    /// The text.
    pub text: String,
    /// The file holding it (the workflow for an inline script).
    pub file: FileId,
    /// Where the text starts in that file.
    pub offset: usize,
}

impl Source {
    /// The span of a rhai position (1-based line and column) in the file.
    pub fn span(&self, pos: rhai::Position) -> Span {
        let (Some(line), column) = (pos.line(), pos.position().unwrap_or(1)) else {
            return Span::new(self.file, self.offset, self.offset);
        };
        let start_of_line: usize = self.text.split_inclusive('\n').take(line - 1).map(str::len).sum();
        let line_text = self.text[start_of_line.min(self.text.len())..].split('\n').next().unwrap_or("");
        let column_bytes: usize = line_text.chars().take(column.saturating_sub(1)).map(char::len_utf8).sum();
        let at = self.offset + start_of_line + column_bytes;
        let word = line_text[column_bytes.min(line_text.len())..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(line_text.len().saturating_sub(column_bytes))
            .max(1);
        Span::new(self.file, at, (at + word).min(self.offset + self.text.len()))
    }
}

/// Every script the program declares, in order; `root` confines `run` files.
pub fn collect(program: &mut Program, root: &Path) -> Result<Vec<ScriptSpec>, Vec<ScriptError>> {
    let mut found: Vec<(&Script, Option<String>)> = Vec::new();
    for item in &program.root.items {
        match item {
            Item::Script(s) => found.push((s, None)),
            Item::Phase(p) => {
                for inner in &p.items {
                    if let Item::Script(s) = inner {
                        found.push((s, Some(p.name.name.clone())));
                    }
                }
            }
            _ => {}
        }
    }
    let found: Vec<(Script, Option<String>)> = found.into_iter().map(|(s, p)| (s.clone(), p)).collect();
    let base = program.root_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let (mut specs, mut errors) = (Vec::new(), Vec::new());
    for (script, phase) in found {
        let source = match (&script.inline, script.attribute("run")) {
            (Some(inline), _) => Source {
                text: inline.text.clone(),
                file: inline.text_span.file,
                offset: inline.text_span.start as usize,
            },
            (None, Some(run)) => {
                let path = run.value.literal_text().unwrap_or_default();
                match drone_lang::read_confined(root, &base.join(&path)) {
                    Ok(text) => {
                        let name = base.join(&path).display().to_string();
                        let file =
                            program.sources.find(&name).unwrap_or_else(|| program.sources.add(name, text.clone()));
                        Source { text, file, offset: 0 }
                    }
                    Err(reason) => {
                        errors.push(ScriptError::Source { path, reason, span: run.value.span });
                        continue;
                    }
                }
            }
            // The checker reported it.
            (None, None) => continue,
        };
        let inputs = script
            .inputs
            .iter()
            .map(|i| InputSpec {
                name: i.name.name.clone(),
                ty: type_text(&i.ty),
                default: i.default.as_ref().and_then(literal_json),
            })
            .collect();
        let timeout = script
            .attribute("timeout")
            .and_then(|a| a.value.literal_text())
            .and_then(|t| drone_lang::duration::parse(&t))
            .unwrap_or(Duration::from_secs(300));
        specs.push(ScriptSpec {
            kind: script.kind.clone(),
            name: script.name.name.clone(),
            phase,
            event: script.event.clone(),
            inputs,
            grants: script.attribute("grants").map(|a| Grants::from_expr(&a.value)).unwrap_or_default(),
            source,
            timeout,
            fargate: script.attribute("fargate").map(|a| a.value.clone()),
            span: script.name.span,
        });
    }
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(errors)
    }
}

fn type_text(t: &drone_lang::ast::TypeExpr) -> String {
    match &t.arg {
        Some(arg) => format!("{}({})", t.name.name, type_text(arg)),
        None => t.name.name.clone(),
    }
}

/// A literal expression as JSON (inputs' defaults are written out).
fn literal_json(expr: &drone_lang::ast::Expr) -> Option<serde_json::Value> {
    use drone_lang::ast::ExprKind;
    Some(match &expr.kind {
        ExprKind::Null => serde_json::Value::Null,
        ExprKind::Bool(b) => (*b).into(),
        ExprKind::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => (*n as i64).into(),
        ExprKind::Number(n) => serde_json::Number::from_f64(*n)?.into(),
        ExprKind::String(_) => expr.literal_text()?.into(),
        ExprKind::List(items) => items.iter().map(literal_json).collect::<Option<Vec<_>>>()?.into(),
        ExprKind::Unary(drone_lang::ast::UnaryOp::Neg, inner) => match literal_json(inner)? {
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => (-i).into(),
                None => serde_json::Number::from_f64(-n.as_f64()?)?.into(),
            },
            _ => return None,
        },
        _ => return None,
    })
}
