//! Commands: argument parsing and the flow of each command. Each command
//! returns an [`Exit`]; nothing below `main` exits the process.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use drone_engine::apply::{self, ApplyInput, ApplyOptions, Operation, Providers, Status, Store};
use drone_engine::functions::CallContext;
use drone_engine::plan::{self, Plan};
use drone_engine::policy::Severity;
use drone_engine::provider::Provider;
use drone_engine::refresh::{self, Drift, Recovered, Refreshed};
use drone_engine::state::{Backend, Location, State};
use drone_lang::Catalog;
use drone_stdlib::aws::AwsProvider;

use crate::exit::Exit;
use crate::pipeline::{self, Loaded};
use crate::progress::Progress;
use crate::render::{count, print_all};

/// drone: a declarative, policy-checked workflow engine for AWS infrastructure.
#[derive(Parser)]
#[command(name = "drone", version, about)]
struct Cli {
    /// The directory `use` and `file()` may read under (default: each workflow's own directory).
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check workflows for language errors without touching the cloud.
    Check {
        /// Workflow files.
        #[arg(required_unless_present = "list_types")]
        files: Vec<PathBuf>,
        /// Parameter values, `name=value`.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// How to report policy findings.
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
        #[command(flatten)]
        policy: PolicyArgs,
        /// List the known resource types and their attributes.
        #[arg(long)]
        list_types: bool,
    },
    /// Format workflow files in place (or check that they are formatted).
    Fmt {
        /// Files to format.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Change nothing; fail if a file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Show what `run` would change.
    Plan {
        /// The workflow file.
        file: PathBuf,
        #[command(flatten)]
        common: Common,
        /// Output format.
        #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
        format: PlanFormat,
        /// Show only what changed outside drone, not the changes that would undo it.
        #[arg(long)]
        refresh_only: bool,
    },
    /// Check, plan and execute a workflow.
    Run {
        /// The workflow file.
        file: PathBuf,
        #[command(flatten)]
        common: Common,
        /// Apply without asking (implied when standard input is not a terminal).
        #[arg(long, short)]
        yes: bool,
        /// Accept what changed outside drone into state; change nothing in the cloud.
        #[arg(long)]
        refresh_only: bool,
    },
    /// Delete every resource the workflow's state records.
    Destroy {
        /// The workflow file.
        file: PathBuf,
        #[command(flatten)]
        common: Common,
        /// Destroy without asking (implied when standard input is not a terminal).
        #[arg(long, short)]
        yes: bool,
    },
    /// Print the least-privilege IAM policy for the identity that runs this workflow.
    Iam {
        /// The workflow file.
        file: PathBuf,
        /// Parameter values, `name=value`.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Only the resources of this phase.
        #[arg(long)]
        phase: Option<String>,
        /// The account id to put in ARNs (default: `*`, any account).
        #[arg(long, default_value = "*")]
        account: String,
    },
    /// Run a task the workflow declares (a rhai script, with its grants only).
    Task {
        /// The workflow file.
        file: PathBuf,
        /// The task's name.
        name: String,
        /// The task's arguments, `name=value` (lists comma-separated).
        #[arg(long = "arg", value_name = "NAME=VALUE")]
        args: Vec<String>,
        /// Change nothing: the script sees `dry_run = true`.
        #[arg(long)]
        dry_run: bool,
        /// Reach a database through a local port: `aws.rds.cluster.ghost=127.0.0.1:3307`.
        #[arg(long = "tunnel", value_name = "ADDRESS=HOST:PORT")]
        tunnels: Vec<String>,
        /// Where the task runs: here (the default), or `fargate`: a one-off ECS task in the
        /// workflow's private subnets, from drone's image, with a role holding exactly its grants.
        #[arg(long, value_enum, default_value_t = RunsOn::Here)]
        on: RunsOn,
        #[command(flatten)]
        common: Common,
    },
    /// Serve the Language Server Protocol on stdin and stdout (diagnostics as `drone check`
    /// gives them, completion, hover, go to definition, symbols, formatting).
    Lsp,
    /// Print the resource graph.
    Graph {
        /// The workflow file.
        file: PathBuf,
        /// Parameter values, `name=value`.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Record an existing resource in state under an address of the workflow, changing nothing in the cloud.
    Import {
        /// The workflow file.
        file: PathBuf,
        /// The resource's address in the workflow, e.g. `aws.s3.bucket.logs`.
        address: String,
        /// Its id in the account (as `drone state list` shows ids).
        id: String,
        #[command(flatten)]
        common: Common,
    },
    /// Inspect or repair recorded state.
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
}

#[derive(clap::Args, Clone, Default)]
struct PolicyArgs {
    /// Another directory of `.drone` policy files (repeatable).
    #[arg(long = "policy-dir", value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Turn off a policy pack (`network`) or rule (`network.public_ingress`) (repeatable).
    #[arg(long = "disable-policy", value_name = "PACK_OR_RULE")]
    disabled: Vec<String>,
    /// A saved `drone check --format json` report: only findings not in it fail.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
}

impl PolicyArgs {
    fn selection(&self) -> crate::policies::Selection {
        crate::policies::Selection {
            dirs: self.dirs.clone(),
            disabled: self.disabled.clone(),
            baseline: self.baseline.clone(),
        }
    }
}

/// The flags of the commands that talk to the cloud.
#[derive(clap::Args)]
pub(crate) struct Common {
    /// Parameter values, `name=value`.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Where state lives: a file, or `s3://BUCKET/KEY` (default: from the workflow header, or
    /// `.drone/<workflow>.state.json` beside it).
    #[arg(long, value_name = "PATH_OR_S3_URL")]
    pub(crate) state: Option<String>,
    /// Most AWS operations in flight at once.
    #[arg(long, default_value_t = 8)]
    pub(crate) concurrency: usize,
    /// Append every AWS API call (IAM action, resource type and id) to this JSON-lines file.
    #[arg(long, value_name = "FILE")]
    call_log: Option<PathBuf>,
    #[command(flatten)]
    policy: PolicyArgs,
}

/// Where `drone task` runs a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RunsOn {
    /// Where drone runs.
    Here,
    /// A one-off ECS task on Fargate.
    Fargate,
}

#[derive(Subcommand)]
pub(crate) enum StateCommand {
    /// List recorded resources.
    List {
        /// The workflow file.
        file: PathBuf,
        /// Where state lives: a file, or `s3://BUCKET/KEY`.
        #[arg(long, value_name = "PATH_OR_S3_URL")]
        state: Option<String>,
    },
    /// Show one recorded resource.
    Show {
        /// The workflow file.
        file: PathBuf,
        /// The resource's address.
        address: String,
        /// Where state lives: a file, or `s3://BUCKET/KEY`.
        #[arg(long, value_name = "PATH_OR_S3_URL")]
        state: Option<String>,
    },
    /// Remove a lock left by a crashed run.
    Unlock {
        /// The workflow file.
        file: PathBuf,
        /// Where state lives: a file, or `s3://BUCKET/KEY`.
        #[arg(long, value_name = "PATH_OR_S3_URL")]
        state: Option<String>,
        /// Remove it even though its holder may still be running.
        #[arg(long)]
        force: bool,
    },
    /// Forget resources: state stops recording them; the resources themselves are untouched.
    Rm {
        /// The workflow file.
        file: PathBuf,
        /// The addresses to forget.
        #[arg(required = true)]
        addresses: Vec<String>,
        /// Where state lives: a file, or `s3://BUCKET/KEY`.
        #[arg(long, value_name = "PATH_OR_S3_URL")]
        state: Option<String>,
    },
    /// Record a resource under another address (a renamed or moved block); the resource itself is untouched.
    Mv {
        /// The workflow file.
        file: PathBuf,
        /// Where state records it now, e.g. `aws.ec2.vpc.old` or `aws.ec2.subnet.a["eu-west-1a"]`.
        from: String,
        /// Where the workflow declares it.
        to: String,
        /// Where state lives: a file, or `s3://BUCKET/KEY`.
        #[arg(long, value_name = "PATH_OR_S3_URL")]
        state: Option<String>,
    },
    /// List the stored versions of an S3 state, newest first (the bucket's versioning keeps them).
    History {
        /// The workflow file.
        file: PathBuf,
        /// Where state lives: a file, or `s3://BUCKET/KEY`.
        #[arg(long, value_name = "PATH_OR_S3_URL")]
        state: Option<String>,
        /// How many versions to list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Copy the state to a local file (`-` for standard output).
    Pull {
        /// The workflow file.
        file: PathBuf,
        /// The file to write.
        output: PathBuf,
        /// Where state lives: a file, or `s3://BUCKET/KEY`.
        #[arg(long, value_name = "PATH_OR_S3_URL")]
        state: Option<String>,
    },
    /// Replace the state with a local copy; refused if the copy is older than what is stored, or of another lineage.
    Push {
        /// The workflow file.
        file: PathBuf,
        /// The state file to upload.
        input: PathBuf,
        /// Where state lives: a file, or `s3://BUCKET/KEY`.
        #[arg(long, value_name = "PATH_OR_S3_URL")]
        state: Option<String>,
        /// Push even an older serial or another lineage.
        #[arg(long)]
        force: bool,
    },
    /// Move the state to another place (a file, or `s3://BUCKET/KEY`) without touching any resource.
    Migrate {
        /// The workflow file.
        file: PathBuf,
        /// Where the state goes.
        #[arg(long, value_name = "PATH_OR_S3_URL")]
        to: String,
        /// Where state lives now: a file, or `s3://BUCKET/KEY`.
        #[arg(long, value_name = "PATH_OR_S3_URL")]
        state: Option<String>,
    },
    /// List resources tagged with this state's lineage that state does not record.
    Orphans {
        /// The workflow file.
        file: PathBuf,
        /// Record those whose address the workflow has and state lacks.
        #[arg(long, conflicts_with = "delete")]
        adopt: bool,
        /// Delete them.
        #[arg(long)]
        delete: bool,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, ValueEnum)]
enum PlanFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(root) = cli.root {
        pipeline::set_root(root);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Exit::Internal.into();
        }
    };
    let exit = runtime.block_on(dispatch(cli.command));
    exit.into()
}

async fn dispatch(command: Command) -> Exit {
    let catalog = drone_stdlib::catalog();
    let result = match command {
        Command::Check { files, params, list_types, format, policy } => {
            if list_types {
                print!("{}", list_types_text(&catalog));
                return Exit::Success;
            }
            check(&files, &params, format, &policy, &catalog)
        }
        Command::Fmt { files, check } => fmt(&files, check),
        Command::Plan { file, common, format, refresh_only } => {
            plan_command(&file, &common, format, refresh_only, &catalog).await
        }
        Command::Run { file, common, yes, refresh_only } => run(&file, &common, yes, refresh_only, &catalog).await,
        Command::Destroy { file, common, yes } => destroy(&file, &common, yes, &catalog).await,
        Command::Task { file, name, args, dry_run, tunnels, on, common } => {
            let task = crate::task::TaskArgs { file: &file, name: &name, args: &args, dry_run, tunnels: &tunnels, on };
            crate::task::task(task, &common, &catalog).await
        }
        Command::Lsp => Ok(crate::lsp::serve(&catalog)),
        Command::Graph { file, params, format } => graph(&file, &params, format, &catalog),
        Command::Iam { file, params, phase, account } => iam(&file, &params, phase.as_deref(), &account, &catalog),
        Command::Import { file, address, id, common } => {
            crate::import::import(&file, &address, &id, &common, &catalog).await
        }
        Command::State { command: StateCommand::Orphans { file, adopt, delete, common } } => {
            let action = match (adopt, delete) {
                (true, _) => crate::orphans::Action::Adopt,
                (_, true) => crate::orphans::Action::Delete,
                _ => crate::orphans::Action::List,
            };
            crate::orphans::orphans_command(&file, &common, action, &catalog).await
        }
        Command::State { command } => crate::state_commands::state_command(command, &catalog).await,
    };
    result.unwrap_or_else(|e| e)
}

fn parse_params(raw: &[String]) -> Result<BTreeMap<String, String>, Exit> {
    Ok(name_values(raw, "--param")?.into_iter().collect())
}

/// `NAME=VALUE` arguments of `flag`, in order.
pub(crate) fn name_values(raw: &[String], flag: &str) -> Result<Vec<(String, String)>, Exit> {
    raw.iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => {
                eprintln!("error: `{flag} {p}` must be written NAME=VALUE");
                Err(Exit::Usage)
            }
        })
        .collect()
}

fn check(
    files: &[PathBuf],
    params: &[String],
    format: CheckFormat,
    policy: &PolicyArgs,
    catalog: &Catalog,
) -> Result<Exit, Exit> {
    let params = parse_params(params)?;
    let mut worst = Exit::Success;
    let mut reports = Vec::new();
    for file in files {
        let report = pipeline::load(file, &params, catalog).and_then(|mut loaded| {
            crate::policies::evaluate(&mut loaded, catalog, &policy.selection()).map(|r| (r, loaded))
        });
        match report {
            Ok((report, loaded)) => {
                let exit = if report.active(Severity::Error) > 0 {
                    Exit::Policy
                } else if report.active(Severity::Warning) > 0 {
                    Exit::PolicyWarnings
                } else {
                    Exit::Success
                };
                worst = worse(worst, exit);
                match format {
                    CheckFormat::Human => {
                        crate::findings::human(&report, &loaded.program.sources);
                        println!(
                            "{}: {} in {}; {}",
                            file.display(),
                            count(loaded.model.instances.len(), "resource"),
                            count(loaded.model.phases.len(), "phase"),
                            crate::findings::summary(&report)
                        );
                    }
                    CheckFormat::Github => print!("{}", crate::findings::github(&report, &loaded.program.sources)),
                    CheckFormat::Json | CheckFormat::Sarif => {}
                }
                reports.push((report, loaded.program.sources));
            }
            Err(e) => worst = worse(worst, e),
        }
    }
    match format {
        CheckFormat::Json => {
            println!("{}", serde_json::to_string_pretty(&crate::findings::json(&reports)).unwrap_or_default())
        }
        CheckFormat::Sarif => {
            println!("{}", serde_json::to_string_pretty(&crate::findings::sarif(&reports)).unwrap_or_default())
        }
        _ => {}
    }
    Ok(worst)
}

/// The more serious of two outcomes: other failures, then policy errors,
/// then policy warnings, then success.
fn worse(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Success => 0,
        Exit::PolicyWarnings => 1,
        Exit::Policy => 2,
        _ => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

fn list_types_text(catalog: &Catalog) -> String {
    let mut out = String::new();
    for r in catalog.resources() {
        out.push_str(&format!("{}: {}\n", r.type_name, r.doc));
        for a in &r.attributes {
            let mode = match a.presence {
                drone_lang::Presence::Required => "required",
                drone_lang::Presence::Optional => "optional",
                drone_lang::Presence::Computed => "computed",
                drone_lang::Presence::OptionalComputed => "optional, computed",
            };
            let replaces = if a.force_new { ", replaces" } else { "" };
            // Whether a change made outside drone shows as drift.
            let drift = match (a.settable(), a.read_back, a.guarded) {
                (false, _, _) => "",
                (true, false, _) => ", not read back",
                (true, true, true) => ", guarded even when unset",
                (true, true, false) => "",
            };
            out.push_str(&format!("  {} ({}, {mode}{replaces}{drift}): {}\n", a.name, a.ty, a.doc));
        }
    }
    out
}

fn fmt(files: &[PathBuf], check_only: bool) -> Result<Exit, Exit> {
    let mut exit = Exit::Success;
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| {
            eprintln!("error: cannot read {}: {}", file.display(), e.to_string().to_lowercase());
            Exit::Usage
        })?;
        let mut sources = drone_lang::SourceMap::new();
        let id = sources.add(file.display().to_string(), text.clone());
        let parsed = drone_lang::parse(id, &text);
        if !parsed.errors.is_empty() {
            print_all(&parsed.errors, &sources);
            exit = Exit::Language;
            continue;
        }
        let formatted = match drone_lang::fmt::format(&text, &parsed.module) {
            Ok(f) => f,
            Err(e) => {
                print_all(&[e], &sources);
                exit = Exit::Language;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        if check_only {
            println!("{}: not formatted", file.display());
            exit = Exit::Language;
        } else {
            std::fs::write(file, formatted).map_err(|e| {
                eprintln!("error: cannot write {}: {e}", file.display());
                Exit::Execution
            })?;
            println!("{}: formatted", file.display());
        }
    }
    Ok(exit)
}

fn iam(file: &Path, params: &[String], phase: Option<&str>, account: &str, catalog: &Catalog) -> Result<Exit, Exit> {
    let loaded = pipeline::load(file, &parse_params(params)?, catalog)?;
    let policy = crate::deployer::policy(&loaded, catalog, phase, account)?;
    println!("{}", serde_json::to_string_pretty(&policy).unwrap_or_default());
    for spec in &loaded.scripts {
        for grant in
            spec.grants.0.iter().filter(|g| drone_stdlib::grants::get(&g.kind).is_some_and(|d| !d.actions.is_empty()))
        {
            eprintln!("note: {}: {} on {}", spec.title(), grant.kind, grant.targets.join(", "));
        }
    }
    if let Some(note) = crate::deployer::size_note(&policy) {
        eprintln!("{note}");
    }
    Ok(Exit::Success)
}

fn graph(file: &Path, params: &[String], format: GraphFormat, catalog: &Catalog) -> Result<Exit, Exit> {
    let loaded = pipeline::load(file, &parse_params(params)?, catalog)?;
    print!(
        "{}",
        match format {
            GraphFormat::Dot => drone_engine::graph::dot(&loaded.model),
            GraphFormat::Mermaid => drone_engine::graph::mermaid(&loaded.model),
        }
    );
    Ok(Exit::Success)
}

/// Everything a cloud-facing command sets up.
/// A loaded workflow with its state's place and its providers.
pub(crate) struct Session {
    pub(crate) loaded: Loaded,
    pub(crate) location: Location,
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) providers: Providers,
    /// The same providers as AWS ones, for what scripts and one-off tasks call.
    pub(crate) aws: BTreeMap<String, Arc<AwsProvider>>,
}

pub(crate) async fn session(file: &Path, common: &Common, catalog: &Catalog, enforce: bool) -> Result<Session, Exit> {
    let mut loaded = pipeline::load(file, &parse_params(&common.params)?, catalog)?;
    if enforce {
        // Policies run before any provider exists: a refused workflow makes no network call.
        let report = crate::policies::evaluate(&mut loaded, catalog, &common.policy.selection())?;
        if !report.findings.is_empty() {
            crate::findings::human(&report, &loaded.program.sources);
        }
        if report.active(Severity::Error) > 0 {
            eprintln!("error: policy errors; nothing was planned or changed");
            eprintln!("  help: fix the findings, or suppress one with @allow(rule.id, reason = \"...\")");
            return Err(Exit::Policy);
        }
    }
    let location = crate::store::location(file, &loaded.model, common.state.as_deref())?;
    let backend = crate::store::backend(&location).await;
    let journal = match &common.call_log {
        Some(path) => Some(drone_stdlib::aws::Journal::open(path).map_err(|e| {
            eprintln!("error: cannot open call log {}: {}", path.display(), e.to_string().to_lowercase());
            Exit::Usage
        })?),
        None => None,
    };
    let mut aws = BTreeMap::new();
    for (name, config) in &loaded.model.providers {
        if config.kind != "aws" {
            eprintln!("error: provider kind `{}` is not supported", config.kind);
            return Err(Exit::Language);
        }
        aws.insert(name.clone(), Arc::new(AwsProvider::connect(&config.settings, journal.clone()).await));
    }
    let providers: Providers = aws.iter().map(|(name, p)| (name.clone(), p.clone() as Arc<dyn Provider>)).collect();
    Ok(Session { loaded, location, backend, providers, aws })
}

/// Says where changes will land, before any change; fails fast when a
/// provider's endpoint cannot be reached.
pub(crate) async fn announce(session: &Session) -> Result<(), Exit> {
    for (name, provider) in &session.providers {
        // Throttling is waited out; an unreachable endpoint fails at once.
        let retry = drone_engine::retry::Retry::default();
        match drone_engine::retry::with_retries(&retry, &|| {}, || provider.identity()).await {
            Ok(target) => eprintln!("provider {name}: {target}"),
            Err(e) => {
                eprintln!("error: provider `{name}` cannot be used: {e}");
                eprintln!("  help: check credentials, region and AWS_ENDPOINT_URL; nothing was changed");
                return Err(Exit::Execution);
            }
        }
    }
    Ok(())
}

pub(crate) async fn load_state(session: &Session) -> Result<State, Exit> {
    crate::store::load(session.backend.as_ref(), &session.loaded.model.workflow).await
}

pub(crate) async fn take_lock(
    session: &Session,
    file: &Path,
    operation: &str,
) -> Result<crate::store::StateLock, Exit> {
    crate::store::lock(&session.location, file, operation).await
}

/// Carries out the workflow's `moved` blocks on `state` (in memory; the
/// caller saves): the moves made, `(old, new)`.
fn apply_moved(session: &Session, state: &mut State) -> Result<Vec<(String, String)>, Exit> {
    drone_engine::state::apply_moves(state, &session.loaded.model.moved).map_err(|e| {
        crate::render::eprint_report(e);
        Exit::Execution
    })
}

/// Reads every recorded resource back (what changed outside drone is the drift), then what the
/// workflow's `data` blocks name.
async fn refreshed(session: &Session, state: &State, catalog: &Catalog, concurrency: usize) -> Result<Refreshed, Exit> {
    let mut refreshed = refresh::refresh(state, catalog, &session.providers, concurrency).await.map_err(|e| {
        eprintln!("error: refreshing state failed: {e}");
        Exit::Execution
    })?;
    let host = pipeline::host_for(&session.loaded.program.root_path);
    let cx = CallContext { host: &host, salt: &refreshed.state.lineage, resolve_secrets: true };
    let model = &session.loaded.model;
    refreshed.state = drone_engine::lookup::look_up(model, catalog, &cx, &session.providers, &refreshed.state)
        .await
        .map_err(|e| {
            eprintln!("error: {e}");
            Exit::Execution
        })?;
    Ok(refreshed)
}

/// The plan against the account as it is, with its drift; the refreshed
/// state is what an apply of that plan starts from (an update changes the
/// resource from what the account has, not from what was recorded).
fn plan_against(session: &Session, refreshed: Refreshed, catalog: &Catalog) -> Result<(Plan, State), Exit> {
    let host = pipeline::host_for(&session.loaded.program.root_path);
    let cx = CallContext { host: &host, salt: &refreshed.state.lineage, resolve_secrets: true };
    let plan = plan::plan(&session.loaded.model, catalog, &refreshed.state, &cx).map_err(|errors| {
        print_all(&errors, &session.loaded.program.sources);
        Exit::Language
    })?;
    Ok((plan.with_drift(refreshed.drift).with_recovered(refreshed.recovered), refreshed.state))
}

/// A plan that only reports drift (and resolved interruptions): no action, nothing to apply.
fn drift_only(workflow: &str, drift: Vec<Drift>, recovered: Vec<Recovered>) -> Plan {
    Plan { workflow: workflow.to_string(), actions: Vec::new(), drift, recovered, moved: Vec::new() }
}

async fn plan_command(
    file: &Path,
    common: &Common,
    format: PlanFormat,
    refresh_only: bool,
    catalog: &Catalog,
) -> Result<Exit, Exit> {
    let session = session(file, common, catalog, true).await?;
    announce(&session).await?;
    let mut state = load_state(&session).await?;
    let moved = apply_moved(&session, &mut state)?;
    let refreshed = refreshed(&session, &state, catalog, common.concurrency).await?;
    let plan = if refresh_only {
        drift_only(&session.loaded.model.workflow, refreshed.drift, refreshed.recovered)
    } else {
        plan_against(&session, refreshed, catalog)?.0
    }
    .with_moved(moved);
    match format {
        PlanFormat::Human => print!("{}", crate::plan_view::render(&plan, &session.loaded.model.phases)),
        PlanFormat::Json => println!("{}", serde_json::to_string_pretty(&plan.to_json()).unwrap_or_default()),
    }
    Ok(Exit::Success)
}

fn confirm(question: &str, yes: bool) -> bool {
    if yes || !std::io::stdin().is_terminal() {
        return true;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}

async fn run(file: &Path, common: &Common, yes: bool, refresh_only: bool, catalog: &Catalog) -> Result<Exit, Exit> {
    let session = session(file, common, catalog, true).await?;
    let _lock = take_lock(&session, file, "run").await?;
    announce(&session).await?;
    let mut state = load_state(&session).await?;
    let moved = apply_moved(&session, &mut state)?;
    let refreshed = refreshed(&session, &state, catalog, common.concurrency).await?;
    if refresh_only {
        return accept_drift(&session, refreshed, yes).await;
    }
    let (plan, mut state) = plan_against(&session, refreshed, catalog)?;
    let plan = plan.with_moved(moved);
    print!("{}", crate::plan_view::render(&plan, &session.loaded.model.phases));
    if plan.is_empty() {
        if !plan.recovered.is_empty() || !plan.moved.is_empty() {
            // What the resolved interruptions adopted is recorded even when nothing is left to do.
            crate::store::save(session.backend.as_ref(), &mut state).await?;
        }
        return Ok(Exit::Success);
    }
    if !confirm("Apply these changes?", yes) {
        eprintln!("cancelled; nothing was changed");
        return Ok(Exit::Success);
    }
    let scripts = workflow_scripts(&session, catalog, &state)?;
    execute(&session, plan, state, scripts, catalog, common).await
}

/// `run --refresh-only`: records the account's values as state, changing nothing in the cloud.
async fn accept_drift(session: &Session, refreshed: Refreshed, yes: bool) -> Result<Exit, Exit> {
    let Refreshed { mut state, drift, recovered } = refreshed;
    let resolved = !recovered.is_empty();
    print!("{}", crate::plan_view::render(&drift_only(&session.loaded.model.workflow, drift.clone(), recovered), &[]));
    if drift.is_empty() {
        if resolved {
            crate::store::save(session.backend.as_ref(), &mut state).await?;
        }
        return Ok(Exit::Success);
    }
    if !confirm("Record these values in state?", yes) {
        eprintln!("cancelled; nothing was changed");
        return Ok(Exit::Success);
    }
    crate::store::save(session.backend.as_ref(), &mut state).await?;
    println!("State updated: {} accepted as the account has them.", count(drift.len(), "resource"));
    Ok(Exit::Success)
}

async fn destroy(file: &Path, common: &Common, yes: bool, catalog: &Catalog) -> Result<Exit, Exit> {
    // Destroying is never blocked by policy: it is how a bad resource goes away.
    let session = session(file, common, catalog, false).await?;
    let _lock = take_lock(&session, file, "destroy").await?;
    announce(&session).await?;
    let mut state = load_state(&session).await?;
    if !apply_moved(&session, &mut state)?.is_empty() {
        crate::store::save(session.backend.as_ref(), &mut state).await?;
    }
    // What a killed run created is destroyed too: its pending creates are looked up first.
    let (mut state, recovered) = refresh::recover(&state, &session.providers).await.map_err(|e| {
        eprintln!("error: resolving the operations an earlier run left unfinished failed: {e}");
        Exit::Execution
    })?;
    if !recovered.is_empty() {
        crate::store::save(session.backend.as_ref(), &mut state).await?;
    }
    // What `data` blocks read is not destroyed, only forgotten.
    state.resources.retain(|_, r| !r.data);
    let plan = plan::plan_destroy(&state).with_recovered(recovered);
    print!("{}", crate::plan_view::render(&plan, &session.loaded.model.phases));
    let former = state.resources.clone();
    if !plan.is_empty() {
        if !confirm("Destroy these resources?", yes) {
            eprintln!("cancelled; nothing was changed");
            return Ok(Exit::Success);
        }
        let scripts = workflow_scripts(&session, catalog, &state)?;
        let exit = execute(&session, plan, state, scripts.clone(), catalog, common).await?;
        if exit != Exit::Success {
            return Ok(exit);
        }
        let after = drone_engine::scripts::ScriptEvent::Destroyed;
        if let Some(scripts) = scripts.filter(|s| s.wants(&after)) {
            if let Err(why) = scripts.run(after, Default::default()).await {
                eprintln!("error: a hook after destroy failed: {why}");
                return Ok(Exit::ScriptFailed);
            }
        }
    }
    // Destroyed means nothing of this state's is left, recorded or not.
    crate::orphans::left_after_destroy(file, &session, catalog, &former, common.concurrency).await
}

/// The workflow's hooks and steps bound to this run, if it has any.
pub(crate) fn workflow_scripts(
    session: &Session,
    catalog: &Catalog,
    state: &State,
) -> Result<Option<Arc<dyn drone_engine::scripts::Scripts>>, Exit> {
    if session.loaded.scripts.iter().all(|s| s.kind == drone_lang::ast::ScriptKind::Task) {
        return Ok(None);
    }
    let bindings = crate::script_host::Bindings::new(session, catalog, state, &[])?;
    let scripts =
        crate::script_host::WorkflowScripts::new(&session.loaded.scripts, bindings, &session.loaded.program.sources);
    Ok(scripts.map(|s| Arc::new(s) as Arc<dyn drone_engine::scripts::Scripts>))
}

async fn execute(
    session: &Session,
    plan: Plan,
    state: State,
    scripts: Option<Arc<dyn drone_engine::scripts::Scripts>>,
    catalog: &Catalog,
    common: &Common,
) -> Result<Exit, Exit> {
    let host = pipeline::host_for(&session.loaded.program.root_path);
    let salt = state.lineage.clone();
    let cx = CallContext { host: &host, salt: &salt, resolve_secrets: true };
    let options = ApplyOptions { concurrency: common.concurrency, ..ApplyOptions::default() };
    let progress = Progress::for_stderr();
    let stop = Arc::new(AtomicBool::new(false));
    let input = ApplyInput {
        model: &session.loaded.model,
        catalog,
        plan: &plan,
        providers: &session.providers,
        cx: &cx,
        options: &options,
        observer: &progress,
        stop: Some(&stop),
        scripts: scripts.clone(),
    };
    let mut store = Store { state, backend: session.backend.clone() };
    let watcher = tokio::spawn(interrupts(stop.clone()));
    let report = apply::apply(&input, &mut store).await.map_err(crate::store::report);
    watcher.abort();
    let report = report?;
    // One snapshot per run, whatever its outcome: the operation log it replaces
    // held every result as it came.
    crate::store::save(store.backend.as_ref(), &mut store.state).await?;
    let created = report.done(Operation::Create).len();
    let updated = report.done(Operation::Update).len();
    let deleted = report.done(Operation::Delete).len();
    if report.succeeded() {
        if let Ok(outputs) = apply::outputs(&session.loaded.model, catalog, &store.state, &cx) {
            store.state.outputs = outputs.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
            if crate::store::save(store.backend.as_ref(), &mut store.state).await.is_err() {
                return Ok(Exit::Execution);
            }
            for (name, value) in &outputs {
                println!("output {name} = {value}");
            }
        }
        println!("Apply complete: {created} created, {updated} updated, {deleted} deleted.");
        return Ok(Exit::Success);
    }
    if stop.load(Ordering::SeqCst) {
        let waiting = report.outcomes.iter().filter(|o| matches!(o.status, Status::Skipped(_))).count();
        println!("Apply interrupted: {created} created, {updated} updated, {deleted} deleted; {waiting} not started.");
        println!("State records everything that finished; run again to carry out the rest.");
        return Ok(Exit::Interrupted);
    }
    let failed: Vec<_> = report.outcomes.iter().filter(|o| matches!(o.status, Status::Failed(_))).collect();
    let skipped: Vec<_> = report.outcomes.iter().filter(|o| matches!(o.status, Status::Skipped(_))).collect();
    println!(
        "Apply failed: {created} created, {updated} updated, {deleted} deleted, {} failed, {} skipped.",
        failed.len() + report.phase_failures.len(),
        skipped.len()
    );
    for o in failed.iter().chain(skipped.iter()) {
        let (label, reason) = match &o.status {
            Status::Failed(r) => ("failed", r),
            Status::Skipped(r) => ("skipped", r),
            Status::Done => continue,
        };
        println!("  {label:<7} {} ({}): {reason}", o.address, o.operation.verb());
    }
    for (phase, why) in &report.phase_failures {
        println!("  failed  phase `{phase}`'s scripts: {why}");
    }
    println!("State records everything that succeeded; fix the cause and run again.");
    Ok(Exit::Execution)
}

/// Ctrl-C during an apply: the first stops new operations (those in flight
/// finish and are saved); the second leaves at once.
async fn interrupts(stop: Arc<AtomicBool>) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    stop.store(true, Ordering::SeqCst);
    eprintln!("interrupted: finishing the operations in flight and starting no more; Ctrl-C again to leave at once");
    if tokio::signal::ctrl_c().await.is_ok() {
        eprintln!("aborted: the operations in flight are recorded as intents; the next run looks up what they did");
        std::process::exit(Exit::Interrupted as i32);
    }
}
