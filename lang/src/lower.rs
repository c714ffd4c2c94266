//! The only module that sees pest: runs the grammar and lowers `Pair<Rule>`s
//! into the owned AST. Syntax errors become [`SyntaxError`]s with spans.

use std::cell::{Cell, RefCell};
use std::sync::OnceLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use crate::ast::*;
use crate::diagnostic::SyntaxError;
use crate::span::{FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct Grammar;

/// Most nodes on any path of one expression tree (operators, members,
/// indexes, calls, and the expressions nested in them): every later walk of the
/// tree (check, evaluation, formatting, policy, drop) recurses once per node.
pub const MAX_EXPRESSION_DEPTH: usize = 256;

/// Parses the items in `text[start..end]` of file `file`, with spans counted
/// from `start`; the caller moves them into place (`shift.rs`), so the tree of
/// an unchanged item can be reused wherever its text now stands. A syntax
/// error's span is absolute, and names what the whole text holds there.
pub(crate) fn parse_items(file: FileId, text: &str, start: usize, end: usize) -> Result<Vec<Item>, SyntaxError> {
    let chunk = &text[start..end];
    let mut pairs = Grammar::parse(Rule::file, chunk).map_err(|e| syntax_error(file, text, start, e))?;
    let file_pair = pairs.next().ok_or_else(|| SyntaxError::Unexpected {
        found: "end of file".into(),
        expected: "a declaration".into(),
        span: Span::new(file, start, start),
    })?;
    let lower = Lower {
        file,
        text: chunk,
        comments: crate::trivia::comments(chunk),
        depth: Cell::new(0),
        too_large: RefCell::new(None),
    };
    let items = file_pair.into_inner().filter(|p| p.as_rule() != Rule::EOI).map(|p| lower.item(p)).collect();
    if let Some(mut error) = lower.too_large.into_inner() {
        crate::shift::Shift::shift(error.span_mut(), file, start as u32);
        return Err(error);
    }
    Ok(items)
}

/// The error pest reports at `base + its offset` of `text`.
fn syntax_error(file: FileId, text: &str, base: usize, error: pest::error::Error<Rule>) -> SyntaxError {
    let offset = base
        + match error.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((s, _)) => s,
        };
    let found_text: String = text[offset..].chars().take_while(|c| !c.is_whitespace()).take(20).collect();
    let (found, end) = if found_text.is_empty() {
        ("end of file".to_string(), offset)
    } else {
        let first = found_text.chars().next().map_or(1, char::len_utf8);
        let token_len = if found_text.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            found_text.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(found_text.len())
        } else {
            first
        };
        (format!("`{}`", &found_text[..token_len]), offset + token_len)
    };
    let expected = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => describe_expected(positives),
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    SyntaxError::Unexpected { found, expected, span: Span::new(file, offset, end) }
}

fn describe_expected(rules: &[Rule]) -> String {
    let mut names: Vec<&'static str> = rules.iter().filter_map(|r| rule_name(*r)).collect();
    names.sort_unstable();
    names.dedup();
    match names.len() {
        0 => "something else".into(),
        1 => names[0].into(),
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} or {}", names.join(", "), last)
        }
    }
}

fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::workflow_block
        | Rule::param_decl
        | Rule::let_decl
        | Rule::provider_block
        | Rule::resource_block
        | Rule::output_decl
        | Rule::phase_block
        | Rule::use_decl
        | Rule::for_block
        | Rule::if_block
        | Rule::policy_block
        | Rule::flag_stmt
        | Rule::moved_block
        | Rule::component_block
        | Rule::instance_block
        | Rule::script_block => "a declaration",
        Rule::inline_script | Rule::heredoc_body => "a script (`script = <<RHAI`, its lines, then `RHAI`)",
        Rule::hook_event | Rule::hook_when => {
            "an event (`before delete RESOURCE`, `after phase NAME`, `after destroy`)"
        }
        Rule::attribute => "an attribute (`name = value`)",
        Rule::annotation => "an annotation",
        Rule::ident | Rule::type_path | Rule::attr_name => "a name",
        Rule::expr
        | Rule::postfix_expr
        | Rule::null_lit
        | Rule::bool_lit
        | Rule::number
        | Rule::string
        | Rule::list
        | Rule::map
        | Rule::paren
        | Rule::not
        | Rule::neg => "an expression",
        Rule::or
        | Rule::and
        | Rule::eq
        | Rule::ne
        | Rule::le
        | Rule::ge
        | Rule::lt
        | Rule::gt
        | Rule::add
        | Rule::sub
        | Rule::mul
        | Rule::div
        | Rule::rem => "an operator",
        Rule::member | Rule::index | Rule::splat | Rule::call => "`.`, `[` or `(`",
        Rule::ternary => "`?`",
        Rule::map_entry => "a map entry (`key = value`)",
        Rule::arg => "an argument",
        Rule::phase_after => "`after`",
        Rule::else_clause => "`else`",
        Rule::type_expr => "a type",
        Rule::str_text | Rule::escape | Rule::interp => "string text",
        _ => return None,
    })
}

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::or, Assoc::Left))
            .op(Op::infix(Rule::and, Assoc::Left))
            .op(Op::infix(Rule::eq, Assoc::Left) | Op::infix(Rule::ne, Assoc::Left))
            .op(Op::infix(Rule::lt, Assoc::Left)
                | Op::infix(Rule::le, Assoc::Left)
                | Op::infix(Rule::gt, Assoc::Left)
                | Op::infix(Rule::ge, Assoc::Left))
            .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
            .op(Op::infix(Rule::mul, Assoc::Left)
                | Op::infix(Rule::div, Assoc::Left)
                | Op::infix(Rule::rem, Assoc::Left))
            .op(Op::prefix(Rule::not) | Op::prefix(Rule::neg))
    })
}

struct Lower<'t> {
    file: FileId,
    text: &'t str,
    /// Comment ranges, to trim from span ends: pest keeps the trivia it skipped
    /// before a trailing optional that then matched nothing.
    comments: Vec<(usize, usize)>,
    /// The depth of the expression tree above the expression being lowered.
    depth: Cell<usize>,
    /// The first expression that would make the tree too deep.
    too_large: RefCell<Option<SyntaxError>>,
}

// The grammar guarantees the shape of every pair handed to these functions, so a
// missing child is a grammar/lowering mismatch: a bug in drone, not bad input.
const SHAPE: &str = "grammar and lowering disagree";

impl Lower<'_> {
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), crate::trivia::trim_end(self.text, &self.comments, s.start(), s.end()))
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: self.span(&pair) }
    }

    fn items<'i>(&self, pairs: impl Iterator<Item = Pair<'i, Rule>>) -> Vec<Item> {
        pairs.map(|p| self.item(p)).collect()
    }

    #[allow(clippy::expect_used)]
    fn item(&self, pair: Pair<Rule>) -> Item {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().peekable();
        match rule {
            Rule::workflow_block => {
                let name = self.string(inner.next().expect(SHAPE));
                let attributes = inner.map(|p| self.attribute(p)).collect();
                Item::Workflow(Workflow { name, attributes, span })
            }
            Rule::param_decl => {
                let name = self.ident(inner.next().expect(SHAPE));
                let mut ty = None;
                let mut default = None;
                for p in inner {
                    match p.as_rule() {
                        Rule::type_expr => ty = Some(self.type_expr(p)),
                        _ => default = Some(self.expr(p)),
                    }
                }
                Item::Param(Param { name, ty, default, span })
            }
            Rule::let_decl => {
                let name = self.ident(inner.next().expect(SHAPE));
                let value = self.expr(inner.next().expect(SHAPE));
                Item::Let(Let { name, ty: None, value, span })
            }
            Rule::provider_block => {
                let kind = self.ident(inner.next().expect(SHAPE));
                let name = self.ident(inner.next().expect(SHAPE));
                let attributes = inner.map(|p| self.attribute(p)).collect();
                Item::Provider(Provider { kind, name, attributes, span })
            }
            Rule::resource_block => {
                let mut annotations = Vec::new();
                while inner.peek().map(|p| p.as_rule()) == Some(Rule::annotation) {
                    annotations.push(self.annotation(inner.next().expect(SHAPE)));
                }
                let read_only = inner.peek().map(|p| p.as_rule()) == Some(Rule::data_kw);
                if read_only {
                    inner.next();
                }
                let type_pair = inner.next().expect(SHAPE);
                let type_span = self.span(&type_pair);
                let segments = type_pair.into_inner().map(|p| self.ident(p)).collect();
                let type_name = TypePath { segments, span: type_span };
                let name = self.ident(inner.next().expect(SHAPE));
                let attributes = inner.map(|p| self.attribute(p)).collect();
                Item::Resource(Resource { annotations, type_name, name, attributes, read_only, span })
            }
            Rule::component_block => {
                inner.next(); // the keyword
                let name = self.ident(inner.next().expect(SHAPE));
                let (mut inputs, mut items) = (Vec::new(), Vec::new());
                for p in inner {
                    if p.as_rule() == Rule::input_decl {
                        inputs.push(self.input(p));
                    } else {
                        items.push(self.item(p));
                    }
                }
                Item::Component(Component { name, inputs, items, span })
            }
            Rule::instance_block => {
                inner.next(); // the keyword
                let component = inner.next().expect(SHAPE).into_inner().map(|p| self.ident(p)).collect();
                let name = self.ident(inner.next().expect(SHAPE));
                let attributes = inner.map(|p| self.attribute(p)).collect();
                Item::Instance(Instance { component, name, attributes, span })
            }
            Rule::script_block => Item::Script(self.script(inner, span)),
            Rule::moved_block => {
                let attributes = inner.map(|p| self.attribute(p)).collect();
                Item::Moved(Moved { attributes, span })
            }
            Rule::output_decl => {
                let name = self.ident(inner.next().expect(SHAPE));
                let value = self.expr(inner.next().expect(SHAPE));
                Item::Output(Output { name, value, span })
            }
            Rule::phase_block => {
                let name = self.ident(inner.next().expect(SHAPE));
                let mut after = Vec::new();
                if inner.peek().map(|p| p.as_rule()) == Some(Rule::phase_after) {
                    after = inner.next().expect(SHAPE).into_inner().map(|p| self.ident(p)).collect();
                }
                let items = self.items(inner);
                Item::Phase(Phase { name, after, items, span })
            }
            Rule::use_decl => {
                let path = self.string(inner.next().expect(SHAPE));
                let alias = self.ident(inner.next().expect(SHAPE));
                Item::Use(Use { path, alias, span })
            }
            Rule::for_block => {
                let first = self.ident(inner.next().expect(SHAPE));
                let second = if inner.peek().map(|p| p.as_rule()) == Some(Rule::ident) {
                    Some(self.ident(inner.next().expect(SHAPE)))
                } else {
                    None
                };
                let collection = self.expr(inner.next().expect(SHAPE));
                let items = self.items(inner);
                Item::For(For { first, second, collection, items, span })
            }
            Rule::if_block => {
                let condition = self.expr(inner.next().expect(SHAPE));
                let mut then_items = Vec::new();
                let mut else_items = Vec::new();
                for p in inner {
                    if p.as_rule() == Rule::else_clause {
                        else_items = self.items(p.into_inner());
                    } else {
                        then_items.push(self.item(p));
                    }
                }
                Item::If(If { condition, then_items, else_items, span })
            }
            Rule::policy_block => {
                let mut annotations = Vec::new();
                while inner.peek().map(|p| p.as_rule()) == Some(Rule::annotation) {
                    annotations.push(self.annotation(inner.next().expect(SHAPE)));
                }
                let id_pair = inner.next().expect(SHAPE);
                let id_span = self.span(&id_pair);
                let id = TypePath { segments: id_pair.into_inner().map(|p| self.ident(p)).collect(), span: id_span };
                let (mut attributes, mut items) = (Vec::new(), Vec::new());
                for p in inner {
                    if p.as_rule() == Rule::attribute {
                        attributes.push(self.attribute(p));
                    } else {
                        items.push(self.item(p));
                    }
                }
                Item::Policy(Policy { annotations, id, attributes, items, span })
            }
            Rule::flag_stmt => {
                let target = self.expr(inner.next().expect(SHAPE));
                let message = self.expr(inner.next().expect(SHAPE));
                Item::Flag(Flag { target, message, span })
            }
            other => unreachable!("{SHAPE}: unexpected item rule {other:?}"),
        }
    }

    #[allow(clippy::expect_used)]
    fn type_expr(&self, pair: Pair<Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect(SHAPE));
        let arg = inner.next().map(|p| Box::new(self.type_expr(p)));
        TypeExpr { name, arg, span }
    }

    #[allow(clippy::expect_used)]
    fn script(&self, mut inner: std::iter::Peekable<Pairs<Rule>>, span: Span) -> Script {
        let mut annotations = Vec::new();
        while inner.peek().map(|p| p.as_rule()) == Some(Rule::annotation) {
            annotations.push(self.annotation(inner.next().expect(SHAPE)));
        }
        let kind_word = inner.next().expect(SHAPE).as_str();
        let name = self.ident(inner.next().expect(SHAPE));
        let kind = match kind_word {
            "task" => ScriptKind::Task,
            "step" => ScriptKind::Step,
            _ => ScriptKind::Hook,
        };
        let (mut inputs, mut attributes, mut inline, mut event) = (Vec::new(), Vec::new(), None, None);
        for p in inner {
            match p.as_rule() {
                Rule::hook_event => event = Some(self.hook_event(p)),
                Rule::input_decl => inputs.push(self.input(p)),
                Rule::inline_script => {
                    let whole = self.span(&p);
                    let mut parts = p.into_inner();
                    let tag = parts.next().expect(SHAPE).as_str().to_string();
                    let body = parts.next().expect(SHAPE);
                    inline = Some(InlineScript {
                        tag,
                        text: body.as_str().to_string(),
                        text_span: self.span(&body),
                        span: whole,
                    });
                }
                _ => attributes.push(self.attribute(p)),
            }
        }
        Script { annotations, kind, name, event, inputs, attributes, inline, span }
    }

    /// `input NAME: TYPE = DEFAULT`, of a component or a task.
    fn input(&self, pair: Pair<Rule>) -> Input {
        let span = self.span(&pair);
        let mut parts = pair.into_inner().skip(1); // the keyword
        let name = self.ident(parts.next().expect(SHAPE));
        let ty = self.type_expr(parts.next().expect(SHAPE));
        let default = parts.next().map(|e| self.expr(e));
        Input { name, ty, default, span }
    }

    fn hook_event(&self, pair: Pair<Rule>) -> HookEvent {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let when = match inner.next().expect(SHAPE).as_str() {
            "before" => HookWhen::Before,
            _ => HookWhen::After,
        };
        let target = inner.next().expect(SHAPE);
        let on = match target.as_rule() {
            Rule::hook_phase => HookOn::Phase(self.ident(target.into_inner().last().expect(SHAPE))),
            Rule::hook_destroy => HookOn::Destroy,
            _ => {
                let mut parts = target.into_inner();
                let op = match parts.next().expect(SHAPE).as_str() {
                    "create" => ResourceOp::Create,
                    "update" => ResourceOp::Update,
                    _ => ResourceOp::Delete,
                };
                HookOn::Resource(op, self.expr(parts.next().expect(SHAPE)))
            }
        };
        HookEvent { when, on, span }
    }

    fn attribute(&self, pair: Pair<Rule>) -> Attribute {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let mut annotations = Vec::new();
        while inner.peek().map(|p| p.as_rule()) == Some(Rule::annotation) {
            annotations.push(self.annotation(inner.next().expect(SHAPE)));
        }
        let name = self.ident(inner.next().expect(SHAPE));
        let value = self.expr(inner.next().expect(SHAPE));
        Attribute { annotations, name, value, span }
    }

    #[allow(clippy::expect_used)]
    fn annotation(&self, pair: Pair<Rule>) -> Annotation {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect(SHAPE));
        let args = inner.map(|p| self.arg(p)).collect();
        Annotation { name, args, span }
    }

    #[allow(clippy::expect_used)]
    fn arg(&self, pair: Pair<Rule>) -> Arg {
        let mut inner = pair.into_inner();
        let first = inner.next().expect(SHAPE);
        match inner.next() {
            Some(value) => Arg { name: Some(self.ident(first)), value: self.expr(value) },
            None => Arg { name: None, value: self.expr(first) },
        }
    }

    /// Lowers `pair` with `cost` more levels of tree above its children, or,
    /// past the depth limit, records the error and returns `null` without
    /// building anything deeper.
    fn within_budget(&self, span: Span, cost: usize, lower: impl FnOnce() -> Expr) -> Expr {
        let depth = self.depth.get();
        if depth + cost > MAX_EXPRESSION_DEPTH {
            self.too_large
                .borrow_mut()
                .get_or_insert(SyntaxError::TooLargeExpression { limit: MAX_EXPRESSION_DEPTH, span });
            return Expr { kind: ExprKind::Null, span };
        }
        self.depth.set(depth + cost);
        let expr = lower();
        self.depth.set(depth);
        expr
    }

    fn expr(&self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        // Each operator and operand can add a level to the tree built from them.
        let cost = pair.clone().into_inner().count();
        self.within_budget(span, cost, || self.expr_within(pair))
    }

    #[allow(clippy::expect_used)]
    fn expr_within(&self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let mut pairs: Vec<Pair<Rule>> = pair.into_inner().collect();
        let ternary = if pairs.last().map(|p| p.as_rule()) == Some(Rule::ternary) { pairs.pop() } else { None };
        let base = pratt()
            .map_primary(|p| self.postfix_expr(p))
            .map_prefix(|op, rhs| {
                let span = self.span(&op).to(rhs.span);
                let op = if op.as_rule() == Rule::not { UnaryOp::Not } else { UnaryOp::Neg };
                Expr { kind: ExprKind::Unary(op, Box::new(rhs)), span }
            })
            .map_infix(|lhs, op, rhs| {
                let span = lhs.span.to(rhs.span);
                let op = match op.as_rule() {
                    Rule::or => BinaryOp::Or,
                    Rule::and => BinaryOp::And,
                    Rule::eq => BinaryOp::Eq,
                    Rule::ne => BinaryOp::Ne,
                    Rule::lt => BinaryOp::Lt,
                    Rule::le => BinaryOp::Le,
                    Rule::gt => BinaryOp::Gt,
                    Rule::ge => BinaryOp::Ge,
                    Rule::add => BinaryOp::Add,
                    Rule::sub => BinaryOp::Sub,
                    Rule::mul => BinaryOp::Mul,
                    Rule::div => BinaryOp::Div,
                    _ => BinaryOp::Rem,
                };
                Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span }
            })
            .parse(pairs.into_iter());
        match ternary {
            Some(t) => {
                let mut inner = t.into_inner();
                let then = self.expr(inner.next().expect(SHAPE));
                let otherwise = self.expr(inner.next().expect(SHAPE));
                Expr { kind: ExprKind::Conditional(Box::new(base), Box::new(then), Box::new(otherwise)), span }
            }
            None => base,
        }
    }

    fn postfix_expr(&self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let cost = pair.clone().into_inner().count();
        self.within_budget(span, cost, || self.postfix_within(pair))
    }

    #[allow(clippy::expect_used)]
    fn postfix_within(&self, pair: Pair<Rule>) -> Expr {
        let mut inner = pair.into_inner();
        let mut expr = self.primary(inner.next().expect(SHAPE));
        for post in inner {
            let span = expr.span.to(self.span(&post));
            let kind = match post.as_rule() {
                Rule::member => ExprKind::Member(Box::new(expr), self.ident(post.into_inner().next().expect(SHAPE))),
                Rule::index => {
                    ExprKind::Index(Box::new(expr), Box::new(self.expr(post.into_inner().next().expect(SHAPE))))
                }
                Rule::splat => ExprKind::Splat(Box::new(expr)),
                Rule::call => ExprKind::Call(Box::new(expr), post.into_inner().map(|p| self.arg(p)).collect()),
                other => unreachable!("{SHAPE}: unexpected postfix {other:?}"),
            };
            expr = Expr { kind, span };
        }
        expr
    }

    #[allow(clippy::expect_used)]
    fn primary(&self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::null_lit => ExprKind::Null,
            Rule::bool_lit => ExprKind::Bool(pair.as_str().starts_with('t')),
            // The grammar only admits digit strings that f64 parses.
            Rule::number => ExprKind::Number(pair.as_str().parse().unwrap_or(f64::NAN)),
            Rule::string => return self.string(pair),
            Rule::list => ExprKind::List(pair.into_inner().map(|p| self.expr(p)).collect()),
            Rule::map => ExprKind::Map(
                pair.into_inner()
                    .map(|entry| {
                        let mut inner = entry.into_inner();
                        let key_pair = inner.next().expect(SHAPE);
                        let key_span = self.span(&key_pair);
                        let key = if key_pair.as_rule() == Rule::string {
                            let text = self.string(key_pair).as_plain_string().unwrap_or_default();
                            MapKey { name: text, quoted: true, span: key_span }
                        } else {
                            MapKey { name: key_pair.as_str().to_string(), quoted: false, span: key_span }
                        };
                        MapEntry { key, value: self.expr(inner.next().expect(SHAPE)) }
                    })
                    .collect(),
            ),
            Rule::paren => ExprKind::Paren(Box::new(self.expr(pair.into_inner().next().expect(SHAPE)))),
            Rule::ident => ExprKind::Var(self.ident(pair)),
            Rule::expr => return self.expr(pair),
            other => unreachable!("{SHAPE}: unexpected primary {other:?}"),
        };
        Expr { kind, span }
    }

    #[allow(clippy::expect_used)]
    fn string(&self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let mut parts: Vec<StrPart> = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::str_text => push_text(&mut parts, part.as_str()),
                Rule::escape => push_text(&mut parts, &decode_escape(part.as_str())),
                Rule::interp => parts.push(StrPart::Interp(self.expr(part.into_inner().next().expect(SHAPE)))),
                other => unreachable!("{SHAPE}: unexpected string part {other:?}"),
            }
        }
        Expr { kind: ExprKind::String(parts), span }
    }
}

fn push_text(parts: &mut Vec<StrPart>, text: &str) {
    if let Some(StrPart::Text(last)) = parts.last_mut() {
        last.push_str(text);
    } else {
        parts.push(StrPart::Text(text.to_string()));
    }
}

fn decode_escape(escape: &str) -> String {
    match escape {
        "\\n" => "\n".into(),
        "\\t" => "\t".into(),
        "\\r" => "\r".into(),
        "\\\"" => "\"".into(),
        "\\\\" => "\\".into(),
        "\\$" => "$".into(),
        other => {
            let hex = other.trim_start_matches("\\u{").trim_end_matches('}');
            u32::from_str_radix(hex, 16).ok().and_then(char::from_u32).map_or_else(|| "\u{FFFD}".into(), String::from)
        }
    }
}
