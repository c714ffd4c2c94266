//! Compiling a script without running it: rhai's syntax, every function it
//! calls defined somewhere (rhai's library, drone's host functions, the script
//! itself), and every host function it calls held by its grants (on the
//! resource, where the script writes the resource as a literal). `drone check`
//! runs this on untrusted pull requests, so nothing here evaluates the script.

use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rhai::{ASTNode, Expr, Scope};

use crate::engine::{bare, Limits};
use crate::host::{register, AwsCall, Context, DbTarget, ScriptHost, HOST_FUNCTIONS, HOST_METHODS};
use crate::spec::ScriptSpec;
use crate::ScriptError;

/// The functions every script may call besides its own: rhai's standard library and the host
/// functions and methods drone registers, one name per line, sorted. Listing them from an
/// engine costs more than compiling a script, so they are listed here, and a test holds the
/// list to what the engine has (`DRONE_BLESS=1` rewrites it after a rhai upgrade).
const LIBRARY: &str = include_str!("library.names");

fn library() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| LIBRARY.lines().collect())
}

/// rhai's own functions that are not in its packages' signatures.
const BUILT_IN: &[&str] =
    &["print", "debug", "type_of", "Fn", "call", "curry", "is_def_var", "is_def_fn", "is_shared", "throw"];

/// Every error `spec`'s script has that is known before it runs.
pub fn check(spec: &ScriptSpec) -> Vec<ScriptError> {
    let engine = engine_for(spec);
    let ast = match engine.compile_with_scope(&scope(spec, &serde_json::Map::new(), false), &spec.source.text) {
        Ok(ast) => ast,
        Err(e) => {
            let message = e.0.to_string();
            return vec![ScriptError::Syntax { message, span: spec.source.span(e.1) }];
        }
    };
    let library = library();
    let own: BTreeSet<String> = ast.iter_functions().map(|f| f.name.to_string()).collect();
    let mut errors = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        // A call standing as a statement is a node of its own.
        let statement_call;
        let expr = match path.last() {
            Some(ASTNode::Expr(expr)) => *expr,
            Some(ASTNode::Stmt(rhai::Stmt::FnCall(call, pos))) => {
                statement_call = Expr::FnCall(call.clone(), *pos);
                &statement_call
            }
            _ => return true,
        };
        match expr {
            Expr::FnCall(call, pos) => {
                let name = if call.is_qualified() {
                    format!("{}::{}", call.namespace, call.name)
                } else {
                    call.name.to_string()
                };
                let span = spec.source.span(*pos);
                if let Some(f) = HOST_FUNCTIONS.iter().find(|f| f.path == name) {
                    // The resource (or URL) when written out as the first argument.
                    let target = call.args.first().and_then(|a| match a {
                        Expr::StringConstant(s, _) => Some(s.to_string()),
                        _ => None,
                    });
                    errors.extend(match f.path {
                        "http::get" => ungranted_host(spec, target.as_deref(), *pos),
                        _ => ungranted(spec, f.path, f.grant, target.as_deref(), *pos),
                    });
                } else if call.is_qualified() {
                    errors.push(unknown(&name, span, HOST_FUNCTIONS.iter().map(|f| f.path)));
                } else {
                    let operator = !name.starts_with(|c: char| c.is_alphabetic() || c == '_');
                    let defined = own.contains(&name)
                        || library.binary_search(&name.as_str()).is_ok()
                        || BUILT_IN.contains(&name.as_str());
                    if !(operator || defined) {
                        let names = own
                            .iter()
                            .map(String::as_str)
                            .chain(library.iter().copied())
                            .chain(HOST_FUNCTIONS.iter().map(|f| f.path));
                        errors.push(unknown(&name, span, names));
                    }
                }
            }
            Expr::MethodCall(call, pos) => {
                let name = call.name.as_str();
                if !(own.contains(name)
                    || library.binary_search(&name).is_ok()
                    || HOST_METHODS.contains(&name)
                    || BUILT_IN.contains(&name))
                {
                    let names = own
                        .iter()
                        .map(String::as_str)
                        .chain(library.iter().copied())
                        .chain(HOST_METHODS.iter().copied());
                    errors.push(unknown(name, spec.source.span(*pos), names));
                }
            }
            _ => {}
        }
        true
    });
    errors
}

fn unknown<'a>(name: &str, span: drone_lang::Span, known: impl Iterator<Item = &'a str>) -> ScriptError {
    let host: Vec<&str> = HOST_FUNCTIONS.iter().map(|f| f.path).collect();
    let help = drone_lang::suggest::did_you_mean(
        drone_lang::suggest::closest(name, known),
        &format!("scripts call rhai's functions, their own, and drone's: {}", host.join(", ")),
    );
    ScriptError::UnknownFunction { name: name.to_string(), span, help }
}

/// The error for calling `function` without its grant, when that is known
/// now: the script holds no grant of the kind, or names a resource it holds
/// none on.
fn ungranted(
    spec: &ScriptSpec,
    function: &str,
    grant: Option<&str>,
    target: Option<&str>,
    pos: rhai::Position,
) -> Option<ScriptError> {
    let kind = grant?;
    (!spec.grants.allows(kind, target)).then(|| not_granted(spec, function, kind, target, pos))
}

/// The error for `http::get` of a literal URL whose host no grant names (or with no `http.get` grant at all).
fn ungranted_host(spec: &ScriptSpec, url: Option<&str>, pos: rhai::Position) -> Option<ScriptError> {
    let host = url.and_then(crate::host::authority);
    if spec.grants.allows_host(host.as_deref()) {
        return None;
    }
    let written = host.clone().unwrap_or_else(|| "HOST".into());
    Some(ScriptError::NotGranted {
        function: "http::get".into(),
        grant: "http.get".into(),
        on: host.map(|h| format!(" for {h}")).unwrap_or_default(),
        span: spec.source.span(pos),
        help: Some(format!("add `http.get(hosts = [\"{written}\"])` to the grants of {}", spec.title())),
    })
}

fn not_granted(
    spec: &ScriptSpec,
    function: &str,
    kind: &str,
    target: Option<&str>,
    pos: rhai::Position,
) -> ScriptError {
    let on = target.map(|t| format!(" on {t}")).unwrap_or_default();
    let help = Some(format!("add `{kind}({})` to the grants of {}", target.unwrap_or("RESOURCE"), spec.title()));
    ScriptError::NotGranted { function: function.into(), grant: kind.into(), on, span: spec.source.span(pos), help }
}

/// The variables every script sees: `args` (a task's arguments), `dry_run`,
/// and `event` (what a hook runs on).
pub fn scope(spec: &ScriptSpec, args: &serde_json::Map<String, serde_json::Value>, dry_run: bool) -> Scope<'static> {
    let mut scope = Scope::new();
    scope.push_constant("args", crate::host::to_dynamic(&serde_json::Value::Object(args.clone())));
    scope.push_constant("dry_run", dry_run);
    let event = spec.event.as_ref().map(|e| {
        let (on, target) = match &e.on {
            drone_lang::ast::HookOn::Phase(p) => ("phase".to_string(), p.name.clone()),
            drone_lang::ast::HookOn::Destroy => ("destroy".to_string(), String::new()),
            drone_lang::ast::HookOn::Resource(op, target) => {
                (op.word().to_string(), crate::grants::address(target).unwrap_or_default())
            }
        };
        serde_json::json!({ "on": on, "target": target })
    });
    scope.push_constant("event", crate::host::to_dynamic(&event.unwrap_or(serde_json::Value::Null)));
    scope
}

/// An engine to compile `spec` with: hardened, with drone's host functions registered and
/// without the standard library (compiling calls none of it).
fn engine_for(spec: &ScriptSpec) -> rhai::Engine {
    let mut engine = bare(&Limits::default(), Instant::now(), Arc::new(|_| {}));
    register(&mut engine, Rc::new(checking_context(spec.grants.clone(), spec.source.clone())));
    engine
}

/// The context host functions see while checking: a host that refuses every call.
fn checking_context(grants: drone_lang::grants::Grants, source: crate::spec::Source) -> Context {
    struct Nowhere;
    impl ScriptHost for Nowhere {
        fn resource(&self, _: &str) -> Result<serde_json::Value, String> {
            Err("not while checking".into())
        }
        fn aws(&self, _: &AwsCall) -> Result<serde_json::Value, String> {
            Err("not while checking".into())
        }
        fn database(&self, _: &str) -> Result<DbTarget, String> {
            Err("not while checking".into())
        }
        fn audit(&self, _: serde_json::Value) -> Result<(), String> {
            Err("not while checking".into())
        }
        fn http_get(&self, _: &str) -> Result<(u16, String), String> {
            Err("not while checking".into())
        }
    }
    Context {
        host: Arc::new(Nowhere),
        grants,
        source,
        failure: Default::default(),
        journal: Default::default(),
        statements: Default::default(),
        deadline: Instant::now() + Limits::default().deadline,
        timeout: Limits::default().deadline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_list_is_what_the_engine_has() {
        let mut engine = crate::engine::hardened(&Limits::default(), Instant::now(), Arc::new(|_| {}));
        let source = crate::spec::Source { text: String::new(), file: drone_lang::FileId(0), offset: 0 };
        register(&mut engine, Rc::new(checking_context(Default::default(), source)));
        let names: BTreeSet<String> = engine
            .gen_fn_signatures(true)
            .iter()
            .filter_map(|s| s.trim_start_matches("fn ").split('(').next().map(|n| n.trim().to_string()))
            .collect();
        let listed: String = names.iter().map(|n| format!("{n}\n")).collect();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/library.names");
        if std::env::var_os("DRONE_BLESS").is_some() {
            std::fs::write(&path, &listed).expect("write library.names");
            return;
        }
        assert!(LIBRARY == listed, "the engine's functions changed: rewrite {} with DRONE_BLESS=1", path.display());
    }
}
