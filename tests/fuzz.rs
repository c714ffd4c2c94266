//! A mutation fuzzer for the front end, on stable Rust: inputs made from the
//! repository's `.drone` files (workflows, policy packs, test fixtures) by
//! seeded mutations (tokens inserted, slices deleted, repeated or spliced from
//! another file) go through parse, check, expansion, the built-in policy
//! packs, formatting and diagnostic rendering, in this process, with a 2 MiB
//! stack (a tokio worker's). Any panic fails the test and the input is kept
//! in `tests/fuzz/crashes/`, which every run replays first; a stack overflow
//! aborts the process, and the input it was running is left in
//! `target/fuzz-last.drone`. The suite runs a bounded pass
//! (`DRONE_FUZZ_RUNS`, default 3,000); `scripts/fuzz` runs long ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use drone_engine::functions::CallContext;
use drone_engine::host::MemoryHost;
use drone_engine::policy::{self, Pack};
use drone_lang::{Catalog, SourceLoader};

use super::support::root;

/// Tokens the mutator inserts: the language's punctuation and keywords, deep
/// and large constructs, and text that is hard to render.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "${",
    "}\"",
    "!",
    "-",
    "?",
    ":",
    "else if true { }",
    "for x in range(0, 9) { ",
    "range(0, 100000)",
    ".a",
    "[0]",
    "[*]",
    "()",
    "+ 1",
    "&& true",
    "== null",
    "#",
    "//",
    "/*",
    "*/",
    "\\",
    "\n",
    "é",
    "\u{0}",
    "\u{202e}",
    "\t",
    "resource aws.s3.bucket b { name = \"x\" }",
    "let z = z",
    "use \"x.drone\" as x",
    "@allow(network.public_ingress, reason = \"r\")",
    "policy p.q { flag true, \"m\" }",
    "phase p { }",
    "0.0.0.0/0",
    "1e308",
    "-9223372036854775809",
    "concat(",
    "format(\"%s%d\", ",
    "secret(\"env:X\")",
    "file(\"/etc/passwd\")",
];

/// A seeded xorshift generator.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Every `.drone` file of the repository's workflows, policies and test fixtures.
fn corpus() -> Vec<String> {
    let mut out = Vec::new();
    for dir in [
        "workflows",
        "policies",
        "stdlib/components",
        "tests/workflows",
        "tests/policies",
        "tests/golden/diagnostics",
        "lang/tests/golden",
    ] {
        collect(&root().join(dir), &mut out);
    }
    assert!(out.len() > 10, "the corpus is too small: {}", out.len());
    out
}

fn collect(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|x| x == "drone") {
            if let Ok(text) = std::fs::read_to_string(&path) {
                out.push(text);
            }
        }
    }
}

/// One mutation of `text`, at a char boundary.
fn mutate(text: &str, corpus: &[String], dice: &mut Dice) -> String {
    let mut out = text.to_string();
    for _ in 0..1 + dice.below(6) {
        let boundaries: Vec<usize> = (0..=out.len()).filter(|i| out.is_char_boundary(*i)).collect();
        let at = boundaries[dice.below(boundaries.len())];
        let to = boundaries[(boundaries.partition_point(|b| *b < at) + dice.below(40)).min(boundaries.len() - 1)];
        match dice.below(5) {
            0 => out.insert_str(at, TOKENS[dice.below(TOKENS.len())]),
            1 => {
                out.replace_range(at..to, "");
            }
            2 => {
                let piece = out[at..to].to_string();
                let most = if dice.below(10) == 0 { 3000 } else { 8 };
                let times = 1 + dice.below(most);
                out.insert_str(at, &piece.repeat(times));
            }
            3 => {
                let other = &corpus[dice.below(corpus.len())];
                let start = (0..=other.len()).filter(|i| other.is_char_boundary(*i)).nth(dice.below(other.len() + 1));
                if let Some(start) = start {
                    let end = (start..=other.len()).rfind(|i| other.is_char_boundary(*i) && *i <= start + 200);
                    out.insert_str(at, &other[start..end.unwrap_or(start)]);
                }
            }
            _ => {
                let token = TOKENS[dice.below(TOKENS.len())];
                out.insert_str(at, &token.repeat(1 + dice.below(300)));
            }
        }
    }
    out
}

struct NoFiles;

impl SourceLoader for NoFiles {
    fn load(&self, path: &Path) -> Result<String, String> {
        Err(format!("{}: not in the fuzzer", path.display()))
    }
}

/// The built-in policy packs, parsed once.
fn packs() -> Vec<(String, drone_lang::ast::Module)> {
    ["network", "data", "iam"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(root().join(format!("policies/{name}.drone"))).expect("pack");
            let parsed = drone_lang::parse(drone_lang::span::FileId(0), &text);
            assert!(parsed.errors.is_empty());
            (name.to_string(), parsed.module)
        })
        .collect()
}

/// Everything the front end does with one input; renders every diagnostic.
fn exercise(text: &str, catalog: &Catalog, packs: &[(String, drone_lang::ast::Module)]) {
    let (program, errors) = drone_lang::load(Path::new("fuzz.drone"), text.to_string(), &NoFiles);
    for e in &errors {
        let _ = drone::render::render(e, &program.sources, false);
    }
    if let Some(file) = program.sources.get(program.root_file) {
        let _ = drone_lang::fmt::format(&file.text, &program.root);
    }
    if !errors.is_empty() {
        return;
    }
    let errors = drone_lang::check(&program, catalog);
    for e in &errors {
        let _ = drone::render::render(e, &program.sources, false);
    }
    if !errors.is_empty() {
        return;
    }
    let host = MemoryHost { today: "2026-11-27".into(), ..MemoryHost::default() };
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    let input = drone_engine::eval::EvalInput { params: &BTreeMap::new(), cx: &cx, missing_unknown: false };
    let model = match drone_engine::eval::expand(&program, catalog, &input) {
        Ok(model) => model,
        Err(errors) => {
            for e in &errors {
                let _ = drone::render::render(e, &program.sources, false);
            }
            return;
        }
    };
    let packs: Vec<Pack<'_>> = packs.iter().map(|(name, module)| Pack { name: name.clone(), module }).collect();
    let _ = policy::evaluate(&packs, &model, catalog, &cx, &[]);
}

/// Runs `runs` mutated inputs from `seed`, after replaying every kept crash.
fn fuzz(seed: u64, runs: usize) -> usize {
    let catalog = drone_stdlib::catalog();
    let packs = packs();
    let corpus = corpus();
    let crashes = root().join("tests/fuzz/crashes");
    let mut replayed = Vec::new();
    collect(&crashes, &mut replayed);
    let last = root().join("target/fuzz-last.drone");
    let mut dice = Dice(seed.max(1));
    let mut done = 0;
    for i in 0..replayed.len() + runs {
        let input = match replayed.get(i) {
            Some(kept) => kept.clone(),
            None => mutate(&corpus[dice.below(corpus.len())], &corpus, &mut dice),
        };
        let _ = std::fs::write(&last, &input);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| exercise(&input, &catalog, &packs)));
        if outcome.is_err() {
            let name = format!(
                "{:016x}.drone",
                input.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
            );
            let _ = std::fs::create_dir_all(&crashes);
            let _ = std::fs::write(crashes.join(&name), &input);
            panic!("the front end panicked on an input kept as tests/fuzz/crashes/{name}");
        }
        done += 1;
    }
    done
}

#[test]
fn the_front_end_survives_mutated_workflows() {
    let runs = std::env::var("DRONE_FUZZ_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(3_000);
    let seed = std::env::var("DRONE_FUZZ_SEED").ok().and_then(|r| r.parse().ok()).unwrap_or(20261127);
    // A tokio worker's stack: deep recursion shows here before it shows in the language server.
    let worker = std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(move || fuzz(seed, runs));
    let done = worker.expect("spawn").join().expect("the fuzzer thread");
    eprintln!("fuzz: {done} inputs, seed {seed}, no crash");
}
