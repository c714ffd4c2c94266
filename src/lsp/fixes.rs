//! Quick fixes that a rule's `fix` spells out. A fix written "set `name =
//! value`" is mechanical: the edit sets each named attribute of the flagged
//! resource's block to its literal value, replacing the value written there
//! or adding the attribute before the block's closing brace. Fixes that take
//! judgement ("name the principals", "route private subnets ...") give none.

use drone_engine::policy::{Finding, Rule};
use drone_lang::ast::{Item, Module, Resource};
use drone_lang::{Catalog, FileId};
use serde_json::{json, Value};

use super::text::LineIndex;

/// The code action's title and edits that apply `rule`'s fix to the block of
/// `finding`'s resource in `module` (the document `text`), when the fix is
/// mechanical and every attribute it sets is one the block's type has.
pub fn mechanical(
    rule: &Rule,
    finding: &Finding,
    module: &Module,
    text: &str,
    catalog: &Catalog,
    index: &LineIndex<'_>,
) -> Option<Value> {
    let block = enclosing_block(&module.items, finding)?;
    let schema = catalog.resource(&block.type_name.dotted())?;
    let assignments = rule.assignments();
    let settable = |name: &str| schema.attribute(name).is_some_and(|a| a.settable());
    let literal = |value: &str| {
        let parsed = drone_lang::parse(FileId(0), &format!("let fix = {value}\n"));
        matches!(parsed.module.items.as_slice(), [Item::Let(l)] if parsed.errors.is_empty() && l.value.is_literal())
    };
    if assignments.is_empty() || !assignments.iter().all(|(name, value)| settable(name) && literal(value)) {
        return None;
    }
    let mut edits = Vec::new();
    let mut added = String::new();
    let indent = attribute_indent(block, text);
    for (name, value) in &assignments {
        match block.attributes.iter().find(|a| &a.name.name == name) {
            Some(attribute) => {
                let (start, end) = (attribute.value.span.start as usize, attribute.value.span.end as usize);
                edits.push(json!({ "range": index.range(start, end), "newText": value }));
            }
            None => added.push_str(&format!("{indent}{name} = {value}\n")),
        }
    }
    if !added.is_empty() {
        // Before the closing brace: at the start of its line when it stands alone there.
        let close = (block.span.end as usize).saturating_sub(1);
        let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
        let (from, insert) = if text[line_start..close].trim().is_empty() {
            (line_start, added)
        } else {
            // `{ name = "x" }` on one line: the brace moves to a line of its own.
            let block_indent: String = text[line_start..].chars().take_while(|c| *c == ' ' || *c == '\t').collect();
            (text[..close].trim_end().len(), format!("\n{added}{block_indent}"))
        };
        let to = if from == line_start { line_start } else { close };
        edits.push(json!({ "range": index.range(from, to), "newText": insert }));
    }
    let sets: Vec<String> = assignments.iter().map(|(name, value)| format!("`{name} = {value}`")).collect();
    Some(json!({ "title": format!("Set {}", sets.join(" and ")), "edits": edits }))
}

/// The innermost resource block in `items` (phases, loops, conditionals and
/// components included) that holds the finding's span.
fn enclosing_block<'m>(items: &'m [Item], finding: &Finding) -> Option<&'m Resource> {
    let holds = |span: drone_lang::Span| {
        span.file == finding.span.file && span.start <= finding.span.start && finding.span.end <= span.end
    };
    items.iter().filter(|item| holds(item.span())).find_map(|item| match item {
        Item::Resource(r) => Some(r),
        Item::Phase(p) => enclosing_block(&p.items, finding),
        Item::For(f) => enclosing_block(&f.items, finding),
        Item::If(i) => enclosing_block(&i.then_items, finding).or_else(|| enclosing_block(&i.else_items, finding)),
        Item::Component(c) => enclosing_block(&c.items, finding),
        _ => None,
    })
}

/// How the block's attributes are indented: as its first attribute, or two
/// spaces deeper than the block.
fn attribute_indent(block: &Resource, text: &str) -> String {
    let line_of = |at: usize| &text[text[..at].rfind('\n').map_or(0, |i| i + 1)..];
    let indent_of = |line: &str| line.chars().take_while(|c| *c == ' ' || *c == '\t').collect::<String>();
    let block_line = line_of(block.span.start as usize);
    match block.attributes.first().map(|a| line_of(a.span.start as usize)) {
        Some(line) if line.as_ptr() != block_line.as_ptr() => indent_of(line),
        _ => indent_of(block_line) + "  ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_fixes_that_are_mechanical_set_real_attributes_to_literals() {
        let catalog = drone_stdlib::catalog();
        let mut mechanical = Vec::new();
        for rule in super::super::features::builtin_rules() {
            let id = &rule.id;
            for (name, value) in rule.assignments() {
                let settable = catalog.resources().any(|s| s.attribute(&name).is_some_and(|a| a.settable()));
                assert!(settable, "{id}: no resource type has a settable `{name}`");
                let parsed = drone_lang::parse(FileId(0), &format!("let fix = {value}\n"));
                let literal = matches!(parsed.module.items.as_slice(), [Item::Let(l)] if l.value.is_literal());
                assert!(literal, "{id}: `{value}` is not a literal");
                mechanical.push(format!("{id}: {name}"));
            }
        }
        let expected = [
            "data.s3_encryption: encryption",
            "data.s3_versioning: versioning",
            "data.s3_public_access_block: public_access_block",
            "data.rds_encryption: storage_encrypted",
            "data.rds_backup_retention: backup_retention_period",
            "data.rds_deletion_protection: deletion_protection",
            "data.alb_tls12: ssl_policy",
            "data.ecr_scan_on_push: scan_on_push",
            "data.ecr_immutable_tags: immutable_tags",
            "data.efs_encryption: encrypted",
            "data.cloudfront_https_only: viewer_protocol_policy",
            "data.cloudfront_https_only: origin_protocol_policy",
            "network.internal_load_balancers: internal",
            "network.public_ip_only_in_public_subnets: map_public_ip_on_launch",
            "network.ecs_no_public_ip: assign_public_ip",
            "operations.ecs_exec_in_production: enable_execute_command",
        ];
        assert_eq!(mechanical, expected, "the rules whose fix the editor applies");
    }
}
