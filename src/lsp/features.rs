//! Hover, completion, go to definition, document symbols and formatting, all
//! from the document's syntax tree and the catalog.

use drone_engine::policy::{Rule, Severity};
use drone_lang::ast::{Component, Instance, Item, Module};
use drone_lang::schema::{Presence, ResourceSchema, Type};
use drone_lang::span::FileId;
use drone_lang::Catalog;
use serde_json::{json, Value};

use super::refs;
use super::text::LineIndex;

/// What hover and completion read besides the document.
pub struct Context<'c> {
    /// Resource types, functions and grants.
    pub catalog: &'c Catalog,
    /// The document's file.
    pub file: &'c std::path::Path,
    /// The rules the document is judged by (its packs, once an analysis ran).
    pub rules: &'c [Rule],
    /// Its params' and lets' values with their types, from the last analysis.
    pub values: &'c std::collections::BTreeMap<String, String>,
    /// The keys each looped block declares, by the block's address, from the last analysis.
    pub loop_keys: &'c std::collections::BTreeMap<String, Vec<String>>,
    /// The open documents' texts, by URI: an import open in the editor is read as it is there,
    /// saved or not, as the diagnostics read it.
    pub documents: &'c std::collections::BTreeMap<String, String>,
}

impl Context<'_> {
    /// The text of the file at `path`: the editor's when it is open, else the disk's.
    fn source(&self, path: &std::path::Path) -> Option<String> {
        let wanted = super::canonical(path);
        let open = self.documents.iter().find(|(uri, _)| super::canonical(&super::path_of(uri)) == wanted);
        open.map(|(_, text)| text.clone()).or_else(|| std::fs::read_to_string(path).ok())
    }
}

/// Another file's syntax tree, when it parses (the open document's comes
/// from the server's item cache, with the items that parse).
fn parse(text: &str) -> Option<Module> {
    let parsed = drone_lang::parse(FileId(0), text);
    parsed.errors.is_empty().then_some(parsed.module)
}

/// Every item, phases' and loops' included, in source order.
fn flatten(items: &[Item]) -> Vec<&Item> {
    let mut out = Vec::new();
    for item in items {
        out.push(item);
        match item {
            Item::Phase(p) => out.extend(flatten(&p.items)),
            Item::For(f) => out.extend(flatten(&f.items)),
            Item::If(i) => {
                out.extend(flatten(&i.then_items));
                out.extend(flatten(&i.else_items));
            }
            _ => {}
        }
    }
    out
}

/// The `instance COMPONENT NAME` block (the component possibly `alias.COMPONENT`),
/// in phases, loops and conditions too.
pub(super) fn instance_named<'m>(module: &'m Module, component: &str, name: &str) -> Option<&'m Instance> {
    flatten(&module.items).into_iter().find_map(|item| match item {
        Item::Instance(i) if i.name.name == name && i.component.last().is_some_and(|c| c.name == component) => Some(i),
        _ => None,
    })
}

/// The file `use "..." as alias` imports, relative to the document at `path`.
fn imported_file(module: &Module, alias: &str, path: &std::path::Path) -> Option<std::path::PathBuf> {
    let relative = flatten(&module.items).into_iter().find_map(|item| match item {
        Item::Use(u) if u.alias.name == alias => u.path.literal_text(),
        _ => None,
    })?;
    Some(path.parent().unwrap_or(std::path::Path::new(".")).join(relative))
}

/// The resource among `items` (a module's, or a component's) whose name is at
/// `offset`, or whose address (or one of its attributes) is the word there.
fn resource_in<'m>(items: &'m [Item], text: &str, offset: usize) -> Option<&'m drone_lang::ast::Resource> {
    let word = word_at(text, offset);
    flatten(items).into_iter().find_map(|item| match item {
        Item::Resource(r) => {
            let address = format!("{}.{}", r.type_name.dotted(), r.name.name);
            let on_name = (r.name.span.start as usize..=r.name.span.end as usize).contains(&offset);
            (on_name || word == address || word.starts_with(&format!("{address}."))).then_some(r)
        }
        _ => None,
    })
}

/// The component declared around byte `offset`, if any: its own scope (inputs, lets,
/// resources), which sees nothing of the file's.
fn component_around(module: &Module, offset: usize) -> Option<&Component> {
    module.items.iter().find_map(|item| match item {
        Item::Component(c) if (c.span.start as usize..c.span.end as usize).contains(&offset) => Some(c),
        _ => None,
    })
}

/// The dotted word (`aws.s3.bucket.logs`) at byte `offset`.
fn word_at(text: &str, offset: usize) -> &str {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let start = text[..offset.min(text.len())].rfind(|c: char| !is_word(c)).map_or(0, |i| i + 1);
    let end = text[offset.min(text.len())..].find(|c: char| !is_word(c)).map_or(text.len(), |i| offset + i);
    text.get(start..end).unwrap_or("").trim_matches('.')
}

/// Docs for the resource type, attribute, function, let or param under the cursor.
pub fn hover(text: &str, module: &Module, offset: usize, cx: &Context<'_>) -> Value {
    let catalog = cx.catalog;
    let index = LineIndex::new(text);
    let word = word_at(text, offset);
    let markdown = |value: String| json!({ "contents": { "kind": "markdown", "value": value } });
    let called = text[offset.min(text.len())..]
        .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_')
        .starts_with('(');
    if let Some(rule) = rule_hover(word, cx.rules) {
        return rule;
    }
    if let Some((instance, output)) = word.rsplit_once('.') {
        let value = instance_output_values(text, module, instance, cx)
            .and_then(|outputs| outputs.into_iter().find(|(name, _)| name == output));
        if let Some((name, value)) = value {
            return markdown(format!("output `{name}` of `{instance}` = `{value}`"));
        }
    }
    if let Some(f) = catalog.function(word).filter(|_| called) {
        return markdown(format!("`{}({})` -> {}\n\n{}", f.name, f.params.join(", "), f.returns, f.doc));
    }
    for item in flatten(&module.items) {
        match item {
            Item::Let(l) if l.name.name == word => {
                let value = text.get(l.value.span.start as usize..l.value.span.end as usize).unwrap_or("");
                let evaluated = cx.values.get(word).map(|v| format!("\n\nvalue: {v}")).unwrap_or_default();
                return markdown(format!(
                    "`let {}` = `{}`{evaluated}",
                    l.name.name,
                    value.lines().next().unwrap_or("")
                ));
            }
            Item::Param(p) if p.name.name == word => {
                let ty = p.ty.as_ref().map(|t| format!(": {}", t.name.name)).unwrap_or_default();
                let default = p
                    .default
                    .as_ref()
                    .and_then(|d| text.get(d.span.start as usize..d.span.end as usize))
                    .map(|d| format!(" = `{d}`"))
                    .unwrap_or_else(|| " (required)".into());
                let evaluated = cx.values.get(word).map(|v| format!("\n\nvalue: {v}")).unwrap_or_default();
                return markdown(format!("`param {}{ty}`{default}{evaluated}", p.name.name));
            }
            _ => {}
        }
    }
    for item in flatten(&module.items) {
        let Item::Resource(r) = item else { continue };
        let (start, end) = (r.span.start as usize, r.span.end as usize);
        if offset < start || offset > end {
            continue;
        }
        let type_name = r.type_name.dotted();
        let Some(schema) = catalog.resource(&type_name) else { return Value::Null };
        let t = r.type_name.span;
        if (t.start as usize..=t.end as usize).contains(&offset) {
            let markdown = format!("**{type_name}**: {}", schema.doc);
            return json!({ "contents": { "kind": "markdown", "value": markdown }, "range": index.range(t.start as usize, t.end as usize) });
        }
        for attr in &r.attributes {
            let n = attr.name.span;
            if (n.start as usize..=n.end as usize).contains(&offset) {
                let Some(a) = schema.attribute(&attr.name.name) else { return Value::Null };
                let markdown = format!("`{}`: {} ({})\n\n{}", a.name, a.ty, presence(a.presence), a.doc);
                return json!({ "contents": { "kind": "markdown", "value": markdown }, "range": index.range(n.start as usize, n.end as usize) });
            }
        }
    }
    Value::Null
}

fn presence(p: Presence) -> &'static str {
    match p {
        Presence::Required => "required",
        Presence::Optional => "optional",
        Presence::Computed => "known after apply",
        Presence::OptionalComputed => "optional; computed when not set",
    }
}

/// Resource types after `resource`, a block's attributes inside it. A space the editor sent as a
/// trigger (`space`) asks only where a space starts something to complete: a resource type after
/// `resource`, a value after `=` or `,`; elsewhere (aligning `=` signs, writing a string) it gets
/// nothing, so the editor opens no list.
pub fn completion(text: &str, module: &Module, offset: usize, space: bool, cx: &Context<'_>) -> Value {
    let catalog = cx.catalog;
    let offset = offset.min(text.len());
    let nothing = json!({ "isIncomplete": false, "items": [] });
    // A space typed in a comment triggers completion as one typed in code does: nothing is offered.
    if in_comment(text, offset) {
        return nothing;
    }
    if space {
        let line = &text[text[..offset].rfind('\n').map_or(0, |i| i + 1)..offset];
        let in_string = line.matches('"').count() % 2 == 1;
        let starts_something = ["resource ", "= ", ", "].iter().any(|s| line.trim_start().ends_with(s));
        if in_string || !starts_something {
            return nothing;
        }
    }
    if let Some(rules) = allow_completion(text, offset, cx.rules) {
        return rules;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..offset].trim_start();
    if let Some(partial) = before.strip_prefix("resource ") {
        if !partial.contains(' ') {
            let items: Vec<Value> =
                catalog.resources().map(|s| json!({ "label": s.type_name, "kind": 7, "detail": s.doc })).collect();
            return json!({ "isIncomplete": false, "items": items });
        }
    }
    // A reference: `TYPE.` gives the declared names, `TYPE.NAME.` the attributes (computed ones too).
    let typed = word_at(text, offset);
    if before.ends_with('.') || typed.contains('.') {
        let prefix =
            text[..offset].rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).next().unwrap_or("");
        let (path, _) = prefix.rsplit_once('.').unwrap_or((prefix, ""));
        if let Some(outputs) = instance_outputs(text, module, path, cx) {
            let items: Vec<Value> =
                outputs.into_iter().map(|o| json!({ "label": o, "kind": 10, "detail": "output" })).collect();
            return json!({ "isIncomplete": false, "items": items });
        }
        if catalog.resource(path).is_some() {
            let names: Vec<Value> =
                declared_names(text, path).into_iter().map(|n| json!({ "label": n, "kind": 6 })).collect();
            return json!({ "isIncomplete": false, "items": names });
        }
        if let Some((type_name, _)) = path.rsplit_once('.') {
            if let Some(schema) = catalog.resource(type_name) {
                let items: Vec<Value> = schema
                    .attributes
                    .iter()
                    .map(|a| json!({ "label": a.name, "kind": 10, "detail": format!("{} ({})", a.ty, presence(a.presence)), "documentation": a.doc }))
                    .collect();
                return json!({ "isIncomplete": false, "items": items });
            }
        }
    }
    if let Some(values) = enum_completion(text, offset, before, catalog) {
        return values;
    }
    // Where a value starts: the workflow's params and lets, and the functions with their signatures.
    if before.ends_with("= ") || before.ends_with('(') || before.ends_with(", ") || before.ends_with('[') {
        let mut items: Vec<Value> = Vec::new();
        let declared = |keyword: &str| -> Vec<String> {
            text.lines()
                .filter_map(|l| l.trim_start().strip_prefix(keyword))
                .filter_map(|rest| rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next())
                .filter(|n| !n.is_empty())
                .map(String::from)
                .collect()
        };
        items.extend(declared("param ").into_iter().map(|n| json!({ "label": n, "kind": 6, "detail": "param" })));
        items.extend(declared("let ").into_iter().map(|n| json!({ "label": n, "kind": 6, "detail": "let" })));
        items.extend(catalog.functions().filter(|f| !f.policy_only).map(|f| {
            json!({ "label": f.name, "kind": 3, "detail": format!("{}({}) -> {}", f.name, f.params.join(", "), f.returns), "documentation": f.doc })
        }));
        return json!({ "isIncomplete": false, "items": items });
    }
    if let Some(schema) = enclosing_resource(text, offset, catalog) {
        let items: Vec<Value> = schema
            .attributes
            .iter()
            .filter(|a| a.settable())
            .map(|a| {
                json!({
                    "label": a.name,
                    "kind": 10,
                    "detail": format!("{} ({})", a.ty, presence(a.presence)),
                    "documentation": a.doc,
                    "insertText": format!("{} = ", a.name),
                })
            })
            .collect();
        return json!({ "isIncomplete": false, "items": items });
    }
    let keywords = ["resource", "let", "param", "phase", "output", "use", "for", "if", "task", "step", "hook", "moved"];
    json!({ "isIncomplete": false, "items": keywords.iter().map(|k| json!({ "label": k, "kind": 14 })).collect::<Vec<_>>() })
}

/// The schema of the resource block the cursor is in; the text need not
/// parse: the block is found by its header and its braces.
fn enclosing_resource<'c>(text: &str, offset: usize, catalog: &'c Catalog) -> Option<&'c ResourceSchema> {
    let at = text[..offset].rfind("resource ")?;
    let open = text[at..offset].matches('{').count();
    let close = text[at..offset].matches('}').count();
    let type_name = text[at..].split_whitespace().nth(1)?;
    (open > close).then(|| catalog.resource(type_name)).flatten()
}

/// Whether `offset` is inside a comment: a line comment to its line's end, a block comment
/// between its delimiters.
fn in_comment(text: &str, offset: usize) -> bool {
    drone_lang::trivia::comments(text).iter().any(|&(start, end)| match text[start..].starts_with("/*") {
        true => start < offset && offset < end,
        false => start < offset && offset <= end,
    })
}

/// The values an enum attribute accepts, where its value is being written:
/// after `name = `, or inside the string just opened there. The attribute is
/// the enclosing resource's or a field of one of its objects.
fn enum_completion(text: &str, offset: usize, before: &str, catalog: &Catalog) -> Option<Value> {
    let (head, in_string) = match before.rfind('"') {
        Some(quote) if before[..quote].trim_end().ends_with('=') => (&before[..quote], true),
        _ => (before, false),
    };
    let name = head.trim_end().strip_suffix('=')?.trim_end();
    let name = name.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next()?;
    let schema = enclosing_resource(text, offset, catalog)?;
    let values = schema.attributes.iter().find_map(|a| one_of(&a.name, &a.ty, name))?;
    let items: Vec<Value> = values
        .iter()
        .map(|v| {
            let written = if in_string { v.clone() } else { format!("\"{v}\"") };
            // Matched against what is typed without its quote: `a` finds "AES256" and "aws:kms".
            json!({ "label": written, "filterText": v, "kind": 20, "detail": format!("{name}: one of {} values", values.len()) })
        })
        .collect();
    Some(json!({ "isIncomplete": false, "items": items }))
}

/// The values of the enum named `name`: `ty` itself when `attribute` is that
/// name, or a field of the objects `ty` holds.
fn one_of<'t>(attribute: &str, ty: &'t Type, name: &str) -> Option<&'t Vec<String>> {
    match ty {
        Type::OneOf(values) if attribute == name => Some(values),
        Type::List(inner) | Type::Map(inner) => one_of(attribute, inner, name),
        Type::Object(fields) => fields.iter().find_map(|f| one_of(&f.name, &f.ty, name)),
        _ => None,
    }
}

/// The outputs of the instance `COMPONENT.INSTANCE` (`path`), from the
/// component's declaration in this file or in the one its `use` imports.
fn instance_outputs(text: &str, module: &Module, path: &str, cx: &Context<'_>) -> Option<Vec<String>> {
    instance_output_values(text, module, path, cx).map(|outputs| outputs.into_iter().map(|(name, _)| name).collect())
}

/// The outputs of the instance `COMPONENT.INSTANCE` (`path`) with their expressions as written.
fn instance_output_values(text: &str, module: &Module, path: &str, cx: &Context<'_>) -> Option<Vec<(String, String)>> {
    let (component, instance) = path.split_once('.')?;
    let found: Vec<String> =
        instance_named(module, component, instance)?.component.iter().map(|c| c.name.clone()).collect();
    let outputs_of = |module: &Module, source: &str| -> Option<Vec<(String, String)>> {
        module.items.iter().find_map(|item| match item {
            Item::Component(c) if c.name.name == component => Some(
                flatten(&c.items)
                    .into_iter()
                    .filter_map(|i| match i {
                        Item::Output(o) => {
                            let value =
                                source.get(o.value.span.start as usize..o.value.span.end as usize).unwrap_or("");
                            Some((o.name.name.clone(), value.to_string()))
                        }
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        })
    };
    match found.as_slice() {
        [_] => outputs_of(module, text),
        [alias, _] => {
            let imported = cx.source(&imported_file(module, alias, cx.file)?)?;
            outputs_of(&parse(&imported)?, &imported)
        }
        _ => None,
    }
}

/// The names of the resources of `type_name` the text declares (found by their headers,
/// so a document being typed still completes).
fn declared_names(text: &str, type_name: &str) -> Vec<String> {
    let header = format!("resource {type_name} ");
    let mut names: Vec<String> = text
        .match_indices(&header)
        .filter_map(|(i, _)| text[i + header.len()..].split_whitespace().next())
        .map(String::from)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Where the resource, let or param under the cursor is declared: in this
/// document, or for `alias.name` in the file `use "..." as alias` imports.
pub fn definition(uri: &str, text: &str, module: &Module, offset: usize, cx: &Context<'_>) -> Value {
    let word = word_at(text, offset);
    if let Some(found) = component_definition(uri, text, module, word, cx) {
        return found;
    }
    if let Some((alias, name)) = word.split_once('.') {
        if let Some(file) = imported_file(module, alias, cx.file) {
            let Some(imported_text) = cx.source(&file) else { return Value::Null };
            let Some(imported) = parse(&imported_text) else { return Value::Null };
            let name = name.split('.').next().unwrap_or(name);
            let target = format!("file://{}", file.display());
            return declared(&target, &imported_text, &imported, name);
        }
    }
    declared(uri, text, module, word)
}

/// For `COMPONENT.INSTANCE.output` (or the component named in an `instance`
/// block), the output (or the component) where it is declared: in this file,
/// or in the file the instance's `alias.component` imports.
fn component_definition(uri: &str, text: &str, module: &Module, word: &str, cx: &Context<'_>) -> Option<Value> {
    let parts: Vec<&str> = word.split('.').collect();
    let instance = flatten(&module.items).into_iter().find_map(|item| match item {
        Item::Instance(i) => {
            let component = i.component.last()?.name.as_str();
            let named = parts.len() >= 2 && parts[0] == component && parts[1] == i.name.name;
            let on_component = i.component.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(".") == word
                || (parts.len() == 1 && parts[0] == component);
            (named || on_component).then(|| (i.component.iter().map(|c| c.name.clone()).collect::<Vec<_>>(), named))
        }
        _ => None,
    })?;
    let (component_path, named) = instance;
    let component = component_path.last()?.clone();
    let path: Vec<&str> = component_path.iter().map(String::as_str).collect();
    let (file, target_text) = component_source(text, module, &path, cx)?;
    let target_uri = file.map_or_else(|| uri.to_string(), |f| format!("file://{}", f.display()));
    let target_module = parse(&target_text)?;
    let index = LineIndex::new(&target_text);
    let location = |span: drone_lang::Span| json!({ "uri": target_uri, "range": index.range(span.start as usize, span.end as usize) });
    for item in &target_module.items {
        let Item::Component(c) = item else { continue };
        if c.name.name != component {
            continue;
        }
        if named && parts.len() >= 3 {
            for inner in flatten(&c.items) {
                if let Item::Output(o) = inner {
                    if o.name.name == parts[2] {
                        return Some(location(o.name.span));
                    }
                }
            }
        }
        return Some(location(c.name.span));
    }
    None
}

/// The file the component `path` (`[import alias, name]` or `[name]`) is declared in, `None` for
/// this document, with its text: an import's as the editor has it, or `text`.
fn component_source(
    text: &str,
    module: &Module,
    path: &[&str],
    cx: &Context<'_>,
) -> Option<(Option<std::path::PathBuf>, String)> {
    match path {
        [alias, _] => {
            let file = imported_file(module, alias, cx.file)?;
            let source = cx.source(&file)?;
            Some((Some(file), source))
        }
        _ => Some((None, text.to_string())),
    }
}

/// The declaration of `word` (a resource address or the name of a let or param) in `text`.
fn declared(uri: &str, text: &str, module: &Module, word: &str) -> Value {
    let index = LineIndex::new(text);
    let location =
        |span: drone_lang::Span| json!({ "uri": uri, "range": index.range(span.start as usize, span.end as usize) });
    for item in flatten(&module.items) {
        match item {
            Item::Resource(r) => {
                let address = format!("{}.{}", r.type_name.dotted(), r.name.name);
                if word == address || word.starts_with(&format!("{address}.")) {
                    return location(r.name.span);
                }
            }
            Item::Let(l) if word.split('.').next() == Some(l.name.name.as_str()) => return location(l.name.span),
            Item::Param(p) if word.split('.').next() == Some(p.name.name.as_str()) => return location(p.name.span),
            _ => {}
        }
    }
    Value::Null
}

/// Phases, resources, scripts and policies, as document symbols.
pub fn symbols(text: &str, module: &Module) -> Value {
    let index = LineIndex::new(text);
    fn symbol(
        index: &LineIndex<'_>,
        name: String,
        kind: u32,
        span: drone_lang::Span,
        at: drone_lang::Span,
        children: Vec<Value>,
    ) -> Value {
        json!({
            "name": name,
            "kind": kind,
            "range": index.range(span.start as usize, span.end as usize),
            "selectionRange": index.range(at.start as usize, at.end as usize),
            "children": children,
        })
    }
    fn of(index: &LineIndex<'_>, items: &[Item]) -> Vec<Value> {
        let leaf = |name: String, kind: u32, span, at| symbol(index, name, kind, span, at, Vec::new());
        items
            .iter()
            .flat_map(|item| match item {
                Item::Phase(p) => {
                    vec![symbol(index, format!("phase {}", p.name.name), 3, p.span, p.name.span, of(index, &p.items))]
                }
                // What a loop or a condition declares is listed where it stands.
                Item::For(f) => of(index, &f.items),
                Item::If(i) => [of(index, &i.then_items), of(index, &i.else_items)].concat(),
                Item::Resource(r) => {
                    vec![leaf(format!("{}.{}", r.type_name.dotted(), r.name.name), 23, r.span, r.name.span)]
                }
                Item::Script(s) => vec![leaf(format!("{} {}", s.kind.keyword(), s.name.name), 12, s.span, s.name.span)],
                Item::Policy(p) => vec![leaf(format!("policy {}", p.id.dotted()), 19, p.span, p.id.span)],
                Item::Param(p) => vec![leaf(format!("param {}", p.name.name), 14, p.span, p.name.span)],
                Item::Let(l) => vec![leaf(format!("let {}", l.name.name), 13, l.span, l.name.span)],
                Item::Output(o) => vec![leaf(format!("output {}", o.name.name), 7, o.span, o.name.span)],
                Item::Instance(i) => {
                    let component: Vec<&str> = i.component.iter().map(|c| c.name.as_str()).collect();
                    vec![leaf(format!("instance {} {}", component.join("."), i.name.name), 19, i.span, i.name.span)]
                }
                Item::Component(c) => {
                    let inputs =
                        c.inputs.iter().map(|i| leaf(format!("input {}", i.name.name), 8, i.span, i.name.span));
                    let children = inputs.chain(of(index, &c.items)).collect();
                    vec![symbol(index, format!("component {}", c.name.name), 5, c.span, c.name.span, children)]
                }
                _ => Vec::new(),
            })
            .collect()
    }
    Value::Array(of(&index, &module.items))
}

/// The whole document formatted, as one edit; none when it is formatted, or
/// cannot be (a syntax error, or a comment the formatter would lose).
pub fn formatting(text: &str) -> Result<Value, String> {
    let parsed = drone_lang::parse(FileId(0), text);
    if !parsed.errors.is_empty() {
        return Err("the file has a syntax error; fix it before formatting".into());
    }
    let formatted = drone_lang::fmt::format(text, &parsed.module).map_err(|e| e.to_string())?;
    if formatted == text {
        return Ok(json!([]));
    }
    let index = LineIndex::new(text);
    Ok(json!([{ "range": index.range(0, text.len()), "newText": formatted }]))
}

/// Quick fixes for the diagnostics in `params`: write the did-you-mean in,
/// or put an `@allow(rule, reason = "")` above the block a finding is about
/// (the checker then asks for the reason: a suppression needs one).
pub fn code_actions(uri: &str, text: &str, params: &Value) -> Value {
    let index = LineIndex::new(text);
    let mut actions = Vec::new();
    for diagnostic in params["context"]["diagnostics"].as_array().into_iter().flatten() {
        let data = &diagnostic["data"];
        if let Some(fix) = data["replace_with"].as_str() {
            // The range as the server sent it (diagnostics published before `data` carried one: the echo).
            let range = if data["range"].is_object() { &data["range"] } else { &diagnostic["range"] };
            actions.push(json!({
                "title": format!("Change to `{fix}`"),
                "kind": "quickfix",
                "isPreferred": true,
                "diagnostics": [diagnostic],
                "edit": { "changes": { uri: [{ "range": range, "newText": fix }] } },
            }));
        }
        if let Some(fix) = data["mechanical"].as_object() {
            actions.push(json!({
                "title": fix["title"],
                "kind": "quickfix",
                "isPreferred": true,
                "diagnostics": [diagnostic],
                "edit": { "changes": { uri: fix["edits"] } },
            }));
        }
        // Only where the finding's block is in this document (`allow_at`).
        if let (Some(rule), true, true) = (data["rule"].as_str(), data["active"] == true, data["allow_at"].is_object())
        {
            let block = index.offset(&data["allow_at"]);
            let line_start = text[..block.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
            let indent: String = text[line_start..].chars().take_while(|c| *c == ' ' || *c == '\t').collect();
            let at = index.position(line_start);
            actions.push(json!({
                "title": format!("Allow `{rule}` here, with a reason"),
                "kind": "quickfix",
                "diagnostics": [diagnostic],
                "edit": { "changes": { uri: [{
                    "range": { "start": at, "end": at },
                    "newText": format!("{indent}@allow({rule}, reason = \"\")\n"),
                }] } },
            }));
        }
    }
    Value::Array(actions)
}

/// The built-in rules, read from the packs once: what the editor knows of
/// rules before an analysis has judged the document with its own packs.
pub(super) fn builtin_rules() -> &'static [Rule] {
    static RULES: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        let mut out = Vec::new();
        for (pack, _, text) in crate::policies::BUILTIN {
            let parsed = drone_lang::parse(FileId(0), text);
            for item in &parsed.module.items {
                let Item::Policy(p) = item else { continue };
                let field =
                    |name: &str| p.attributes.iter().find(|a| a.name.name == name).and_then(|a| a.value.literal_text());
                out.push(Rule {
                    id: p.id.dotted(),
                    pack: pack.to_string(),
                    title: field("title").unwrap_or_default(),
                    severity: Severity::from_name(field("severity").as_deref()),
                    rationale: field("rationale"),
                    fix: field("fix"),
                    aliases: Vec::new(),
                    span: p.id.span,
                });
            }
        }
        out
    })
}

/// Rule ids to complete inside `@allow(`, when the cursor is there.
pub fn allow_completion(text: &str, offset: usize, rules: &[Rule]) -> Option<Value> {
    let line_start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..offset.min(text.len())];
    let inside = before.rsplit_once("@allow(").map(|(_, rest)| rest)?;
    if inside.contains(',') || inside.contains(')') {
        return None;
    }
    let items: Vec<Value> =
        rules.iter().map(|r| json!({ "label": r.id, "kind": 12, "detail": r.title, "documentation": r.fix })).collect();
    Some(json!({ "isIncomplete": false, "items": items }))
}

/// A rule's title, rationale and fix, when the cursor is on its id.
pub fn rule_hover(word: &str, rules: &[Rule]) -> Option<Value> {
    let rule = rules.iter().find(|r| r.id == word)?;
    let value = format!(
        "**{}**: {}\n\n{}\n\n*Fix:* {}",
        rule.id,
        rule.title,
        rule.rationale.as_deref().unwrap_or_default(),
        rule.fix.as_deref().unwrap_or_default()
    );
    Some(json!({ "contents": { "kind": "markdown", "value": value } }))
}

/// What the cursor names (a resource by its address, a let, a param or a component's input),
/// where it is declared, and the items of its scope (the file's, or a component's).
struct Referent<'m> {
    name: String,
    is_address: bool,
    declared: drone_lang::span::Span,
    scope: &'m [Item],
}

/// Why a rename at the cursor is refused.
const NOT_RENAMABLE: &str = "rename works on a resource, a let, a param or an input, or a use of one";

impl Referent<'_> {
    /// The name a rename changes: a resource's last segment, or the whole name.
    fn last(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }

    /// Where its scope uses it.
    fn uses(&self) -> Vec<drone_lang::span::Span> {
        let target = if self.is_address { refs::Target::Address(&self.name) } else { refs::Target::Name(&self.name) };
        refs::uses(self.scope, target)
    }
}

fn referent<'m>(module: &'m Module, text: &str, offset: usize) -> Option<Referent<'m>> {
    let component = component_around(module, offset);
    let scope = component.map_or(module.items.as_slice(), |c| c.items.as_slice());
    if let Some(r) = resource_in(scope, text, offset) {
        let name = format!("{}.{}", r.type_name.dotted(), r.name.name);
        return Some(Referent { name, is_address: true, declared: r.name.span, scope });
    }
    let word = word_at(text, offset);
    let first = word.split('.').next();
    let named = |name: &drone_lang::ast::Ident| {
        (first == Some(name.name.as_str())).then(|| Referent {
            name: name.name.clone(),
            is_address: false,
            declared: name.span,
            scope,
        })
    };
    let inputs = component.map_or(&[][..], |c| c.inputs.as_slice());
    inputs.iter().find_map(|i| named(&i.name)).or_else(|| {
        flatten(scope).into_iter().find_map(|item| match item {
            Item::Let(l) => named(&l.name),
            Item::Param(p) => named(&p.name),
            _ => None,
        })
    })
}

/// Renames what the cursor names: a resource (its declaration, every reference in the document,
/// and a `moved` block so state follows the new address instead of destroying and recreating
/// the resource), or a let or param (its declaration and every use).
pub fn rename(uri: &str, text: &str, offset: usize, new_name: &str) -> Result<Value, String> {
    let valid = new_name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && new_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!("`{new_name}` is not a name: letters, digits and `_`, not starting with a digit"));
    }
    let module = parse(text).ok_or("the file has a syntax error; fix it before renaming")?;
    let index = LineIndex::new(text);
    let found = referent(&module, text, offset).ok_or(NOT_RENAMABLE)?;
    let (old, declared) = (&found.name, found.declared);
    let edit = |start: usize, end: usize| json!({ "range": index.range(start, end), "newText": new_name });
    let mut edits = vec![edit(declared.start as usize, declared.end as usize)];
    // A resource's use ends with its name (`aws.s3.bucket.logs`): only that part changes.
    let last = found.last().len();
    for span in found.uses() {
        edits.push(edit(span.end as usize - last, span.end as usize));
    }
    // A component's resources are addressed through its instances: a `moved` block in the
    // component would move nothing.
    if found.is_address && component_around(&module, offset).is_none() {
        let new = format!("{}.{new_name}", old.rsplit_once('.').map_or("", |(t, _)| t));
        let tail = if text.ends_with('\n') { "" } else { "\n" };
        let moved = format!("{tail}\nmoved {{\n  from = \"{old}\"\n  to   = \"{new}\"\n}}\n");
        edits.push(json!({ "range": index.range(text.len(), text.len()), "newText": moved }));
    }
    Ok(json!({ "changes": { uri: edits } }))
}

/// Every place the resource, let or param under the cursor is used in the document, by
/// meaning: the declaration, then each expression that reads it (not attribute keys, comments
/// or strings that happen to spell it).
pub fn references(uri: &str, text: &str, module: &Module, offset: usize) -> Value {
    let index = LineIndex::new(text);
    let Some(found) = referent(module, text, offset) else { return json!([]) };
    let location = |span: drone_lang::span::Span| json!({ "uri": uri, "range": index.range(span.start as usize, span.end as usize) });
    let mut out = vec![location(found.declared)];
    out.extend(found.uses().into_iter().map(location));
    Value::Array(out)
}

/// The uses of what the cursor names, for the editor to highlight: the declaration as written
/// (kind 3), each use as read (kind 2).
pub fn highlights(text: &str, module: &Module, offset: usize) -> Value {
    let index = LineIndex::new(text);
    let Some(found) = referent(module, text, offset) else { return json!([]) };
    let highlight = |span: drone_lang::span::Span, kind: u32| json!({ "range": index.range(span.start as usize, span.end as usize), "kind": kind });
    let uses = found.uses().into_iter().map(|span| highlight(span, 2));
    Value::Array(std::iter::once(highlight(found.declared, 3)).chain(uses).collect())
}

/// What a rename at the cursor would change: the name there (a resource's last segment) and
/// its text; an error when nothing there can be renamed.
pub fn prepare_rename(text: &str, module: &Module, offset: usize) -> Result<Value, String> {
    let found = referent(module, text, offset).ok_or(NOT_RENAMABLE)?;
    let last = found.last();
    let within = |span: &drone_lang::span::Span| (span.start as usize..=span.end as usize).contains(&offset);
    let span = std::iter::once(found.declared).chain(found.uses()).find(within).unwrap_or(found.declared);
    let start = (span.end as usize).saturating_sub(last.len()).max(span.start as usize);
    Ok(json!({ "range": LineIndex::new(text).range(start, span.end as usize), "placeholder": last }))
}

/// A fold for each item spanning more than a line (phases', components', loops' and
/// conditions' items too), and for each run of two or more comment lines.
pub fn folding_ranges(text: &str, module: &Module) -> Value {
    fn line(text: &str, offset: usize) -> usize {
        text[..offset.min(text.len())].matches('\n').count()
    }
    fn folds(text: &str, items: &[Item], out: &mut Vec<Value>) {
        for item in items {
            let span = item.span();
            let (first, last) = (line(text, span.start as usize), line(text, span.end as usize));
            if last > first {
                out.push(json!({ "startLine": first, "endLine": last }));
            }
            match item {
                Item::Phase(p) => folds(text, &p.items, out),
                Item::Component(c) => folds(text, &c.items, out),
                Item::For(f) => folds(text, &f.items, out),
                Item::If(i) => {
                    folds(text, &i.then_items, out);
                    folds(text, &i.else_items, out);
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    folds(text, &module.items, &mut out);
    let mut run: Option<(usize, usize)> = None;
    for (n, l) in text.lines().enumerate().chain(std::iter::once((usize::MAX, ""))) {
        let comment = l.trim_start().starts_with("//") || l.trim_start().starts_with('#');
        run = match (run, comment) {
            (Some((first, _)), true) => Some((first, n)),
            (None, true) => Some((n, n)),
            (Some((first, last)), false) => {
                if last > first {
                    out.push(json!({ "startLine": first, "endLine": last, "kind": "comment" }));
                }
                None
            }
            (None, false) => None,
        };
    }
    Value::Array(out)
}

/// The signature of the built-in function whose call the cursor is inside (the innermost), with
/// the argument it is at; inside an `instance` block, its component's inputs; `null` elsewhere.
pub fn signature_help(text: &str, offset: usize, cx: &Context<'_>) -> Value {
    let before = &text[..offset.min(text.len())];
    // The brackets open at the cursor, each with the commas met inside it (strings and comments
    // stepped over); the innermost `(` is the call.
    let mut open: Vec<(char, usize, usize)> = Vec::new();
    let mut chars = before.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '#' => while chars.next_if(|(_, c)| *c != '\n').is_some() {},
            '/' if chars.peek().is_some_and(|(_, c)| *c == '/') => {
                while chars.next_if(|(_, c)| *c != '\n').is_some() {}
            }
            '(' | '[' | '{' => open.push((c, i, 0)),
            ')' | ']' | '}' => {
                open.pop();
            }
            ',' => {
                if let Some(top) = open.last_mut() {
                    top.2 += 1;
                }
            }
            _ => {}
        }
    }
    let Some(&(_, open, commas)) = open.iter().rev().find(|(c, ..)| *c == '(') else {
        return instance_signature(text, offset, cx).unwrap_or(Value::Null);
    };
    let name = word_at(text, open);
    let Some(f) = cx.catalog.function(name) else { return Value::Null };
    let label = format!("{}({}) -> {}", f.name, f.params.join(", "), f.returns);
    let parameters: Vec<Value> = f.params.iter().map(|p| json!({ "label": p })).collect();
    let active = commas.min(f.params.len().saturating_sub(1));
    json!({
        "signatures": [{ "label": label, "documentation": f.doc, "parameters": parameters }],
        "activeSignature": 0,
        "activeParameter": active,
    })
}

/// Inside an `instance` block (outside any call): its component's inputs as the signature, each
/// with its type and default, the one named on the cursor's line active, else the first required
/// input the block does not set yet.
fn instance_signature(text: &str, offset: usize, cx: &Context<'_>) -> Option<Value> {
    let module = parse(text)?;
    let inside = |span: drone_lang::Span| (span.start as usize) < offset && offset < span.end as usize;
    let instance = flatten(&module.items).into_iter().find_map(|item| match item {
        Item::Instance(i) if inside(i.span) => Some(i),
        _ => None,
    })?;
    let path: Vec<&str> = instance.component.iter().map(|c| c.name.as_str()).collect();
    let (_, source) = component_source(text, &module, &path, cx)?;
    let declared = parse(&source)?;
    let component = path.last()?;
    let c = declared.items.iter().find_map(|item| match item {
        Item::Component(c) if c.name.name == *component => Some(c),
        _ => None,
    })?;
    let written = |span: drone_lang::Span| source.get(span.start as usize..span.end as usize).unwrap_or_default();
    let inputs: Vec<String> = c
        .inputs
        .iter()
        .map(|i| match &i.default {
            Some(d) => format!("{}: {} = {}", i.name.name, written(i.ty.span), written(d.span)),
            None => format!("{}: {}", i.name.name, written(i.ty.span)),
        })
        .collect();
    let line = &text[text[..offset].rfind('\n').map_or(0, |at| at + 1)..];
    let key: String = line.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let set = |name: &str| instance.attributes.iter().any(|a| a.name.name == name);
    let active = c
        .inputs
        .iter()
        .position(|i| i.name.name == key)
        .or_else(|| c.inputs.iter().position(|i| i.default.is_none() && !set(&i.name.name)))
        .unwrap_or(0);
    let parameters: Vec<Value> = inputs.iter().map(|p| json!({ "label": p })).collect();
    Some(json!({
        "signatures": [{
            "label": format!("{} {{ {} }}", path.join("."), inputs.join(", ")),
            "documentation": format!("instance of component `{component}`: one argument per input; an input with a default may be left out"),
            "parameters": parameters,
        }],
        "activeSignature": 0,
        "activeParameter": active,
    }))
}

/// Inlay hints: after each top-level let whose value is worked out (not written as a literal),
/// the value a plan would show (`known after apply` where it is; secrets hidden), as the hover
/// shows it; after each loop's collection, the keys its resources get (`-> "a", "b", "c"`).
pub fn inlay_hints(text: &str, module: &Module, cx: &Context<'_>) -> Value {
    let index = LineIndex::new(text);
    let loops = flatten(&module.items).into_iter().filter_map(|item| {
        let Item::For(f) = item else { return None };
        // The keys of the first resource the loop declares are every resource's in it.
        let block = flatten(&f.items).into_iter().find_map(|i| match i {
            Item::Resource(r) => Some(format!("{}.{}", r.type_name.dotted(), r.name.name)),
            _ => None,
        })?;
        let keys = cx.loop_keys.get(&block)?;
        const SHOWN: usize = 6;
        let mut label = keys.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
        if keys.len() > SHOWN {
            label.push_str(&format!(", ... ({} in all)", keys.len()));
        }
        Some(json!({
            "position": index.position(f.collection.span.end as usize),
            "label": format!(" -> {label}"),
            "paddingLeft": true,
        }))
    });
    let lets = module.items.iter().filter_map(|item| match item {
        Item::Let(l) if !l.value.is_literal() => {
            let shown = cx.values.get(&l.name.name)?;
            // `value` (type): the value alone.
            let value = shown.strip_prefix('`')?.rsplit_once("` (").map_or(shown.as_str(), |(v, _)| v);
            Some(json!({
                "position": index.position(l.value.span.end as usize),
                "label": format!(" = {value}"),
                "paddingLeft": true,
            }))
        }
        _ => None,
    });
    Value::Array(lets.chain(loops).collect())
}

/// Symbols whose name contains `query`, across the open documents and the
/// `.drone` files beside them.
pub fn workspace_symbols(documents: &std::collections::BTreeMap<String, String>, query: &str) -> Value {
    let mut files: std::collections::BTreeMap<String, String> = documents.clone();
    for uri in documents.keys() {
        let path = super::path_of(uri);
        let Some(dir) = path.parent() else { continue };
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let file = entry.path();
            if file.extension().is_some_and(|x| x == "drone") {
                let uri = format!("file://{}", file.display());
                if let std::collections::btree_map::Entry::Vacant(slot) = files.entry(uri) {
                    if let Ok(text) = std::fs::read_to_string(&file) {
                        slot.insert(text);
                    }
                }
            }
        }
    }
    let query = query.to_lowercase();
    let mut out = Vec::new();
    for (uri, text) in &files {
        let Some(module) = parse(text) else { continue };
        let index = LineIndex::new(text);
        // A component's resources are found too, named by the component they are declared in.
        let components = flatten(&module.items).into_iter().filter_map(|item| match item {
            Item::Component(c) => Some((Some(c.name.name.as_str()), flatten(&c.items))),
            _ => None,
        });
        let scopes = std::iter::once((None, flatten(&module.items))).chain(components);
        for (item, component) in scopes.flat_map(|(c, items)| items.into_iter().map(move |i| (i, c))) {
            let (name, kind, span) = match item {
                Item::Resource(r) => (format!("{}.{}", r.type_name.dotted(), r.name.name), 23, r.name.span),
                Item::Component(c) => (format!("component {}", c.name.name), 5, c.name.span),
                Item::Script(s) => (format!("{} {}", s.kind.keyword(), s.name.name), 12, s.name.span),
                Item::Phase(p) => (format!("phase {}", p.name.name), 3, p.name.span),
                Item::Policy(p) => (format!("policy {}", p.id.dotted()), 19, p.id.span),
                _ => continue,
            };
            if name.to_lowercase().contains(&query) {
                let location = json!({ "uri": uri, "range": index.range(span.start as usize, span.end as usize) });
                let mut symbol = json!({ "name": name, "kind": kind, "location": location });
                if let Some(component) = component {
                    symbol["containerName"] = json!(format!("component {component}"));
                }
                out.push(symbol);
            }
        }
    }
    Value::Array(out)
}
