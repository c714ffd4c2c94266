//! `task`, `step` and `hook` blocks: where each may stand, its event, its
//! source (a `.rhai` file or `script = <<RHAI`), a task's typed inputs, and
//! its grants, each of a kind the catalog knows, on resources the workflow
//! declares, with options written out as literals so a reviewer reads exactly
//! what a script may do. The script itself is compiled by `drone-script`.

use std::collections::BTreeSet;

use super::{Checker, Scope};
use crate::ast::*;
use crate::diagnostic::CheckError;
use crate::path::{chain, resource_path, ResourcePath};
use crate::schema::{Field, GrantSchema, Type};
use crate::suggest::{closest, did_you_mean};

/// The attributes a script block of `kind` takes.
fn attributes_of(kind: &ScriptKind) -> &'static [&'static str] {
    match kind {
        ScriptKind::Task => &["run", "grants", "timeout", "description", "fargate"],
        ScriptKind::Step => &["run", "grants", "after", "timeout", "description"],
        ScriptKind::Hook => &["run", "grants", "timeout", "description"],
    }
}

/// The settings of `fargate = { ... }` on a task (`drone task --on fargate`), with their types.
pub const FARGATE_SETTINGS: [(&str, &str); 7] = [
    ("cluster", "string"),
    ("subnets", "list(string)"),
    ("security_groups", "list(string)"),
    ("image", "string"),
    ("execution_role", "string"),
    ("log_group", "string"),
    ("secrets", "map(string)"),
];

impl<'a> Checker<'a> {
    pub(super) fn check_script(&mut self, s: &'a Script, scope: &mut Scope) {
        self.check_annotations(&s.annotations);
        self.check_event(s);
        if !s.inputs.is_empty() && s.kind != ScriptKind::Task {
            self.script_error(
                format!("a {} takes no inputs", s.kind.keyword()),
                s.inputs[0].span,
                "only a task is run with arguments (`drone task FILE NAME --arg k=v`)",
            );
        }
        for input in &s.inputs {
            let declared = self.resolve_type(&input.ty);
            if let (Some(declared), Some(default)) = (declared, &input.default) {
                let found = self.infer(default, scope);
                self.expect(&declared, &found, default.span, &format!("the default of input `{}`", input.name.name));
            }
        }
        let mut seen = BTreeSet::new();
        for attr in &s.attributes {
            let name = attr.name.name.as_str();
            if !seen.insert(name) {
                self.script_error(format!("`{name}` is set twice"), attr.name.span, "keep one");
                continue;
            }
            match name {
                "run" => self.check_run(attr, s),
                "grants" => self.check_grants(&attr.value, scope),
                "after" if s.kind == ScriptKind::Step => {
                    let ty = self.infer(&attr.value, scope);
                    let ok = matches!(&ty, Type::List(e) if matches!(**e, Type::Resource(_) | Type::Any))
                        || matches!(ty, Type::Any);
                    if !ok {
                        self.script_error(
                            format!("`after` is a list of resources, not {ty}"),
                            attr.value.span,
                            "write `after = [aws.ecs.service.ghost]`",
                        );
                    }
                }
                "timeout" => {
                    let ok = attr.value.literal_text().is_some_and(|t| crate::duration::parse(&t).is_some());
                    if !ok {
                        self.script_error(
                            "`timeout` is a duration written out, such as \"90s\", \"5m\" or \"1h\"".into(),
                            attr.value.span,
                            "scripts stop at their deadline (default 5m)",
                        );
                    }
                }
                "fargate" if s.kind == ScriptKind::Task => self.check_fargate(&attr.value, scope),
                "description" => {
                    let ty = self.infer(&attr.value, scope);
                    self.expect(&Type::String, &ty, attr.value.span, "a description");
                }
                other => {
                    let known = attributes_of(&s.kind);
                    let help = did_you_mean(
                        closest(other, known.iter().copied()),
                        &format!("a {} takes {}", s.kind.keyword(), known.join(", ")),
                    );
                    self.error(CheckError::UnknownAttribute {
                        type_name: s.kind.keyword().into(),
                        name: other.into(),
                        span: attr.name.span,
                        help,
                    });
                }
            }
        }
        match (s.attribute("run"), &s.inline) {
            (Some(run), Some(inline)) => self.script_error(
                "a script is either a file (`run`) or written in place (`script = <<RHAI`), not both".into(),
                inline.span,
                &format!("remove `run = ...` at {}, or this script", run.span.start),
            ),
            (None, None) => self.script_error(
                format!("{} `{}` has no script", s.kind.keyword(), s.name.name),
                s.name.span,
                "add `run = \"name.rhai\"` (next to the workflow), or `script = <<RHAI` ... `RHAI`",
            ),
            _ => {}
        }
    }

    fn check_event(&mut self, s: &Script) {
        match (&s.kind, &s.event) {
            (ScriptKind::Hook, None) => self.script_error(
                format!("hook `{}` says not when it runs", s.name.name),
                s.name.span,
                "write `hook NAME before delete aws.s3.bucket.logs`, `after phase NAME` or `after destroy`",
            ),
            (ScriptKind::Task | ScriptKind::Step, Some(event)) => self.script_error(
                format!(
                    "a {} runs {}, not on an event",
                    s.kind.keyword(),
                    match s.kind {
                        ScriptKind::Task => "on demand",
                        _ => "in its phase",
                    }
                ),
                event.span,
                "declare a `hook` to run a script on an event",
            ),
            (ScriptKind::Hook, Some(event)) => match &event.on {
                HookOn::Phase(name) => {
                    if !self.phases.contains_key(&name.name) {
                        let names: Vec<&str> = self.phases.keys().map(String::as_str).collect();
                        let help = did_you_mean(closest(&name.name, names), "declare the phase, or hook another");
                        self.error(CheckError::UnknownPhase { name: name.name.clone(), span: name.span, help });
                    }
                }
                HookOn::Destroy => {}
                HookOn::Resource(_, target) => {
                    self.resource_target(target);
                }
            },
            _ => {}
        }
    }

    /// `fargate = { cluster = ..., subnets = [...], ... }`: where `--on fargate` runs the task.
    fn check_fargate(&mut self, value: &Expr, scope: &mut Scope) {
        let ExprKind::Map(entries) = &value.kind else {
            self.script_error(
                "`fargate` is a map of settings".into(),
                value.span,
                "write `fargate = { cluster = ..., subnets = [...], security_groups = [...], image = \"...\", \
                 execution_role = ..., log_group = \"...\" }`",
            );
            return;
        };
        for entry in entries {
            let name = entry.key.name.as_str();
            let Some((_, ty)) = FARGATE_SETTINGS.iter().find(|(n, _)| *n == name) else {
                let names = FARGATE_SETTINGS.iter().map(|(n, _)| *n);
                let help = did_you_mean(
                    closest(name, names),
                    &format!("`fargate` takes {}", FARGATE_SETTINGS.map(|(n, _)| n).join(", ")),
                );
                self.error(CheckError::UnknownAttribute {
                    type_name: "fargate".into(),
                    name: name.into(),
                    span: entry.key.span,
                    help,
                });
                continue;
            };
            let expected = match *ty {
                "string" => Type::String,
                "list(string)" => Type::list(Type::String),
                _ => Type::map(Type::String),
            };
            let found = self.infer(&entry.value, scope);
            self.expect(&expected, &found, entry.value.span, &format!("fargate setting `{name}`"));
        }
        for (required, _) in FARGATE_SETTINGS.iter().filter(|(n, _)| *n != "secrets") {
            if !entries.iter().any(|e| e.key.name == *required) {
                self.script_error(
                    format!("`fargate` needs `{required}`"),
                    value.span,
                    "a one-off ECS task needs its cluster, private subnets, security groups, image, \
                     execution role and log group",
                );
            }
        }
    }

    fn check_run(&mut self, attr: &Attribute, s: &Script) {
        let Some(path) = attr.value.literal_text() else {
            self.script_error(
                "`run` is a file name written out".into(),
                attr.value.span,
                "write `run = \"tasks/delete_posts.rhai\"`, relative to the workflow",
            );
            return;
        };
        if !path.ends_with(".rhai") {
            self.script_error(
                format!("`{path}` is not a `.rhai` file"),
                attr.value.span,
                &format!("name the file of {} `{}` `*.rhai`", s.kind.keyword(), s.name.name),
            );
        }
    }

    /// `grants = [kind(targets..., option = literal)]`.
    fn check_grants(&mut self, value: &Expr, scope: &mut Scope) {
        let ExprKind::List(grants) = &value.kind else {
            self.grant_error(
                "`grants` is a list of grants".into(),
                value.span,
                "write `grants = [s3.delete_objects(aws.s3.bucket.logs)]`",
            );
            return;
        };
        for grant in grants {
            self.check_grant(grant, scope);
        }
    }

    fn check_grant(&mut self, grant: &Expr, scope: &mut Scope) {
        let known: Vec<&str> = self.catalog.grants().map(|g| g.name.as_str()).collect();
        let list = known.join(", ");
        let ExprKind::Call(callee, args) = &grant.kind else {
            self.grant_error(
                "a grant is written like a call: `KIND(RESOURCE, option = value)`".into(),
                grant.span,
                &format!("the kinds are {list}"),
            );
            return;
        };
        let name = crate::grants::dotted(callee).unwrap_or_default();
        let Some(schema) = self.catalog.grant(&name) else {
            let help = did_you_mean(closest(&name, known.iter().copied()), &format!("the kinds are {list}"));
            self.error(CheckError::BadGrant { reason: format!("unknown grant `{name}`"), span: callee.span, help });
            return;
        };
        let schema = schema.clone();
        let mut targets = 0;
        let mut options = BTreeSet::new();
        for arg in args {
            let Some(option) = &arg.name else {
                targets += 1;
                if let Some(type_name) = self.resource_target(&arg.value) {
                    if !schema.target_types.is_empty() && !schema.target_types.contains(&type_name) {
                        self.grant_error(
                            format!(
                                "`{}` applies to {}, not to {type_name}",
                                schema.name,
                                schema.target_types.join(" or ")
                            ),
                            arg.value.span,
                            &schema.doc,
                        );
                    }
                }
                continue;
            };
            let Some(field) = schema.options.iter().find(|f| f.name == option.name) else {
                let names: Vec<&str> = schema.options.iter().map(|f| f.name.as_str()).collect();
                let help = did_you_mean(
                    closest(&option.name, names.iter().copied()),
                    &if names.is_empty() {
                        format!("`{}` takes no options", schema.name)
                    } else {
                        format!("`{}` takes {}", schema.name, names.join(", "))
                    },
                );
                self.error(CheckError::BadGrant {
                    reason: format!("unknown option `{}`", option.name),
                    span: option.span,
                    help,
                });
                continue;
            };
            if options.contains(option.name.as_str()) {
                self.given_twice(&schema, &option.name, option.span);
                continue;
            }
            options.insert(option.name.as_str());
            if !arg.value.is_literal() {
                self.grant_error(
                    format!("option `{}` is written out, not computed", option.name),
                    arg.value.span,
                    "a reviewer reads exactly what a script may do: write the values as literals",
                );
                continue;
            }
            // `tables = { posts = ["select"] }`: each item's value is the option it stands for.
            let keyed = schema.keyed.get(&field.name).and_then(|by| schema.options.iter().find(|f| &f.name == by));
            let values: Vec<(&Field, &Expr)> = match (&arg.value.kind, keyed) {
                (ExprKind::Map(entries), Some(by)) => {
                    if !options.insert(by.name.as_str()) {
                        self.given_twice(&schema, &by.name, arg.value.span);
                    }
                    entries.iter().map(|e| (by, &e.value)).collect()
                }
                _ => vec![(field, &arg.value)],
            };
            for (field, value) in values {
                self.check_grant_option(&schema, field, value, scope);
            }
        }
        let (min, max) = schema.targets;
        if targets < min || max.is_some_and(|m| targets > m) {
            let wanted = match (min, max) {
                (0, Some(0)) => "no resource".to_string(),
                (a, Some(b)) if a == b => format!("{a} resource{}", if a == 1 { "" } else { "s" }),
                (a, None) => format!("at least {a} resource{}", if a == 1 { "" } else { "s" }),
                (a, Some(b)) => format!("{a} to {b} resources"),
            };
            self.grant_error(format!("`{}` names {wanted}, not {targets}", schema.name), grant.span, &schema.doc);
        }
        for field in schema.options.iter().filter(|f| f.required) {
            if !options.contains(field.name.as_str()) {
                self.grant_error(
                    format!("`{}` needs `{}`", schema.name, field.name),
                    grant.span,
                    &format!("add `{} = ...`: {}", field.name, field.doc),
                );
            }
        }
    }

    /// A grant option written twice: itself, or also through a keyed option's map.
    fn given_twice(&mut self, schema: &GrantSchema, option: &str, span: crate::span::Span) {
        let help = schema
            .keyed
            .iter()
            .find(|(_, by)| *by == option)
            .map(|(keyed, by)| format!("`{keyed}` written as a map gives each of its items its own `{by}`"))
            .unwrap_or_else(|| "write each option once".into());
        self.grant_error(format!("`{option}` is given twice"), span, &help);
    }

    /// Checks one literal option value of a grant: its type and, where the
    /// option has them, its allowed values.
    fn check_grant_option(&mut self, schema: &GrantSchema, field: &Field, value: &Expr, scope: &mut Scope) {
        let found = self.infer(value, scope);
        self.expect(&field.ty, &found, value.span, &format!("grant option `{}`", field.name));
        let Some(choices) = schema.choices.get(&field.name) else { return };
        for (text, span) in literal_strings(value) {
            if !choices.iter().any(|c| c.eq_ignore_ascii_case(&text)) {
                let help = did_you_mean(
                    closest(&text, choices.iter().map(String::as_str)),
                    &format!("`{}` is one of {}", field.name, choices.join(", ")),
                );
                self.error(CheckError::BadGrant {
                    reason: format!("`{text}` is not a value of `{}`", field.name),
                    span,
                    help,
                });
            }
        }
    }

    /// The type of the declared resource `expr` names, or an error.
    fn resource_target(&mut self, expr: &Expr) -> Option<String> {
        let resolved = chain(expr).and_then(|c| match resource_path(&c, self.catalog) {
            Some(ResourcePath::Resource { type_name, name, consumed, .. }) if consumed == c.ops.len() => {
                Some((type_name, name.name.clone()))
            }
            _ => None,
        });
        let Some((type_name, name)) = resolved else {
            self.grant_error(
                "expected a resource, such as `aws.s3.bucket.logs`".into(),
                expr.span,
                "name a resource the workflow declares (one a component instance owns by its address, \
                 `network.primary.aws.ec2.vpc.main`)",
            );
            return None;
        };
        let address = format!("{type_name}.{name}");
        if !self.resources.contains_key(&address) {
            let names: Vec<&str> = self.resources.keys().map(String::as_str).collect();
            let help = did_you_mean(closest(&address, names), "declare the resource, or name one that is declared");
            self.error(CheckError::UnknownResource { address, span: expr.span, help });
            return None;
        }
        Some(type_name)
    }

    fn script_error(&mut self, reason: String, span: crate::span::Span, help: &str) {
        self.error(CheckError::BadScript { reason, span, help: Some(help.to_string()) });
    }

    fn grant_error(&mut self, reason: String, span: crate::span::Span, help: &str) {
        self.error(CheckError::BadGrant { reason, span, help: Some(help.to_string()) });
    }
}

/// Every string literal in `expr`, with its span.
fn literal_strings(expr: &Expr) -> Vec<(String, crate::span::Span)> {
    match &expr.kind {
        ExprKind::List(items) => items.iter().flat_map(literal_strings).collect(),
        _ => expr.literal_text().map(|t| vec![(t, expr.span)]).unwrap_or_default(),
    }
}
