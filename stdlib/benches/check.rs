//! Parsing, checking and expanding a generated workflow of 10,000 resources
//! against the real catalog. Run: `cargo bench -p drone-stdlib --no-default-features`.
//! Prints the median and the fastest of ten runs of each step. A plain
//! harness rather than criterion: criterion's dependencies turn on features
//! of crates the AWS SDK shares (serde's `alloc`), so the test build and
//! `cargo build --bin drone` would compile every SDK crate twice.

use std::collections::BTreeMap;
use std::path::Path;

use drone_engine::functions::CallContext;
use drone_engine::host::MemoryHost;
use drone_lang::{FileId, SourceLoader};

/// 2,000 groups of five resources that refer to each other, like a real estate.
fn workflow(groups: usize) -> String {
    let mut src = String::from(
        "workflow \"bench\" {}\nparam cidr: string = \"10.0.0.0/8\"\nlet tags = { team = \"platform\" }\n\n",
    );
    for g in 0..groups {
        src.push_str(&format!(
            r#"resource aws.ec2.vpc v{g} {{
  cidr_block = cidrsubnet(cidr, 8, {net})
  tags       = merge(tags, {{ Name = "vpc-{g}" }})
}}

resource aws.ec2.subnet s{g} {{
  vpc_id     = aws.ec2.vpc.v{g}.id
  cidr_block = cidrsubnet(aws.ec2.vpc.v{g}.cidr_block, 8, 1)
}}

resource aws.ec2.security_group g{g} {{
  name    = "sg-{g}"
  vpc_id  = aws.ec2.vpc.v{g}.id
  ingress = [{{ port = 443, security_group = aws.ec2.security_group.g{prev}.id }}]
}}

resource aws.ec2.route_table r{g} {{
  vpc_id     = aws.ec2.vpc.v{g}.id
  subnet_ids = [aws.ec2.subnet.s{g}.id]
}}

resource aws.s3.bucket b{g} {{
  name       = "bucket-{g}"
  versioning = true
}}

"#,
            net = g % 256,
            prev = if g == 0 { 0 } else { g - 1 },
        ));
    }
    src
}

struct NoImports;

impl SourceLoader for NoImports {
    fn load(&self, path: &Path) -> Result<String, String> {
        Err(format!("{}: imports are not used here", path.display()))
    }
}

mod support;

/// Runs `step` ten times and prints its median and fastest time.
fn measure<T>(name: &str, step: impl FnMut() -> T) {
    support::measure(&format!("10k resources/{name:<26}"), 10, step);
}

fn main() {
    let src = workflow(2_000);
    let catalog = drone_stdlib::catalog();
    // The first group's security group refers to itself; keep the workflow valid.
    let src = src.replacen("aws.ec2.security_group.g0.id", "\"sg-external\"", 1);
    let (program, errors) = drone_lang::load(Path::new("bench.drone"), src.clone(), &NoImports);
    assert!(errors.is_empty(), "{errors:?}");
    let errors = drone_lang::check(&program, &catalog);
    assert!(errors.is_empty(), "{:?}", &errors[..errors.len().min(3)]);

    measure("parse", || drone_lang::parse(FileId(0), &src));
    measure("parse + check", || {
        let (program, _) = drone_lang::load(Path::new("bench.drone"), src.clone(), &NoImports);
        drone_lang::check(&program, &catalog)
    });
    let host = MemoryHost::default();
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    let params = BTreeMap::new();
    measure("expand", || {
        drone_engine::eval::expand(
            &program,
            &catalog,
            &drone_engine::eval::EvalInput { params: &params, cx: &cx, missing_unknown: false },
        )
    });
    let model = drone_engine::eval::expand(
        &program,
        &catalog,
        &drone_engine::eval::EvalInput { params: &params, cx: &cx, missing_unknown: false },
    )
    .expect("expands");
    assert_eq!(model.instances.len(), 10_000);
    // The built-in policy packs over the same 10,000 resources.
    let mut sources = drone_lang::SourceMap::new();
    let packs_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let mut modules = Vec::new();
    for name in ["data", "iam", "network"] {
        let text = std::fs::read_to_string(packs_dir.join(format!("{name}.drone"))).expect("pack");
        let id = sources.add(name, text.clone());
        let parsed = drone_lang::parse(id, &text);
        assert!(parsed.errors.is_empty() && drone_lang::check_policies(&parsed.module, &catalog).is_empty());
        modules.push((name.to_string(), parsed.module));
    }
    let packs: Vec<drone_engine::policy::Pack<'_>> =
        modules.iter().map(|(name, module)| drone_engine::policy::Pack { name: name.clone(), module }).collect();
    let report = drone_engine::policy::evaluate(&packs, &model, &catalog, &cx, &[]).expect("policies evaluate");
    assert!(report.findings.len() > 2_000, "the generated buckets violate the data rules");
    measure("policy (built-in packs)", || drone_engine::policy::evaluate(&packs, &model, &catalog, &cx, &[]));
    let state = drone_engine::state::State::new("bench");
    measure("plan (empty state)", || drone_engine::plan::plan(&model, &catalog, &state, &cx));
}
