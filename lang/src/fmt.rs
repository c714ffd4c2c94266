//! The canonical formatter. Input: a source text and its syntax tree. Output:
//! the canonical text, or an error when a comment sits where the formatter
//! cannot keep it (it never drops one). Formatting is idempotent: lists and
//! maps written over several lines stay multi-line, others stay on one line.

use crate::ast::*;
use crate::span::Span;

/// Width past which a one-line list or map is broken over several lines.
const MAX_WIDTH: usize = 100;

/// Why a file cannot be formatted.
#[derive(Clone, Debug, thiserror::Error, miette::Diagnostic, PartialEq)]
pub enum FormatError {
    /// A comment inside an expression, where it has no line of its own.
    #[error("cannot format: a comment inside an expression would be lost")]
    #[diagnostic(code("drone::fmt::comment_position"), help("move the comment to its own line before the attribute"))]
    CommentPosition {
        /// The comment.
        #[label("this comment")]
        span: Span,
    },
}

impl crate::diagnostic::Located for FormatError {
    fn span(&self) -> Span {
        match self {
            FormatError::CommentPosition { span } => *span,
        }
    }
}

/// Formats a parsed file. `source` must be the text `module` was parsed from.
pub fn format(source: &str, module: &Module) -> Result<String, FormatError> {
    let mut p = Printer {
        out: String::new(),
        indent: 0,
        comments: comments(source),
        next: 0,
        source,
        file: module.span.file,
        param_keyword: "param",
        misplaced: None,
    };
    p.items(&module.items, module.span.end as usize);
    if let Some(span) = p.misplaced {
        return Err(FormatError::CommentPosition { span });
    }
    if let Some(c) = p.comments.get(p.next) {
        return Err(FormatError::CommentPosition { span: Span::new(p.file, c.start, c.end) });
    }
    let mut out = p.out.trim_end().to_string();
    out.push('\n');
    if out.trim().is_empty() {
        out.clear();
    }
    Ok(out)
}

/// An expression on one line, for messages.
pub fn expr_to_string(expr: &Expr) -> String {
    let mut p = Printer::detached(expr.span.file);
    p.expr(expr, false);
    p.out
}

struct Comment {
    start: usize,
    end: usize,
}

fn comments(source: &str) -> Vec<Comment> {
    crate::trivia::comments(source).into_iter().map(|(start, end)| Comment { start, end }).collect()
}

struct Printer<'s> {
    out: String,
    indent: usize,
    comments: Vec<Comment>,
    next: usize,
    source: &'s str,
    file: crate::span::FileId,
    /// `param`, or `input` while printing a component's inputs.
    param_keyword: &'static str,
    /// The first comment that could only be printed away from the tokens it sat
    /// between: the file is refused rather than the comment moved.
    misplaced: Option<Span>,
}

impl Printer<'_> {
    /// A printer for one expression outside any file's text (no comments to keep).
    fn detached(file: crate::span::FileId) -> Printer<'static> {
        Printer {
            out: String::new(),
            indent: 0,
            comments: Vec::new(),
            next: 0,
            source: "",
            file,
            param_keyword: "param",
            misplaced: None,
        }
    }

    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn newline(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        self.out.push('\n');
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
    }

    fn text(&self, start: usize, end: usize) -> &str {
        self.source.get(start..end).unwrap_or("")
    }

    /// Whether the source has a blank line between `from` and `to`.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        let gap = self.text(from, to);
        gap.split('\n').skip(1).take(gap.matches('\n').count().saturating_sub(1)).any(|l| l.trim().is_empty())
    }

    /// Where the next token at or after `pos` starts, past whitespace and comments.
    fn next_token(&self, mut pos: usize) -> usize {
        let bytes = self.source.as_bytes();
        loop {
            while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
                pos += 1;
            }
            match self.comments.binary_search_by_key(&pos, |c| c.start) {
                Ok(i) => pos = self.comments[i].end,
                Err(_) => return pos.min(bytes.len()),
            }
        }
    }

    /// Notes that the comment at `start..end` is about to be printed before the
    /// token at `pos`: when a token of the source lies between them, printing it
    /// there would move it, and the file is refused instead.
    fn check_adjacent(&mut self, start: usize, end: usize, pos: usize) {
        if self.next_token(end) < pos && self.misplaced.is_none() {
            self.misplaced = Some(Span::new(self.file, start, end));
        }
    }

    /// Emits comments that start before `pos`, each on its own line.
    fn leading_comments(&mut self, pos: usize) {
        while let Some(c) = self.comments.get(self.next) {
            if c.start >= pos {
                break;
            }
            let (start, end) = (c.start, c.end);
            self.check_adjacent(start, end, pos);
            let text = self.text(start, end).trim_end().to_string();
            self.push(&text);
            self.newline();
            if self.blank_between(end, pos) && self.comments.get(self.next + 1).is_none_or(|n| n.start >= pos) {
                self.newline();
            }
            self.next += 1;
        }
    }

    /// Emits, inside an expression, the comments written just before the token at
    /// `pos`: a block comment inline, a line comment with the line broken after it.
    fn comments_before(&mut self, pos: usize) {
        while let Some(c) = self.comments.get(self.next) {
            if c.start >= pos {
                break;
            }
            let (start, end) = (c.start, c.end);
            self.check_adjacent(start, end, pos);
            self.inline_comment(start, end);
            self.push(" ");
            self.next += 1;
        }
    }

    /// Emits, inside an expression, the comments written just after the token
    /// ending at `end`, before the next token.
    fn comments_after(&mut self, end: usize) {
        let next = self.next_token(end);
        while let Some(c) = self.comments.get(self.next) {
            if c.start < end || c.start >= next {
                break;
            }
            let (start, stop) = (c.start, c.end);
            if !self.out.ends_with([' ', '\n', '(', '[']) {
                self.push(" ");
            }
            self.inline_comment(start, stop);
            self.next += 1;
        }
    }

    /// A comment inside an expression: a line comment ends its line.
    fn inline_comment(&mut self, start: usize, end: usize) {
        let text = self.text(start, end).trim_end().to_string();
        let line = !text.starts_with("/*");
        if line && !self.out.ends_with([' ', '\n']) {
            self.push(" ");
        }
        self.push(&text);
        if line {
            self.newline();
            self.push("  ");
        }
    }

    /// Whether a comment lies inside `span`.
    fn holds_comment(&self, span: Span) -> bool {
        self.comments[self.next..].iter().any(|c| c.start >= span.start as usize && c.start < span.end as usize)
    }

    /// Emits a comment that starts on the same line after `end`.
    /// (A comma before it, the element's own, stays where the printer puts it.)
    fn trailing_comment(&mut self, end: usize) {
        let mut from = end;
        while let Some(c) = self.comments.get(self.next) {
            let between = self.text(from, c.start);
            if c.start < from || between.contains('\n') || !between.chars().all(|ch| ch == ',' || ch.is_whitespace()) {
                return;
            }
            let (start, stop) = (c.start, c.end);
            from = stop;
            let text = self.text(start, stop).trim_end().to_string();
            self.push(" ");
            self.push(&text);
            self.next += 1;
            if !text.starts_with("/*") {
                return;
            }
        }
    }

    /// A sequence of items in a block ending at byte `end`.
    fn items(&mut self, items: &[Item], end: usize) {
        let mut prev_end: Option<usize> = None;
        let mut prev_block = false;
        for item in items {
            let span = item.span();
            let start = span.start as usize;
            if let Some(prev) = prev_end {
                let first = self.comments.get(self.next).map_or(start, |c| c.start.min(start));
                // Blocks are always separated by a blank line; one-liners keep the user's grouping.
                if is_block(item) || prev_block || self.blank_between(prev, first) {
                    self.newline();
                }
            }
            self.leading_comments(start);
            self.item(item);
            self.trailing_comment(span.end as usize);
            self.newline();
            prev_end = Some(span.end as usize);
            prev_block = is_block(item);
        }
        self.leading_comments(end);
    }

    fn block_open(&mut self) {
        if !self.out.ends_with(' ') {
            self.push(" ");
        }
        self.push("{");
        self.indent += 1;
    }

    /// The `{` that opens the block of the item starting at `start` (past
    /// strings and comments of its header).
    fn brace_of(&self, start: usize) -> usize {
        let bytes = self.source.as_bytes();
        let mut i = self.next_token(start);
        while i < bytes.len() && bytes[i] != b'{' {
            if bytes[i] == b'"' {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            i = self.next_token(i + 1);
        }
        i
    }

    /// Comments between an item's header and its `{`, printed before it.
    fn header_comments(&mut self, span: Span) {
        let brace = self.brace_of(span.start as usize);
        self.comments_before(brace);
    }

    fn block_close(&mut self, end: usize) {
        // Comments left before the closing brace stay inside the block.
        if self.comments.get(self.next).is_some_and(|c| c.start < end) {
            self.newline();
            self.leading_comments(end.saturating_sub(1));
        }
        self.indent -= 1;
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        if self.out.ends_with('\n') {
            self.out.pop();
        }
        self.newline();
        self.push("}");
    }

    fn block_items(&mut self, items: &[Item], span: Span) {
        self.header_comments(span);
        self.block_open();
        if items.is_empty() && self.comments.get(self.next).is_none_or(|c| c.start >= span.end as usize) {
            self.indent -= 1;
            self.push("}");
            return;
        }
        self.newline();
        self.items(items, span.end as usize);
        self.block_close(span.end as usize);
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Workflow(w) => {
                self.push("workflow ");
                self.expr(&w.name, false);
                self.attributes(&w.attributes, w.span);
            }
            Item::Param(p) => {
                self.push(self.param_keyword);
                self.push(" ");
                self.comments_before(p.name.span.start as usize);
                self.push(&p.name.name);
                // Only between tokens of the item: a comment after its last one trails it.
                if p.ty.is_some() || p.default.is_some() {
                    self.comments_after(p.name.span.end as usize);
                }
                if let Some(t) = &p.ty {
                    self.push(": ");
                    self.comments_before(t.span.start as usize);
                    self.type_expr(t);
                    if p.default.is_some() {
                        self.comments_after(t.span.end as usize);
                    }
                }
                if let Some(d) = &p.default {
                    self.push(" = ");
                    self.expr(d, true);
                }
            }
            Item::Let(l) => {
                self.push("let ");
                self.comments_before(l.name.span.start as usize);
                self.push(&l.name.name);
                self.comments_after(l.name.span.end as usize);
                self.push(" = ");
                self.expr(&l.value, true);
            }
            Item::Provider(p) => {
                self.push(&format!("provider {} {}", p.kind.name, p.name.name));
                self.attributes(&p.attributes, p.span);
            }
            Item::Resource(r) => {
                for a in &r.annotations {
                    self.annotation(a);
                    self.trailing_comment(a.span.end as usize);
                    self.newline();
                }
                let keyword = if r.read_only { "data" } else { "resource" };
                self.push(keyword);
                self.push(" ");
                self.type_path(&r.type_name);
                self.push(" ");
                self.comments_before(r.name.span.start as usize);
                self.push(&r.name.name);
                self.comments_after(r.name.span.end as usize);
                self.attributes(&r.attributes, r.span);
            }
            Item::Moved(m) => {
                self.push("moved");
                self.attributes(&m.attributes, m.span);
            }
            Item::Component(c) => {
                self.push(&format!("component {}", c.name.name));
                // Inputs print as `param`s do, in source order among the body's items.
                let mut body: Vec<Item> = c
                    .inputs
                    .iter()
                    .map(|i| {
                        Item::Param(Param {
                            name: i.name.clone(),
                            ty: Some(i.ty.clone()),
                            default: i.default.clone(),
                            span: i.span,
                        })
                    })
                    .collect();
                body.extend(c.items.iter().cloned());
                body.sort_by_key(|i| i.span().start);
                // A `param` cannot occur in a component: every Param here is an input.
                let keyword = std::mem::replace(&mut self.param_keyword, "input");
                self.block_items(&body, c.span);
                self.param_keyword = keyword;
            }
            Item::Script(sc) => self.script(sc),
            Item::Instance(i) => {
                let component: Vec<&str> = i.component.iter().map(|c| c.name.as_str()).collect();
                self.push(&format!("instance {} ", component.join(".")));
                self.comments_before(i.name.span.start as usize);
                self.push(&i.name.name);
                self.attributes(&i.attributes, i.span);
            }
            Item::Output(o) => {
                self.push("output ");
                self.comments_before(o.name.span.start as usize);
                self.push(&o.name.name);
                self.comments_after(o.name.span.end as usize);
                self.push(" = ");
                self.expr(&o.value, true);
            }
            Item::Phase(p) => {
                self.push("phase ");
                self.comments_before(p.name.span.start as usize);
                self.push(&p.name.name);
                if !p.after.is_empty() {
                    let after: Vec<&str> = p.after.iter().map(|a| a.name.as_str()).collect();
                    self.push(&format!(" after {}", after.join(", ")));
                }
                self.block_items(&p.items, p.span);
            }
            Item::Use(u) => {
                self.push("use ");
                self.expr(&u.path, false);
                self.push(&format!(" as {}", u.alias.name));
            }
            Item::For(f) => {
                self.push("for ");
                self.push(&f.first.name);
                if let Some(s) = &f.second {
                    self.push(", ");
                    self.push(&s.name);
                }
                self.push(" in ");
                self.expr(&f.collection, false);
                self.block_items(&f.items, f.span);
            }
            Item::Policy(p) => {
                for a in &p.annotations {
                    self.annotation(a);
                    self.newline();
                }
                self.push(&format!("policy {}", p.id.dotted()));
                self.policy_body(p);
            }
            Item::Flag(f) => {
                self.push("flag ");
                self.expr(&f.target, false);
                self.push(", ");
                self.expr(&f.message, false);
            }
            Item::If(i) => {
                self.push("if ");
                self.expr(&i.condition, false);
                let then_end = i.then_items.last().map_or(i.condition.span.end, |x| x.span().end);
                let then_span = Span { end: then_end + 1, ..i.span };
                if i.else_items.is_empty() {
                    self.block_items(&i.then_items, i.span);
                } else {
                    self.block_items(&i.then_items, then_span);
                    match i.else_items.as_slice() {
                        // `else { if ... }` and `else if ...` mean the same; the latter reads better.
                        [nested @ Item::If(_)] => {
                            self.push(" else ");
                            self.item(nested);
                        }
                        _ => {
                            self.push(" else");
                            self.block_items(&i.else_items, i.span);
                        }
                    }
                }
            }
        }
    }

    /// A policy: its metadata aligned as attributes, a blank line, then its checks.
    /// A task, step or hook: its members in source order, attributes aligned,
    /// an inline script verbatim (its text is the script's, not ours).
    fn script(&mut self, sc: &Script) {
        for a in &sc.annotations {
            self.annotation(a);
            self.trailing_comment(a.span.end as usize);
            self.newline();
        }
        self.push(sc.kind.keyword());
        self.push(" ");
        self.comments_before(sc.name.span.start as usize);
        self.push(&sc.name.name);
        if let Some(event) = &sc.event {
            self.push(match event.when {
                HookWhen::Before => " before ",
                HookWhen::After => " after ",
            });
            match &event.on {
                HookOn::Phase(name) => self.push(&format!("phase {}", name.name)),
                HookOn::Destroy => self.push("destroy"),
                HookOn::Resource(op, target) => {
                    self.push(op.word());
                    self.push(" ");
                    self.expr(target, false);
                }
            }
        }
        enum Member<'s> {
            Input(&'s Input),
            Attr(&'s Attribute),
            Inline(&'s InlineScript),
        }
        let mut members: Vec<(Span, Member)> = sc.inputs.iter().map(|i| (i.span, Member::Input(i))).collect();
        members.extend(sc.attributes.iter().map(|a| (a.span, Member::Attr(a))));
        members.extend(sc.inline.iter().map(|i| (i.span, Member::Inline(i))));
        members.sort_by_key(|(span, _)| span.start);
        let width = sc.attributes.iter().map(|a| a.name.name.len()).max().unwrap_or(0);
        self.block_open();
        self.newline();
        let mut prev_end: Option<usize> = None;
        for (span, member) in &members {
            let start = span.start as usize;
            if let Some(prev) = prev_end {
                let first = self.comments.get(self.next).map_or(start, |c| c.start.min(start));
                if self.blank_between(prev, first) {
                    self.newline();
                }
            }
            self.leading_comments(start);
            match member {
                Member::Input(i) => {
                    self.push(&format!("input {}: ", i.name.name));
                    self.type_expr(&i.ty);
                    if let Some(d) = &i.default {
                        self.push(" = ");
                        self.expr(d, true);
                    }
                }
                Member::Attr(a) => {
                    self.push(&a.name.name);
                    self.comments_after(a.name.span.end as usize);
                    self.push(&" ".repeat(width.saturating_sub(a.name.name.len())));
                    self.push(" = ");
                    self.expr(&a.value, true);
                }
                Member::Inline(i) => {
                    // The text goes out as written; the closing tag keeps its line.
                    self.push(&format!("script = <<{}", i.tag));
                    self.out.push('\n');
                    self.out.push_str(&i.text);
                    for _ in 0..self.indent {
                        self.out.push_str("  ");
                    }
                    self.push(&i.tag);
                }
            }
            if !matches!(member, Member::Inline(_)) {
                self.trailing_comment(span.end as usize);
            }
            self.newline();
            prev_end = Some(span.end as usize);
        }
        self.block_close(sc.span.end as usize);
    }

    fn policy_body(&mut self, p: &Policy) {
        let end = p.items.first().map_or(p.span.end, |i| i.span().start);
        self.attributes(&p.attributes, Span { end, ..p.span });
        if p.items.is_empty() {
            return;
        }
        // Reopen the block the attributes closed, and print the checks in it.
        self.out.pop();
        while self.out.ends_with(' ') || self.out.ends_with('\n') {
            self.out.pop();
        }
        self.indent += 1;
        self.newline();
        if !p.attributes.is_empty() {
            self.newline();
        }
        self.items(&p.items, p.span.end as usize);
        self.block_close(p.span.end as usize);
    }

    /// A dotted type name, each comment kept between the segments it sat between.
    fn type_path(&mut self, path: &crate::ast::TypePath) {
        for (i, segment) in path.segments.iter().enumerate() {
            if i > 0 {
                self.comments_after(path.segments[i - 1].span.end as usize);
                self.push(".");
            }
            self.comments_before(segment.span.start as usize);
            self.push(&segment.name);
        }
    }

    fn type_expr(&mut self, t: &TypeExpr) {
        self.push(&t.name.name);
        if let Some(a) = &t.arg {
            self.push("(");
            self.type_expr(a);
            self.push(")");
        }
    }

    fn annotation(&mut self, a: &Annotation) {
        self.push("@");
        self.push(&a.name.name);
        if !a.args.is_empty() {
            self.push("(");
            self.args(&a.args);
            self.push(")");
        }
    }

    /// A call's arguments; the last may lay out over lines, as a grant's map of tables does.
    fn args(&mut self, args: &[Arg]) {
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                self.comments_after(args[i - 1].value.span.end as usize);
                self.push(", ");
            }
            if let Some(n) = &arg.name {
                self.comments_before(n.span.start as usize);
                self.push(&n.name);
                self.comments_after(n.span.end as usize);
                self.push(" = ");
            }
            self.expr(&arg.value, i + 1 == args.len());
        }
    }

    /// Attributes of a block, with `=` aligned across runs not broken by blank lines.
    fn attributes(&mut self, attrs: &[Attribute], span: Span) {
        self.header_comments(span);
        self.block_open();
        if attrs.is_empty() && self.comments.get(self.next).is_none_or(|c| c.start >= span.end as usize) {
            self.indent -= 1;
            self.push("}");
            return;
        }
        self.newline();
        let mut run_start = 0;
        let mut prev_end: Option<usize> = None;
        for (i, attr) in attrs.iter().enumerate() {
            let start = attr.span.start as usize;
            if let Some(prev) = prev_end {
                let first = self.comments.get(self.next).map_or(start, |c| c.start.min(start));
                if self.blank_between(prev, first) {
                    self.newline();
                    run_start = i;
                }
            }
            if i == run_start || prev_end.is_some_and(|p| self.blank_between(p, start)) {
                run_start = i;
            }
            let width = attrs[run_start..]
                .iter()
                .scan(prev_end, |prev, a| {
                    let broken = prev.is_some_and(|p| self.blank_between(p, a.span.start as usize))
                        && a.span != attr.span
                        && a.span.start > attr.span.start;
                    *prev = Some(a.span.end as usize);
                    (!broken).then_some(a)
                })
                .filter(|a| a.annotations.is_empty() || a.span == attr.span)
                .map(|a| a.name.name.len())
                .max()
                .unwrap_or(attr.name.name.len());
            self.leading_comments(start);
            for a in &attr.annotations {
                self.annotation(a);
                self.trailing_comment(a.span.end as usize);
                self.newline();
            }
            self.push(&attr.name.name);
            self.comments_after(attr.name.span.end as usize);
            self.push(&" ".repeat(width.saturating_sub(attr.name.name.len())));
            self.push(" = ");
            self.expr(&attr.value, true);
            self.trailing_comment(attr.span.end as usize);
            self.newline();
            prev_end = Some(attr.span.end as usize);
        }
        self.block_close(span.end as usize);
    }

    fn multiline(&self, span: Span) -> bool {
        self.text(span.start as usize, span.end as usize).contains('\n')
    }

    /// Prints an expression; `layout` allows multi-line lists and maps.
    fn expr(&mut self, expr: &Expr, layout: bool) {
        self.comments_before(expr.span.start as usize);
        // A comment inside a list or map keeps its line only in the laid-out form.
        let layout = layout || self.holds_comment(expr.span);
        match &expr.kind {
            ExprKind::Null => self.push("null"),
            ExprKind::Bool(b) => self.push(if *b { "true" } else { "false" }),
            ExprKind::Number(n) => self.push(&format_number(*n)),
            ExprKind::String(parts) => self.string(parts),
            ExprKind::List(items) => {
                if items.is_empty() {
                    self.push("[]");
                } else if layout && (self.multiline(expr.span) || self.one_line(expr).len() > MAX_WIDTH) {
                    self.push("[");
                    self.indent += 1;
                    for item in items {
                        self.newline();
                        self.leading_comments(item.span.start as usize);
                        self.expr(item, true);
                        self.push(",");
                        self.trailing_comment(item.span.end as usize);
                    }
                    self.close_collection(expr.span, "]");
                } else {
                    self.push("[");
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            self.comments_after(items[i - 1].span.end as usize);
                            self.push(", ");
                        }
                        self.expr(item, false);
                    }
                    if let Some(last) = items.last() {
                        self.comments_after(last.span.end as usize);
                    }
                    self.push("]");
                }
            }
            ExprKind::Map(entries) => {
                if entries.is_empty() {
                    self.push("{}");
                } else if layout && (self.multiline(expr.span) || self.one_line(expr).len() > MAX_WIDTH) {
                    self.push("{");
                    self.indent += 1;
                    let width = entries.iter().map(|e| key_text(&e.key).len()).max().unwrap_or(0);
                    for entry in entries {
                        self.newline();
                        self.leading_comments(entry.key.span.start as usize);
                        let key = key_text(&entry.key);
                        self.push(&key);
                        self.comments_after(entry.key.span.end as usize);
                        self.push(&" ".repeat(width - key.len()));
                        self.push(" = ");
                        self.expr(&entry.value, true);
                        self.trailing_comment(entry.value.span.end as usize);
                    }
                    self.close_collection(expr.span, "}");
                } else {
                    self.push("{ ");
                    for (i, entry) in entries.iter().enumerate() {
                        if i > 0 {
                            self.comments_after(entries[i - 1].value.span.end as usize);
                            self.push(", ");
                        }
                        self.comments_before(entry.key.span.start as usize);
                        self.push(&key_text(&entry.key));
                        self.comments_after(entry.key.span.end as usize);
                        self.push(" = ");
                        self.expr(&entry.value, false);
                    }
                    if let Some(last) = entries.last() {
                        self.comments_after(last.value.span.end as usize);
                    }
                    self.push(" }");
                }
            }
            ExprKind::Var(id) => self.push(&id.name),
            ExprKind::Member(base, name) => {
                self.expr(base, layout);
                self.comments_after(base.span.end as usize);
                self.push(".");
                self.comments_before(name.span.start as usize);
                self.push(&name.name);
            }
            ExprKind::Index(base, index) => {
                self.expr(base, layout);
                self.comments_after(base.span.end as usize);
                self.push("[");
                self.expr(index, false);
                self.comments_after(index.span.end as usize);
                self.push("]");
            }
            ExprKind::Splat(base) => {
                self.expr(base, layout);
                self.comments_after(base.span.end as usize);
                self.push("[*]");
            }
            ExprKind::Call(callee, args) => {
                self.expr(callee, false);
                self.comments_after(callee.span.end as usize);
                self.push("(");
                self.args(args);
                if let Some(last) = args.last() {
                    self.comments_after(last.value.span.end as usize);
                }
                self.push(")");
            }
            ExprKind::Unary(op, operand) => {
                self.push(match op {
                    UnaryOp::Not => "!",
                    UnaryOp::Neg => "-",
                });
                self.expr(operand, false);
            }
            ExprKind::Binary(op, lhs, rhs) => {
                self.expr(lhs, false);
                self.comments_after(lhs.span.end as usize);
                self.push(&format!(" {} ", op.symbol()));
                self.expr(rhs, false);
            }
            ExprKind::Conditional(c, a, b) => {
                self.expr(c, false);
                self.comments_after(c.span.end as usize);
                self.push(" ? ");
                self.expr(a, layout);
                self.comments_after(a.span.end as usize);
                self.push(" : ");
                self.expr(b, layout);
            }
            ExprKind::Paren(inner) => {
                self.push("(");
                self.expr(inner, false);
                self.comments_after(inner.span.end as usize);
                self.push(")");
            }
        }
    }

    fn close_collection(&mut self, span: Span, close: &str) {
        let end = span.end as usize;
        if self.comments.get(self.next).is_some_and(|c| c.start < end) {
            self.newline();
            self.leading_comments(end.saturating_sub(1));
        }
        self.indent -= 1;
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        if self.out.ends_with('\n') {
            self.out.pop();
        }
        self.newline();
        self.push(close);
    }

    fn one_line(&self, expr: &Expr) -> String {
        let mut p = Printer::detached(self.file);
        p.expr(expr, false);
        p.out
    }

    fn string(&mut self, parts: &[StrPart]) {
        self.push("\"");
        for part in parts {
            match part {
                StrPart::Text(t) => {
                    let escaped = escape(t);
                    self.push(&escaped);
                }
                StrPart::Interp(e) => {
                    self.push("${");
                    self.expr(e, false);
                    self.push("}");
                }
            }
        }
        self.push("\"");
    }
}

/// Items written as blocks; a blank line always separates them from neighbours.
fn is_block(item: &Item) -> bool {
    matches!(
        item,
        Item::Resource(_)
            | Item::Component(_)
            | Item::Instance(_)
            | Item::Phase(_)
            | Item::Provider(_)
            | Item::Workflow(_)
            | Item::For(_)
            | Item::If(_)
            | Item::Policy(_)
    )
}

fn key_text(key: &MapKey) -> String {
    let bare = !key.quoted
        || (key.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if bare {
        key.name.clone()
    } else {
        format!("\"{}\"", escape(&key.name))
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out
}

/// Numbers print without a fraction when they are whole.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}
