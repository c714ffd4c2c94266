//! The command line's shape: every command, subcommand and flag (clap's
//! derive types). What each command does lives in `commands/`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// drone: a declarative, policy-checked workflow engine for AWS infrastructure.
#[derive(Parser)]
#[command(name = "drone", version, about)]
pub(crate) struct Cli {
    /// The directory `use` and `file()` may read under (default: the repository the workflow is
    /// in, the nearest directory above it holding `.git`, else the workflow's own directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
    /// No colour in plans and diagnostics, even on a terminal (as `NO_COLOR=1` does).
    #[arg(long, global = true)]
    pub(crate) no_color: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Check workflows for language errors without touching the cloud.
    Check {
        /// Workflow files, or directories to check every `.drone` file under.
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
        #[command(flatten)]
        targeting: Targeting,
        /// Save the plan to this file, for `drone run FILE --plan PLAN` to apply exactly it.
        #[arg(long, value_name = "PLAN")]
        out: Option<PathBuf>,
        /// Exit 0 when there is nothing to change, 2 when there are changes or drift, 1 on any
        /// error (as `terraform plan -detailed-exitcode`).
        #[arg(long)]
        detailed_exitcode: bool,
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
        #[arg(long, conflicts_with = "plan")]
        refresh_only: bool,
        #[command(flatten)]
        targeting: Targeting,
        /// Apply exactly this saved plan (`drone plan --out`); refused when the state, the
        /// workflow, its parameters or the account changed since it was made.
        #[arg(long, value_name = "PLAN")]
        plan: Option<PathBuf>,
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
    /// Release the build's source (`workflows/ghost`) through the workflow's delivery pipeline:
    /// commit it, build its image, and follow ECS's deployment of it, rolling back when an alarm
    /// fires. Resumes a release that was interrupted.
    Release {
        /// The workflow file (or an environment: `prod` is `workflows/prod.drone`).
        file: PathBuf,
        #[command(flatten)]
        common: Common,
        /// The directory to publish (default: `ghost` beside the workflow).
        #[arg(long, conflicts_with = "commit")]
        source: Option<PathBuf>,
        /// The commit message.
        #[arg(long, short, conflicts_with = "commit")]
        message: Option<String>,
        /// Release this commit of the branch (its full id) instead of publishing a directory:
        /// required when the pipeline's source is on GitHub, where the team pushes.
        #[arg(long, value_name = "SHA", conflicts_with_all = ["rollback", "history"])]
        commit: Option<String>,
        /// The pipeline's address, when the workflow has several.
        #[arg(long)]
        pipeline: Option<String>,
        /// Minutes to wait for the build and the deployment before giving up (the release
        /// stays recorded and resumes).
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        /// Release without asking (implied when standard input is not a terminal).
        #[arg(long, short)]
        yes: bool,
        /// Roll back the release under way: stop its deployment; the previous revision serves.
        #[arg(long, conflicts_with = "history")]
        rollback: bool,
        /// List past releases: who released which commit and image, when, and how it ended.
        #[arg(long)]
        history: bool,
        /// With `--history`: print JSON.
        #[arg(long, requires = "history")]
        json: bool,
    },
    /// Print the outputs recorded by the last run (one by name, or all; JSON with `--json`).
    Output {
        /// The workflow file.
        file: PathBuf,
        /// The output's name.
        name: Option<String>,
        /// Print JSON: the value, or an object of every output.
        #[arg(long)]
        json: bool,
        /// Where state lives: a file, or `s3://BUCKET/KEY`.
        #[arg(long, value_name = "PATH_OR_S3_URL")]
        state: Option<String>,
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
        /// Print the policy as managed policies (a JSON array of documents of at most 6,144
        /// characters each, which together grant exactly the policy), to attach to one role.
        #[arg(long)]
        managed: bool,
        /// The policy of the identity that releases (`drone release`) instead: the workflow's
        /// repositories, pipeline, services and alarms, only what a release calls on them.
        #[arg(long, conflicts_with_all = ["phase", "managed"])]
        release: bool,
    },
    /// Run a task the workflow declares (a rhai script, with its grants only).
    #[command(disable_help_flag = true)]
    Task {
        /// The workflow file.
        #[arg(required_unless_present = "help")]
        file: Option<PathBuf>,
        /// The task's name.
        #[arg(required_unless_present_any = ["list", "help"])]
        name: Option<String>,
        /// List the workflow's tasks with their inputs and grants.
        #[arg(long)]
        list: bool,
        /// With a task's name: its inputs (the `--arg`s it takes), grants and where it can run;
        /// without one, this help.
        #[arg(short, long)]
        help: bool,
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
    /// Print a shell's completion script for drone: `drone completions bash > /etc/bash_completion.d/drone`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
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

/// `--target`: plan and apply only some resources.
#[derive(clap::Args, Clone, Default)]
pub(crate) struct Targeting {
    /// Only this resource (an address; a block's or a component instance's takes all of it) and
    /// what it depends on (repeatable). For repairs, not routine use: the rest may still differ.
    #[arg(long = "target", value_name = "ADDRESS")]
    pub(crate) targets: Vec<String>,
}

#[derive(clap::Args, Clone, Default)]
pub(crate) struct PolicyArgs {
    /// Another directory of `.drone` policy files (repeatable).
    #[arg(long = "policy-dir", value_name = "DIR")]
    pub(crate) dirs: Vec<PathBuf>,
    /// Turn off a policy pack (`network`) or rule (`network.public_ingress`) (repeatable).
    #[arg(long = "disable-policy", value_name = "PACK_OR_RULE")]
    pub(crate) disabled: Vec<String>,
    /// A saved `drone check --format json` report: only findings not in it fail.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
}

impl PolicyArgs {
    /// The packs and rules these flags select.
    pub(crate) fn selection(&self) -> crate::policies::Selection {
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
    pub(crate) params: Vec<String>,
    /// Where state lives: a file, or `s3://BUCKET/KEY` (default: from the workflow header, or
    /// `.drone/<workflow>.state.json` beside it).
    #[arg(long, value_name = "PATH_OR_S3_URL")]
    pub(crate) state: Option<String>,
    /// Most AWS operations in flight at once.
    #[arg(long, default_value_t = 8)]
    pub(crate) concurrency: usize,
    /// Append every AWS API call (IAM action, resource type and id) to this JSON-lines file.
    #[arg(long, value_name = "FILE")]
    pub(crate) call_log: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
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
pub(crate) enum CheckFormat {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum PlanFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum GraphFormat {
    Dot,
    Mermaid,
}
