//! The evaluated workflow: resource instances with stable addresses, their
//! phases, providers and dependencies. Attribute expressions stay unevaluated
//! here, because their values depend on other resources: the planner evaluates
//! them against planned values, the applier against real ones.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use drone_lang::ast::{Annotation, Attribute, Expr};
use drone_lang::Span;

use crate::value::Value;

/// A workflow evaluated to its resource graph.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// The workflow's name (tags and state carry it).
    pub workflow: String,
    /// The state file path from the header, relative to the workflow file.
    pub state_path: Option<String>,
    /// `moved` blocks: where state's resources are declared now.
    pub moved: Vec<Move>,
    /// Every grant the workflow's tasks, steps and hooks hold, for policies to judge.
    pub grants: Vec<GrantSite>,
    /// The S3 object the header keeps state in (`backend = "s3"`).
    pub state_s3: Option<crate::state::S3Location>,
    /// The environment the header declares (`environment = "prod"`), for policies.
    pub environment: Option<String>,
    /// Extra policy directories from the header, relative to the workflow file.
    pub policy_dirs: Vec<String>,
    /// Policy packs (`network`) or rules (`network.public_ingress`) turned off by the header.
    pub disabled_policies: Vec<String>,
    /// Where the header writes `disabled_policies` (an unknown name is reported there).
    pub disabled_policies_span: Option<Span>,
    /// Phases in execution order; `default` first.
    pub phases: Vec<String>,
    /// Provider instances by name.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Resource instances by address.
    pub instances: BTreeMap<String, Instance>,
    /// For each resource block (`type.name`): whether it loops, and its instances by key.
    pub decls: BTreeMap<String, Decl>,
    /// Outputs, evaluated after apply.
    pub outputs: Vec<OutputDecl>,
    /// Parameter values.
    pub params: BTreeMap<String, Value>,
    /// Global lets by (qualified) name, unevaluated.
    pub lets: BTreeMap<String, Expr>,
}

/// A configured provider instance.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderConfig {
    /// The kind, e.g. `aws`.
    pub kind: String,
    /// The instance name.
    pub name: String,
    /// Its settings, evaluated.
    pub settings: BTreeMap<String, Value>,
}

/// A grant a script holds, where policies see it (`grants()`).
#[derive(Clone, Debug)]
pub struct GrantSite {
    /// `task delete_posts #1`: the script and the grant's place in its list.
    pub id: String,
    /// `task delete_posts`.
    pub script: String,
    /// `task`, `step` or `hook`.
    pub script_kind: &'static str,
    /// The grant.
    pub grant: drone_lang::grants::Grant,
    /// The script's name (a finding about the whole script points here).
    pub name_span: drone_lang::span::Span,
    /// The script's annotations (`@allow`).
    pub annotations: Vec<drone_lang::ast::Annotation>,
}

/// One resource block and the instances it produced.
#[derive(Clone, Debug, Default)]
pub struct Decl {
    /// Whether it is inside a loop (then references need `[key]` or `[*]`).
    pub looped: bool,
    /// Instance addresses by loop key (the empty key when not looped).
    pub instances: BTreeMap<String, String>,
}

/// A name bound in a loop body.
#[derive(Clone, Debug)]
pub enum Binding {
    /// A loop variable.
    Value(Value),
    /// A loop-local `let`, evaluated where used.
    Let(Expr),
}

/// Loop bindings in scope, innermost last.
pub type Scope = Vec<(String, Binding)>;

/// A scope's bindings as the evaluator reads them: a `let` sees those before it.
pub type Bindings = [(String, Binding)];

/// One resource instance.
#[derive(Clone, Debug)]
pub struct Instance {
    /// The stable address, e.g. `aws.ec2.subnet.private["eu-west-1a"]`.
    pub address: String,
    /// The block it came from, `type.name`.
    pub decl: String,
    /// The resource type.
    pub type_name: String,
    /// The loop key, if looped.
    pub key: Option<String>,
    /// The phase it runs in.
    pub phase: String,
    /// The provider instance it uses.
    pub provider: String,
    /// Its attributes, unevaluated (meta attributes excluded).
    pub attributes: Vec<Attribute>,
    /// Annotations on the block (policy suppressions).
    pub annotations: Vec<Annotation>,
    /// Loop bindings its expressions see.
    pub scope: Arc<Scope>,
    /// The resource block.
    pub span: Span,
    /// The resource's name in its block (findings about the whole resource point here).
    pub name_span: Span,
    /// Addresses of the instances it depends on.
    pub deps: BTreeSet<String>,
    /// Attributes whose changes plans leave alone once it exists (`lifecycle.ignore_changes`):
    /// something else owns them, such as autoscaling a service's `desired_count`.
    pub ignore_changes: BTreeSet<String>,
    /// Where `lifecycle.prevent_destroy` is set true: plans that would delete or replace it are
    /// refused, and so is `destroy`, before any call.
    pub prevent_destroy: Option<Span>,
    /// `lifecycle.create_before_destroy`: a replacement makes the new resource before deleting the old.
    pub create_before_destroy: bool,
    /// Declared with `data`: an existing resource, looked up and read, never created,
    /// changed or deleted.
    pub read_only: bool,
}

/// A `moved` block: the resource recorded at `from` is declared at `to`.
/// Without keys, every instance of the block moves, keys kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    /// Where state records it.
    pub from: drone_lang::address::Address,
    /// Where the workflow declares it now.
    pub to: drone_lang::address::Address,
}

/// An output declaration.
#[derive(Clone, Debug)]
pub struct OutputDecl {
    /// Its name.
    pub name: String,
    /// Its value, unevaluated.
    pub value: Expr,
}

/// Formats an address from a block and an optional loop key.
pub fn address(decl: &str, key: Option<&str>) -> String {
    match key {
        Some(k) => format!("{decl}[{}]", serde_json::Value::String(k.to_string())),
        None => decl.to_string(),
    }
}

impl Model {
    /// Instance addresses in execution order: by phase, then dependencies first.
    pub fn ordered(&self) -> Vec<&Instance> {
        let mut out = Vec::with_capacity(self.instances.len());
        for phase in &self.phases {
            let in_phase: BTreeMap<&str, &Instance> =
                self.instances.iter().filter(|(_, i)| &i.phase == phase).map(|(a, i)| (a.as_str(), i)).collect();
            let mut done: BTreeSet<&str> = BTreeSet::new();
            fn visit<'m>(
                i: &'m Instance,
                all: &BTreeMap<&str, &'m Instance>,
                done: &mut BTreeSet<&'m str>,
                out: &mut Vec<&'m Instance>,
            ) {
                if !done.insert(&i.address) {
                    return;
                }
                for d in &i.deps {
                    if let Some(dep) = all.get(d.as_str()) {
                        visit(dep, all, done, out);
                    }
                }
                out.push(i);
            }
            for i in in_phase.values() {
                visit(i, &in_phase, &mut done, &mut out);
            }
        }
        out
    }
}
