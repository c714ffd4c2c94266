//! Running one script: arguments checked against the task's inputs, the
//! hardened engine with the host functions bound to the grants, and every way
//! the run can stop turned into a [`ScriptError`] with the script's span.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use rhai::EvalAltResult;

use crate::engine::{hardened, Limits, Output, DEADLINE};
use crate::host::{register, Context, Journaled, ScriptHost, HOST_FAILURE};
use crate::spec::ScriptSpec;
use crate::ScriptError;

/// What a finished run did.
#[derive(Clone, Debug)]
pub struct Report {
    /// The script's result, as JSON.
    pub result: serde_json::Value,
    /// Host functions called, in order.
    pub journal: Vec<Journaled>,
    /// SQL statements sent.
    pub statements: u64,
}

/// Runs `spec` with `args` (`--arg k=v`, as text) on `host`.
pub fn run(
    spec: &ScriptSpec,
    args: &[(String, String)],
    dry_run: bool,
    host: Arc<dyn ScriptHost>,
    output: Output,
) -> Result<Report, ScriptError> {
    let args = arguments(spec, args)?;
    let started = Instant::now();
    let limits = Limits { deadline: spec.timeout, ..Limits::default() };
    let mut engine = hardened(&limits, started, output);
    let context = Rc::new(Context {
        host,
        grants: spec.grants.clone(),
        source: spec.source.clone(),
        failure: Default::default(),
        journal: Default::default(),
        statements: Default::default(),
        deadline: started + limits.deadline,
        timeout: limits.deadline,
    });
    register(&mut engine, context.clone());
    let mut scope = crate::check::scope(spec, &args, dry_run);
    let ast = engine
        .compile_with_scope(&scope, &spec.source.text)
        .map_err(|e| ScriptError::Syntax { message: e.0.to_string(), span: spec.source.span(e.1) })?;
    let outcome = engine.eval_ast_with_scope::<rhai::Dynamic>(&mut scope, &ast);
    // Connections (and their open transactions) go with the scope and the AST's values.
    drop(scope);
    match outcome {
        Ok(value) => Ok(Report {
            result: crate::host::to_json(&value),
            journal: context.journal.borrow().clone(),
            statements: context.statements.get(),
        }),
        Err(error) => Err(stopped(spec, &context, *error, limits.deadline)),
    }
}

/// The error a stopped run reports.
fn stopped(spec: &ScriptSpec, context: &Context, error: EvalAltResult, deadline: std::time::Duration) -> ScriptError {
    if let Some(kept) = context.failure.borrow_mut().take() {
        return kept;
    }
    let span = spec.source.span(error.position());
    let limit = |limit: &'static str, detail: String| ScriptError::Limit { limit, detail, span };
    match error {
        EvalAltResult::ErrorRuntime(ref v, _) if v.to_string() == HOST_FAILURE => {
            ScriptError::Failed { message: "a host function failed".into(), span }
        }
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) | EvalAltResult::ErrorInModule(_, inner, _) => {
            stopped(spec, context, *inner, deadline)
        }
        EvalAltResult::ErrorTerminated(ref v, _) if v.to_string() == DEADLINE => {
            limit("time", format!(" ({})", humane(deadline)))
        }
        EvalAltResult::ErrorTooManyOperations(_) => limit("operations", format!(" ({})", Limits::default().operations)),
        EvalAltResult::ErrorStackOverflow(_) => {
            limit("call depth", format!(" ({} calls)", Limits::default().call_depth))
        }
        EvalAltResult::ErrorDataTooLarge(ref what, _) => limit("size", format!(": {what}")),
        EvalAltResult::ErrorTooManyVariables(_) => limit("variables", String::new()),
        EvalAltResult::ErrorTooManyModules(_) | EvalAltResult::ErrorModuleNotFound(..) => {
            limit("modules", ": scripts import no modules".into())
        }
        other => ScriptError::Failed { message: other.to_string(), span },
    }
}

/// A duration as `timeout` is written: `2s`, `30m`.
pub(crate) fn humane(d: std::time::Duration) -> String {
    if d.as_secs() >= 60 && d.as_secs() % 60 == 0 {
        format!("{}m", d.as_secs() / 60)
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// `--arg k=v` pairs checked against the task's inputs and typed; defaults
/// fill the rest.
fn arguments(
    spec: &ScriptSpec,
    given: &[(String, String)],
) -> Result<serde_json::Map<String, serde_json::Value>, ScriptError> {
    let inputs = spec.inputs.iter().map(|i| format!("{}: {}", i.name, i.ty)).collect::<Vec<_>>().join(", ");
    let error = |name: &str, reason: String| ScriptError::Argument {
        name: name.into(),
        reason,
        inputs: if inputs.is_empty() { "none".into() } else { inputs.clone() },
        span: spec.span,
    };
    let mut out = serde_json::Map::new();
    for (name, text) in given {
        let Some(input) = spec.inputs.iter().find(|i| &i.name == name) else {
            return Err(error(name, format!("{} has no such input", spec.title())));
        };
        if let Some(elem) = input.ty.strip_prefix("list(").and_then(|t| t.strip_suffix(')')) {
            // `ids=` or `ids=a,,b` is a slip, not a request for no filter: a default leaves the argument out.
            if text.trim().is_empty() {
                return Err(error(
                    name,
                    "is given with no items; leave it out for its default, or give at least one".into(),
                ));
            }
            if text.split(',').any(|part| part.trim().is_empty()) {
                return Err(error(name, format!("`{text}` has an empty item; give {elem}s separated by commas")));
            }
        }
        let value = typed(&input.ty, text).ok_or_else(|| error(name, format!("`{text}` is not a {}", input.ty)))?;
        out.insert(name.clone(), value);
    }
    for input in &spec.inputs {
        if !out.contains_key(&input.name) {
            match &input.default {
                Some(d) => {
                    out.insert(input.name.clone(), d.clone());
                }
                None => return Err(error(&input.name, "is required".into())),
            }
        }
    }
    Ok(out)
}

fn typed(ty: &str, text: &str) -> Option<serde_json::Value> {
    Some(match ty {
        "string" => text.into(),
        "number" => {
            let n: f64 = text.trim().parse().ok()?;
            if n.fract() == 0.0 && n.abs() < 9e15 {
                (n as i64).into()
            } else {
                serde_json::Number::from_f64(n)?.into()
            }
        }
        "bool" => text.trim().parse::<bool>().ok()?.into(),
        _ => match ty.strip_prefix("list(").and_then(|t| t.strip_suffix(')')) {
            Some(elem) => text.split(',').map(|part| typed(elem, part.trim())).collect::<Option<Vec<_>>>()?.into(),
            None => return None,
        },
    })
}
