//! The pull-request gate in process: each step `drone check workflows/prod.drone` takes, on the
//! real workflow, its components and the built-in packs, in a release build without the AWS SDK.
//! Run: `cargo bench -p drone-stdlib --no-default-features --bench gate` (the whole process,
//! start to exit: `scripts/bench-check`). Prints the median and fastest of 20 runs of each step,
//! and the one-off cost of what is built once per process.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use drone_engine::functions::CallContext;
use drone_engine::host::MemoryHost;

mod support;

/// Runs `step` twenty times and prints its median and fastest time.
fn measure<T>(name: &str, step: impl FnMut() -> T) {
    support::measure(&format!("prod.drone/{name:<30}"), 20, step);
}

fn once<T>(name: &str, step: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = step();
    println!("prod.drone/{name:<30} once   {:>10.2?}", start.elapsed());
    out
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().expect("root");
    let file = root.join("workflows/prod.drone");
    let text = std::fs::read_to_string(&file).expect("prod.drone");
    let catalog = once("catalog (resource types)", drone_stdlib::catalog);
    let loader = drone_lang::FsLoader { root: root.clone() };
    measure("load (parse, use, components)", || drone_lang::load(&file, text.clone(), &loader));
    let (program, errors) = drone_lang::load(&file, text.clone(), &loader);
    assert!(errors.is_empty(), "{errors:?}");
    measure("check", || drone_lang::check(&program, &catalog));
    let host = MemoryHost { today: "2026-12-07".into(), ..MemoryHost::default() };
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    let params = BTreeMap::new();
    let input = drone_engine::eval::EvalInput { params: &params, cx: &cx, missing_unknown: true };
    measure("expand", || drone_engine::eval::expand(&program, &catalog, &input));
    let model = drone_engine::eval::expand(&program, &catalog, &input).expect("expands");
    measure("validate", || drone_engine::validate::validate(&model, &catalog, &cx));
    let mut sources = drone_lang::SourceMap::new();
    let packs_dir = root.join("policies");
    let mut texts = Vec::new();
    for name in ["network", "data", "iam", "scripts", "operations"] {
        texts.push((name, std::fs::read_to_string(packs_dir.join(format!("{name}.drone"))).expect("pack")));
    }
    let parse_packs = |sources: &mut drone_lang::SourceMap| {
        texts
            .iter()
            .map(|(name, text)| {
                let id = sources.add(*name, text.clone());
                let parsed = drone_lang::parse(id, text);
                assert!(parsed.errors.is_empty());
                assert!(drone_lang::check_policies(&parsed.module, &catalog).is_empty());
                (name.to_string(), parsed.module)
            })
            .collect::<Vec<_>>()
    };
    measure("packs (parse, check)", || parse_packs(&mut drone_lang::SourceMap::new()));
    let modules = parse_packs(&mut sources);
    let packs: Vec<drone_engine::policy::Pack<'_>> =
        modules.iter().map(|(name, module)| drone_engine::policy::Pack { name: name.clone(), module }).collect();
    measure("policies (evaluate)", || drone_engine::policy::evaluate(&packs, &model, &catalog, &cx, &[]));
}
