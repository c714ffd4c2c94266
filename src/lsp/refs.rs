//! Where a name is used, by meaning rather than by text: the expressions
//! that read a let, param or input (a bare name), or a resource (its dotted
//! address). Attribute and map keys, comments, strings and the members of
//! other values (`x.name`) are not uses; a `for` variable of the same name
//! hides the outer one within its body, and a component is a scope of its own. A script
//! names resources by their address in a string (`"aws.s3.bucket.logs"`):
//! that string in an inline script is a use of the resource.

use drone_lang::ast::{Annotation, Arg, Attribute, Expr, ExprKind, HookOn, Item, StrPart};
use drone_lang::span::Span;

/// What is looked for.
#[derive(Clone, Copy)]
pub(super) enum Target<'a> {
    /// A let, param, input or loop variable: read by its bare name.
    Name(&'a str),
    /// A resource, read by its address `aws.s3.bucket.logs`.
    Address(&'a str),
}

/// The span of every use of `target` in `items`, in order.
pub(super) fn uses(items: &[Item], target: Target<'_>) -> Vec<Span> {
    let mut walk = Walk { target, out: Vec::new() };
    walk.items(items);
    walk.out.sort_by_key(|s| s.start);
    walk.out
}

struct Walk<'a> {
    target: Target<'a>,
    out: Vec<Span>,
}

impl Walk<'_> {
    fn items(&mut self, items: &[Item]) {
        for item in items {
            self.item(item);
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Workflow(w) => {
                self.expr(&w.name);
                self.attributes(&w.attributes);
            }
            Item::Param(p) => self.optional(p.default.as_ref()),
            Item::Let(l) => self.expr(&l.value),
            Item::Provider(p) => self.attributes(&p.attributes),
            Item::Resource(r) => {
                self.annotations(&r.annotations);
                self.attributes(&r.attributes);
            }
            Item::Output(o) => self.expr(&o.value),
            Item::Phase(p) => self.items(&p.items),
            Item::Use(_) | Item::Moved(_) => {}
            Item::For(f) => {
                self.expr(&f.collection);
                let bound = std::iter::once(&f.first).chain(&f.second).any(|b| self.is_name(&b.name));
                if !bound {
                    self.items(&f.items);
                }
            }
            Item::If(i) => {
                self.expr(&i.condition);
                self.items(&i.then_items);
                self.items(&i.else_items);
            }
            Item::Policy(p) => {
                self.annotations(&p.annotations);
                self.attributes(&p.attributes);
                self.items(&p.items);
            }
            Item::Flag(f) => {
                self.expr(&f.target);
                self.expr(&f.message);
            }
            // A component sees only its inputs, lets and resources: a scope of its own, searched
            // from inside it.
            Item::Component(_) => {}
            Item::Instance(i) => self.attributes(&i.attributes),
            Item::Script(s) => {
                self.annotations(&s.annotations);
                for input in &s.inputs {
                    self.optional(input.default.as_ref());
                }
                if let Some(HookOn::Resource(_, target)) = s.event.as_ref().map(|e| &e.on) {
                    self.expr(target);
                }
                self.attributes(&s.attributes);
                if let (Target::Address(address), Some(inline)) = (self.target, &s.inline) {
                    self.quoted(address, &inline.text, inline.text_span);
                }
            }
        }
    }

    /// Each `"address"` in a script's text, which starts where `from` does.
    fn quoted(&mut self, address: &str, text: &str, from: Span) {
        let needle = format!("\"{address}\"");
        for (at, _) in text.match_indices(&needle) {
            let start = from.start + at as u32 + 1;
            self.out.push(Span { file: from.file, start, end: start + address.len() as u32 });
        }
    }

    fn is_name(&self, name: &str) -> bool {
        matches!(self.target, Target::Name(n) if n == name)
    }

    fn attributes(&mut self, attributes: &[Attribute]) {
        for a in attributes {
            self.annotations(&a.annotations);
            self.expr(&a.value);
        }
    }

    fn annotations(&mut self, annotations: &[Annotation]) {
        for a in annotations {
            self.args(&a.args);
        }
    }

    fn args(&mut self, args: &[Arg]) {
        for a in args {
            self.expr(&a.value);
        }
    }

    fn optional(&mut self, e: Option<&Expr>) {
        if let Some(e) = e {
            self.expr(e);
        }
    }

    fn expr(&mut self, e: &Expr) {
        if let Target::Address(address) = self.target {
            if dotted(e).is_some_and(|d| d == address) {
                self.out.push(e.span);
                return;
            }
        }
        match &e.kind {
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => {}
            ExprKind::Var(name) => {
                if self.is_name(&name.name) {
                    self.out.push(name.span);
                }
            }
            ExprKind::String(parts) => {
                for part in parts {
                    if let StrPart::Interp(inner) = part {
                        self.expr(inner);
                    }
                }
            }
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i)),
            ExprKind::Map(entries) => entries.iter().for_each(|entry| self.expr(&entry.value)),
            ExprKind::Member(base, _) => self.expr(base),
            ExprKind::Index(base, index) => {
                self.expr(base);
                self.expr(index);
            }
            ExprKind::Splat(inner) | ExprKind::Unary(_, inner) | ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Call(callee, args) => {
                self.expr(callee);
                self.args(args);
            }
            ExprKind::Binary(_, l, r) => {
                self.expr(l);
                self.expr(r);
            }
            ExprKind::Conditional(c, a, b) => {
                self.expr(c);
                self.expr(a);
                self.expr(b);
            }
        }
    }
}

/// `a.b.c` as written (a name and its members); `None` for any other expression.
fn dotted(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Var(name) => Some(name.name.clone()),
        ExprKind::Member(base, member) => dotted(base).map(|d| format!("{d}.{}", member.name)),
        _ => None,
    }
}
