//! The one rhai engine every script runs in. Limits bound operations, call
//! depth, expression depth and the size of strings, arrays and maps; a
//! deadline is checked from the progress callback; `eval` is disabled; there
//! is no module resolver (so no `import` from files) and rhai has no file,
//! network or environment access of its own; `print` and `debug` go to
//! drone's progress output, never to stdout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine};

/// What a script may use up.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Operations (rhai counts each expression step).
    pub operations: u64,
    /// Nested function calls.
    pub call_depth: usize,
    /// Nesting of expressions (and of expressions inside functions).
    pub expr_depth: usize,
    /// Bytes in one string.
    pub string_bytes: usize,
    /// Elements in one array.
    pub array_len: usize,
    /// Entries in one map.
    pub map_len: usize,
    /// Wall-clock time from the start.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            operations: 500_000_000,
            call_depth: 64,
            expr_depth: 64,
            string_bytes: 16 * 1024 * 1024,
            array_len: 1_000_000,
            map_len: 100_000,
            deadline: Duration::from_secs(300),
        }
    }
}

/// The reason a run was terminated from the progress callback.
pub const DEADLINE: &str = "drone:deadline";

/// Where a script's `print` and `debug` lines go.
pub type Output = Arc<dyn Fn(&str) + Send + Sync>;

/// The hardened engine, with the standard library and nothing else; `started`
/// is when the deadline starts counting.
pub fn hardened(limits: &Limits, started: Instant, output: Output) -> Engine {
    thread_local! {
        // Built once: the standard library's thousand functions cost more to register than a
        // script costs to compile.
        static STANDARD: rhai::Shared<rhai::Module> =
            rhai::packages::Package::as_shared_module(&rhai::packages::StandardPackage::new());
    }
    let mut engine = bare(limits, started, output);
    engine.register_global_module(STANDARD.with(Clone::clone));
    engine
}

/// The hardened engine without the standard library: enough to compile a script, which
/// calls no function.
pub fn bare(limits: &Limits, started: Instant, output: Output) -> Engine {
    let mut engine = Engine::new_raw();
    engine.set_module_resolver(rhai::module_resolvers::StaticModuleResolver::new());
    engine.set_max_modules(0);
    engine.disable_symbol("eval");
    engine.set_strict_variables(true);
    engine.set_fail_on_invalid_map_property(true);
    engine.set_max_operations(limits.operations);
    engine.set_max_call_levels(limits.call_depth);
    engine.set_max_expr_depths(limits.expr_depth, limits.expr_depth);
    engine.set_max_string_size(limits.string_bytes);
    engine.set_max_array_size(limits.array_len);
    engine.set_max_map_size(limits.map_len);
    let deadline = started + limits.deadline;
    engine.on_progress(move |ops| {
        // Reading the clock every operation would cost more than the script.
        (ops % 4096 == 0 && Instant::now() >= deadline).then(|| Dynamic::from(DEADLINE))
    });
    let print = output.clone();
    engine.on_print(move |line| print(line));
    engine.on_debug(move |line, _, _| output(line));
    engine
}
