//! Golden tests of the parser (a tree dump with byte ranges) and the
//! formatter (canonical text, idempotent, comments kept). Inputs live in
//! `tests/golden/{parse,fmt}/*.drone`; `DRONE_BLESS=1` rewrites the outputs.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use drone_lang::ast::*;
use drone_lang::{parse, FileId};

fn cases(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("golden dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "drone"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no cases in {}", dir.display());
    out
}

fn golden(path: &Path, actual: &str) {
    if std::env::var_os("DRONE_BLESS").is_some() {
        std::fs::write(path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|_| panic!("missing {} (DRONE_BLESS=1 creates it)", path.display()));
    assert_eq!(actual, expected, "{} differs", path.display());
}

#[test]
fn parse_trees() {
    for case in cases("parse") {
        let text = std::fs::read_to_string(&case).expect("read");
        let parsed = parse(FileId(0), &text);
        let mut out = String::new();
        for e in &parsed.errors {
            let _ = writeln!(
                out,
                "error {}..{}: {e}",
                drone_lang::Located::span(e).start,
                drone_lang::Located::span(e).end
            );
        }
        for item in &parsed.module.items {
            dump_item(&mut out, item, 0);
        }
        golden(&case.with_extension("tree"), &out);
    }
}

#[test]
fn formatter_output_is_canonical_and_idempotent() {
    for case in cases("fmt") {
        let text = std::fs::read_to_string(&case).expect("read");
        let parsed = parse(FileId(0), &text);
        assert!(parsed.errors.is_empty(), "{}: {:?}", case.display(), parsed.errors);
        let once = drone_lang::fmt::format(&text, &parsed.module).expect("format");
        let again = drone_lang::fmt::format(&once, &parse(FileId(0), &once).module).expect("format again");
        assert_eq!(once, again, "{}: formatting is not idempotent", case.display());
        let comments = |s: &str| s.lines().filter(|l| l.contains("//") || l.trim_start().starts_with('#')).count();
        assert_eq!(comments(&text), comments(&once), "{}: a comment was lost", case.display());
        golden(&case.with_extension("formatted"), &once);
    }
}

#[test]
fn parser_never_panics_on_truncated_or_mutated_input() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows/prod.drone")).expect("prod");
    let mut boundaries: Vec<usize> = (0..=text.len()).filter(|i| text.is_char_boundary(*i)).collect();
    boundaries.dedup();
    for &end in &boundaries {
        let parsed = parse(FileId(0), &text[..end]);
        assert!(parsed.errors.len() <= 1);
    }
    // Deterministic mutations: replace one byte with a character that often breaks parsers.
    let specials = ['{', '}', '"', '$', '[', ']', '(', ')', '=', '\\', '@', '.', '/', '*', '#', '\n', '0', 'é'];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..1000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let at = boundaries[(seed % boundaries.len() as u64) as usize];
        let c = specials[((seed >> 32) % specials.len() as u64) as usize];
        let mut mutated = text.clone();
        let next = text[at..].chars().next().map_or(0, char::len_utf8);
        mutated.replace_range(at..at + next, &c.to_string());
        let parsed = parse(FileId(0), &mutated);
        if parsed.errors.is_empty() {
            let _ = drone_lang::fmt::format(&mutated, &parsed.module);
        }
    }
    let deep = "let x = ".to_string() + &"[".repeat(100_000);
    assert_eq!(parse(FileId(0), &deep).errors.len(), 1);
}

fn pad(out: &mut String, depth: usize) {
    out.push_str(&"  ".repeat(depth));
}

fn dump_input(out: &mut String, i: &Input, d: usize) {
    pad(out, d);
    let _ = writeln!(out, "input {}: {} {}..{}", i.name.name, type_text(&i.ty), i.span.start, i.span.end);
    if let Some(e) = &i.default {
        dump_expr(out, e, d + 1);
    }
}

fn dump_item(out: &mut String, item: &Item, d: usize) {
    pad(out, d);
    let s = item.span();
    let _ = write!(out, "{} {}..{}", item.keyword(), s.start, s.end);
    match item {
        Item::Workflow(w) => {
            out.push('\n');
            dump_expr(out, &w.name, d + 1);
            w.attributes.iter().for_each(|a| dump_attr(out, a, d + 1));
        }
        Item::Param(p) => {
            let _ = writeln!(
                out,
                " {}{}",
                p.name.name,
                p.ty.as_ref().map(|t| format!(": {}", type_text(t))).unwrap_or_default()
            );
            if let Some(e) = &p.default {
                dump_expr(out, e, d + 1);
            }
        }
        Item::Let(l) => {
            let _ = writeln!(out, " {}", l.name.name);
            dump_expr(out, &l.value, d + 1);
        }
        Item::Provider(p) => {
            let _ = writeln!(out, " {} {}", p.kind.name, p.name.name);
            p.attributes.iter().for_each(|a| dump_attr(out, a, d + 1));
        }
        Item::Resource(r) => {
            let _ = writeln!(out, " {} {}", r.type_name.dotted(), r.name.name);
            r.annotations.iter().for_each(|a| dump_annotation(out, a, d + 1));
            r.attributes.iter().for_each(|a| dump_attr(out, a, d + 1));
        }
        Item::Output(o) => {
            let _ = writeln!(out, " {}", o.name.name);
            dump_expr(out, &o.value, d + 1);
        }
        Item::Moved(m) => {
            out.push('\n');
            m.attributes.iter().for_each(|a| dump_attr(out, a, d + 1));
        }
        Item::Component(c) => {
            let _ = writeln!(out, " {}", c.name.name);
            c.inputs.iter().for_each(|i| dump_input(out, i, d + 1));
            c.items.iter().for_each(|i| dump_item(out, i, d + 1));
        }
        Item::Script(s) => {
            let event = s.event.as_ref().map(|e| {
                let on = match &e.on {
                    HookOn::Phase(p) => format!("phase {}", p.name),
                    HookOn::Destroy => "destroy".into(),
                    HookOn::Resource(op, _) => op.word().into(),
                };
                format!(" {:?} {on}", e.when)
            });
            let _ = writeln!(out, " {}{}", s.name.name, event.unwrap_or_default());
            if let Some(HookOn::Resource(_, target)) = s.event.as_ref().map(|e| &e.on) {
                dump_expr(out, target, d + 1);
            }
            s.inputs.iter().for_each(|i| dump_input(out, i, d + 1));
            s.attributes.iter().for_each(|a| dump_attr(out, a, d + 1));
            if let Some(inline) = &s.inline {
                pad(out, d + 1);
                let _ = writeln!(
                    out,
                    "script <<{} {}..{} text {:?}",
                    inline.tag, inline.text_span.start, inline.text_span.end, inline.text
                );
            }
        }
        Item::Instance(i) => {
            let component: Vec<&str> = i.component.iter().map(|c| c.name.as_str()).collect();
            let _ = writeln!(out, " {} {}", component.join("."), i.name.name);
            i.attributes.iter().for_each(|a| dump_attr(out, a, d + 1));
        }
        Item::Phase(p) => {
            let after: Vec<&str> = p.after.iter().map(|a| a.name.as_str()).collect();
            let _ = writeln!(out, " {} after [{}]", p.name.name, after.join(", "));
            p.items.iter().for_each(|i| dump_item(out, i, d + 1));
        }
        Item::Use(u) => {
            let _ = writeln!(out, " as {}", u.alias.name);
            dump_expr(out, &u.path, d + 1);
        }
        Item::For(f) => {
            let _ = writeln!(
                out,
                " {}{}",
                f.first.name,
                f.second.as_ref().map(|s| format!(", {}", s.name)).unwrap_or_default()
            );
            dump_expr(out, &f.collection, d + 1);
            f.items.iter().for_each(|i| dump_item(out, i, d + 1));
        }
        Item::Policy(p) => {
            let _ = writeln!(out, " {}", p.id.dotted());
            p.annotations.iter().for_each(|a| dump_annotation(out, a, d + 1));
            p.attributes.iter().for_each(|a| dump_attr(out, a, d + 1));
            p.items.iter().for_each(|i| dump_item(out, i, d + 1));
        }
        Item::Flag(f) => {
            out.push('\n');
            dump_expr(out, &f.target, d + 1);
            dump_expr(out, &f.message, d + 1);
        }
        Item::If(i) => {
            out.push('\n');
            dump_expr(out, &i.condition, d + 1);
            i.then_items.iter().for_each(|x| dump_item(out, x, d + 1));
            if !i.else_items.is_empty() {
                pad(out, d);
                out.push_str("else\n");
                i.else_items.iter().for_each(|x| dump_item(out, x, d + 1));
            }
        }
    }
}

fn type_text(t: &TypeExpr) -> String {
    match &t.arg {
        Some(a) => format!("{}({})", t.name.name, type_text(a)),
        None => t.name.name.clone(),
    }
}

fn dump_annotation(out: &mut String, a: &Annotation, d: usize) {
    pad(out, d);
    let _ = writeln!(out, "@{} {}..{}", a.name.name, a.span.start, a.span.end);
    a.args.iter().for_each(|x| dump_arg(out, x, d + 1));
}

fn dump_arg(out: &mut String, a: &Arg, d: usize) {
    if let Some(n) = &a.name {
        pad(out, d);
        let _ = writeln!(out, "{} =", n.name);
        dump_expr(out, &a.value, d + 1);
    } else {
        dump_expr(out, &a.value, d);
    }
}

fn dump_attr(out: &mut String, a: &Attribute, d: usize) {
    pad(out, d);
    let _ = writeln!(out, "attribute {} {}..{}", a.name.name, a.span.start, a.span.end);
    a.annotations.iter().for_each(|x| dump_annotation(out, x, d + 1));
    dump_expr(out, &a.value, d + 1);
}

fn dump_expr(out: &mut String, e: &Expr, d: usize) {
    pad(out, d);
    let at = format!("{}..{}", e.span.start, e.span.end);
    match &e.kind {
        ExprKind::Null => {
            let _ = writeln!(out, "null {at}");
        }
        ExprKind::Bool(b) => {
            let _ = writeln!(out, "bool {b} {at}");
        }
        ExprKind::Number(n) => {
            let _ = writeln!(out, "number {n} {at}");
        }
        ExprKind::String(parts) => {
            let _ = writeln!(out, "string {at}");
            for p in parts {
                match p {
                    StrPart::Text(t) => {
                        pad(out, d + 1);
                        let _ = writeln!(out, "text {t:?}");
                    }
                    StrPart::Interp(x) => dump_expr(out, x, d + 1),
                }
            }
        }
        ExprKind::List(items) => {
            let _ = writeln!(out, "list {at}");
            items.iter().for_each(|x| dump_expr(out, x, d + 1));
        }
        ExprKind::Map(entries) => {
            let _ = writeln!(out, "map {at}");
            for en in entries {
                pad(out, d + 1);
                let _ = writeln!(out, "key {:?}{}", en.key.name, if en.key.quoted { " (quoted)" } else { "" });
                dump_expr(out, &en.value, d + 2);
            }
        }
        ExprKind::Var(id) => {
            let _ = writeln!(out, "var {} {at}", id.name);
        }
        ExprKind::Member(base, name) => {
            let _ = writeln!(out, "member .{} {at}", name.name);
            dump_expr(out, base, d + 1);
        }
        ExprKind::Index(base, index) => {
            let _ = writeln!(out, "index {at}");
            dump_expr(out, base, d + 1);
            dump_expr(out, index, d + 1);
        }
        ExprKind::Splat(base) => {
            let _ = writeln!(out, "splat {at}");
            dump_expr(out, base, d + 1);
        }
        ExprKind::Call(callee, args) => {
            let _ = writeln!(out, "call {at}");
            dump_expr(out, callee, d + 1);
            args.iter().for_each(|a| dump_arg(out, a, d + 1));
        }
        ExprKind::Unary(op, x) => {
            let _ = writeln!(out, "unary {op:?} {at}");
            dump_expr(out, x, d + 1);
        }
        ExprKind::Binary(op, a, b) => {
            let _ = writeln!(out, "binary {} {at}", op.symbol());
            dump_expr(out, a, d + 1);
            dump_expr(out, b, d + 1);
        }
        ExprKind::Conditional(c, a, b) => {
            let _ = writeln!(out, "conditional {at}");
            dump_expr(out, c, d + 1);
            dump_expr(out, a, d + 1);
            dump_expr(out, b, d + 1);
        }
        ExprKind::Paren(x) => {
            let _ = writeln!(out, "paren {at}");
            dump_expr(out, x, d + 1);
        }
    }
}
