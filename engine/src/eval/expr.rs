//! Evaluating expressions to values. References to resources go through a
//! [`Resolver`], which answers with planned values when planning and with real
//! ones when applying; values not known yet come back as `Value::Unknown`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;

use drone_lang::ast::{BinaryOp, Expr, ExprKind, StrPart, UnaryOp};
use drone_lang::path::{chain, resource_path, PathOp, ResourcePath};
use drone_lang::suggest::{closest, did_you_mean};
use drone_lang::{Catalog, Span};

use crate::error::{At, EvalError};
use crate::functions::{self, scalar_text, CallContext};
use crate::model::{address, Binding, Bindings, Model};
use crate::value::Value;

/// Answers what a resource instance's attributes are.
pub trait Resolver {
    /// The instance's attributes as a map (unknown ones as `Unknown`).
    fn instance(&self, address: &str) -> Value;
}

/// A resolver for which every resource is unknown (used while expanding).
pub struct NothingKnown;

impl Resolver for NothingKnown {
    fn instance(&self, _: &str) -> Value {
        Value::Unknown
    }
}

/// Functions beyond the built-ins, such as the graph queries of policies.
pub trait Functions {
    /// The result of calling `name`, or `None` when it is not one of these.
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, crate::error::FnError>>;
}

/// Evaluates expressions of one model.
pub struct Evaluator<'m> {
    model: &'m Model,
    catalog: &'m Catalog,
    cx: &'m CallContext<'m>,
    resolver: &'m dyn Resolver,
    extra: Option<&'m dyn Functions>,
    /// Whether a missing map key reads as `null` (policies) instead of failing.
    lenient: bool,
    lets: RefCell<BTreeMap<String, Value>>,
}

impl<'m> Evaluator<'m> {
    /// An evaluator over `model` answering references with `resolver`.
    pub fn new(model: &'m Model, catalog: &'m Catalog, cx: &'m CallContext<'m>, resolver: &'m dyn Resolver) -> Self {
        Evaluator { model, catalog, cx, resolver, extra: None, lenient: false, lets: RefCell::new(BTreeMap::new()) }
    }

    /// The same evaluator, reading missing map keys as `null`: policies
    /// inspect optional attributes without guarding every access.
    pub fn lenient(mut self) -> Self {
        self.lenient = true;
        self
    }

    /// The same evaluator, also offering `functions`.
    pub fn with_functions(mut self, functions: &'m dyn Functions) -> Self {
        self.extra = Some(functions);
        self
    }

    /// The value of `expr` with loop bindings `scope`.
    pub fn eval(&self, expr: &Expr, scope: &Bindings) -> Result<Value, EvalError> {
        match &expr.kind {
            ExprKind::Null => Ok(Value::Null),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Number(n) => Ok(Value::Number(*n)),
            ExprKind::String(parts) => {
                let mut out = String::new();
                let mut known = true;
                for part in parts {
                    match part {
                        StrPart::Text(t) => out.push_str(t),
                        StrPart::Interp(e) => match self.eval(e, scope)? {
                            Value::Unknown | Value::Ref { .. } => known = false,
                            Value::Secret(_) => {
                                return Err(EvalError::Type {
                                    expected: "a plain value".into(),
                                    found: "secret".into(),
                                    span: e.span,
                                    help: "a secret cannot be interpolated into text; pass it as a whole attribute"
                                        .into(),
                                })
                            }
                            v => out.push_str(&scalar_text(&v).at("interpolation", e.span)?),
                        },
                    }
                    // Checked as it grows: a string of many interpolations stops at the limit.
                    if out.len() > crate::functions::MAX_STRING {
                        let limit = crate::functions::MAX_STRING;
                        return Err(EvalError::Limit { what: "string bytes", limit, span: expr.span });
                    }
                }
                Ok(if known { Value::String(out) } else { Value::Unknown })
            }
            ExprKind::List(items) => {
                items.iter().map(|i| self.eval(i, scope)).collect::<Result<_, _>>().map(Value::List)
            }
            ExprKind::Map(entries) => {
                let mut map = BTreeMap::new();
                for e in entries {
                    map.insert(e.key.name.clone(), self.eval(&e.value, scope)?);
                }
                Ok(Value::map(map))
            }
            ExprKind::Var(_) | ExprKind::Member(..) | ExprKind::Index(..) | ExprKind::Splat(_) => {
                self.access(expr, scope)
            }
            ExprKind::Call(callee, args) => {
                let name = match &callee.kind {
                    ExprKind::Var(id) => id.name.as_str(),
                    _ => "",
                };
                let values = args.iter().map(|a| self.eval(&a.value, scope)).collect::<Result<Vec<_>, _>>()?;
                if let Some(result) = self.extra.and_then(|f| f.call(name, &values)) {
                    return result.at(name, expr.span);
                }
                if name == "secret" && self.cx.resolve_secrets {
                    let reference = values.first().and_then(Value::as_str).unwrap_or_default().to_string();
                    return functions::call(name, &values, self.cx).map_err(|e| EvalError::Secret {
                        reference,
                        reason: e.0,
                        span: expr.span,
                    });
                }
                functions::call(name, &values, self.cx).at(name, expr.span)
            }
            ExprKind::Unary(op, operand) => {
                let v = self.eval(operand, scope)?;
                match (op, v) {
                    (_, v) if !v.is_known() => Ok(Value::Unknown),
                    (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                    (UnaryOp::Neg, Value::Number(n)) => Ok(Value::Number(-n)),
                    (UnaryOp::Not, v) => Err(type_error("bool", &v, operand.span)),
                    (UnaryOp::Neg, v) => Err(type_error("number", &v, operand.span)),
                }
            }
            ExprKind::Binary(op, lhs, rhs) => self.binary(*op, lhs, rhs, scope),
            ExprKind::Conditional(cond, then, otherwise) => match self.eval(cond, scope)? {
                Value::Bool(true) => self.eval(then, scope),
                Value::Bool(false) => self.eval(otherwise, scope),
                v if !v.is_known() => Ok(Value::Unknown),
                v => Err(type_error("bool", &v, cond.span)),
            },
            ExprKind::Paren(inner) => self.eval(inner, scope),
        }
    }

    fn binary(&self, op: BinaryOp, lhs: &Expr, rhs: &Expr, scope: &Bindings) -> Result<Value, EvalError> {
        let l = self.eval(lhs, scope)?;
        if matches!(op, BinaryOp::And | BinaryOp::Or) {
            match (op, &l) {
                (BinaryOp::And, Value::Bool(false)) => return Ok(Value::Bool(false)),
                (BinaryOp::Or, Value::Bool(true)) => return Ok(Value::Bool(true)),
                (_, Value::Bool(_) | Value::Unknown | Value::Ref { .. }) => {}
                _ => return Err(type_error("bool", &l, lhs.span)),
            }
            return match self.eval(rhs, scope)? {
                Value::Bool(b) if l.is_known() => Ok(Value::Bool(b)),
                // Decided whatever the unknown left side is.
                Value::Bool(false) if op == BinaryOp::And => Ok(Value::Bool(false)),
                Value::Bool(true) if op == BinaryOp::Or => Ok(Value::Bool(true)),
                r if matches!(r, Value::Bool(_)) || !r.is_known() => Ok(Value::Unknown),
                r => Err(type_error("bool", &r, rhs.span)),
            };
        }
        let r = self.eval(rhs, scope)?;
        if matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
            if let Some(same) = same_identity(&l, &r) {
                return Ok(Value::Bool(same == (op == BinaryOp::Eq)));
            }
        }
        if !l.is_known() || !r.is_known() {
            return Ok(Value::Unknown);
        }
        match op {
            BinaryOp::Eq => return Ok(Value::Bool(l.same(&r))),
            BinaryOp::Ne => return Ok(Value::Bool(!l.same(&r))),
            _ => {}
        }
        let a = l.as_f64().ok_or_else(|| type_error("number", &l, lhs.span))?;
        let b = r.as_f64().ok_or_else(|| type_error("number", &r, rhs.span))?;
        let span = lhs.span.to(rhs.span);
        Ok(match op {
            BinaryOp::Lt => Value::Bool(a < b),
            BinaryOp::Le => Value::Bool(a <= b),
            BinaryOp::Gt => Value::Bool(a > b),
            BinaryOp::Ge => Value::Bool(a >= b),
            BinaryOp::Add => Value::Number(a + b),
            BinaryOp::Sub => Value::Number(a - b),
            BinaryOp::Mul => Value::Number(a * b),
            BinaryOp::Div if b == 0.0 => return Err(EvalError::Arithmetic { message: "division by zero", span }),
            BinaryOp::Div => Value::Number(a / b),
            BinaryOp::Rem if b == 0.0 => return Err(EvalError::Arithmetic { message: "remainder by zero", span }),
            BinaryOp::Rem => Value::Number(a % b),
            _ => Value::Null,
        })
    }

    fn access(&self, expr: &Expr, scope: &Bindings) -> Result<Value, EvalError> {
        let Some(chain) = chain(expr) else {
            let (base, op) = match &expr.kind {
                ExprKind::Member(base, name) => (base, PathOp::Member(name)),
                ExprKind::Index(base, index) => (base, PathOp::Index(index)),
                ExprKind::Splat(base) => (base, PathOp::Splat),
                _ => return Ok(Value::Null),
            };
            let value = self.eval(base, scope)?;
            return Ok(self.step(&value, op, expr.span, scope)?.into_owned());
        };
        // Walked by reference: only the value reached is copied, not each map on the way
        // (a policy reading `sg.ingress` would otherwise copy the whole security group).
        let (root, consumed) = self.root(&chain, scope)?;
        let mut value = Cow::Borrowed(root.as_ref());
        for (op, span) in &chain.ops[consumed..] {
            value = match value {
                Cow::Borrowed(v) => self.step(v, *op, *span, scope)?,
                Cow::Owned(v) => Cow::Owned(self.step(&v, *op, *span, scope)?.into_owned()),
            };
        }
        Ok(value.into_owned())
    }

    /// The value a path starts from, and how many of its operations naming it took.
    fn root<'s>(
        &'s self,
        chain: &drone_lang::path::Chain<'_>,
        scope: &'s Bindings,
    ) -> Result<(Cow<'s, Value>, usize), EvalError> {
        let name = &chain.root.name;
        if let Some(pos) = scope.iter().rposition(|(n, _)| n == name) {
            return match &scope[pos].1 {
                Binding::Value(v) => Ok((Cow::Borrowed(v), 0)),
                Binding::Let(e) => Ok((Cow::Owned(self.eval(e, &scope[..pos])?), 0)),
            };
        }
        if let Some(v) = self.model.params.get(name) {
            return Ok((Cow::Borrowed(v), 0));
        }
        if self.model.lets.contains_key(name) {
            return Ok((Cow::Owned(self.global_let(name)?), 0));
        }
        if let Some((PathOp::Member(member), _)) = chain.ops.first() {
            let qualified = format!("{name}.{}", member.name);
            if self.model.lets.contains_key(&qualified) {
                return Ok((Cow::Owned(self.global_let(&qualified)?), 1));
            }
        }
        if let Some(ResourcePath::Resource { type_name, name, consumed, .. }) = resource_path(chain, self.catalog) {
            let decl_name = format!("{type_name}.{}", name.name);
            // Not registered yet (still expanding): its values are not known.
            let Some(decl) = self.model.decls.get(&decl_name) else {
                return Ok((Cow::Owned(Value::Unknown), chain.ops.len()));
            };
            if decl.looped {
                let map = decl.instances.iter().map(|(k, a)| (k.clone(), self.resolver.instance(a))).collect();
                return Ok((Cow::Owned(Value::map(map)), consumed));
            }
            // The one instance's address (an instance of a component has its prefix).
            let single = decl.instances.values().next().cloned().unwrap_or_else(|| address(&decl_name, None));
            return Ok((Cow::Owned(self.resolver.instance(&single)), consumed));
        }
        // The checker rejects undefined names before evaluation.
        Ok((Cow::Owned(Value::Null), chain.ops.len()))
    }

    fn global_let(&self, name: &str) -> Result<Value, EvalError> {
        if let Some(v) = self.lets.borrow().get(name) {
            return Ok(v.clone());
        }
        let Some(expr) = self.model.lets.get(name) else {
            return Ok(Value::Null);
        };
        // The checker has rejected cycles, so this recursion terminates.
        let v = self.eval(expr, &[])?;
        self.lets.borrow_mut().insert(name.to_string(), v.clone());
        Ok(v)
    }

    /// One step along a path: borrowed from `value` where the result is a part of it.
    fn step<'v>(
        &self,
        value: &'v Value,
        op: PathOp<'_>,
        span: Span,
        scope: &Bindings,
    ) -> Result<Cow<'v, Value>, EvalError> {
        match (op, value) {
            // A key of a map known after apply (`secret.replica_arns["eu-central-1"]`) still comes
            // from that resource: policies follow it as they follow the attribute.
            (PathOp::Index(index), Value::Ref { address, attribute }) => {
                Ok(Cow::Owned(match self.eval(index, scope)? {
                    Value::String(key) => Value::reference(address, &format!("{attribute}[{key:?}]")),
                    _ => Value::Unknown,
                }))
            }
            (_, Value::Unknown | Value::Ref { .. }) => Ok(Cow::Owned(Value::Unknown)),
            (PathOp::Member(name), Value::Map(m)) => match m.get(&name.name) {
                Some(v) => Ok(Cow::Borrowed(v)),
                None if self.lenient => Ok(Cow::Owned(Value::Null)),
                None => Err(EvalError::MissingKey {
                    key: name.name.clone(),
                    kind: "map",
                    span: name.span,
                    help: did_you_mean(closest(&name.name, m.keys().map(String::as_str)), "the map has no such key"),
                }),
            },
            (PathOp::Member(name), Value::List(items)) => {
                // After a splat: take the member of every element.
                items
                    .iter()
                    .map(|v| self.step(v, PathOp::Member(name), span, scope).map(Cow::into_owned))
                    .collect::<Result<_, _>>()
                    .map(|items| Cow::Owned(Value::List(items)))
            }
            (PathOp::Index(index), value) => {
                let key = self.eval(index, scope)?;
                match (value, &key) {
                    (_, Value::Unknown) => Ok(Cow::Owned(Value::Unknown)),
                    (Value::List(items), Value::Number(n)) => {
                        items.get(*n as usize).filter(|_| n.fract() == 0.0 && *n >= 0.0).map(Cow::Borrowed).ok_or(
                            EvalError::MissingKey {
                                key: drone_lang::fmt::format_number(*n),
                                kind: "list",
                                span: index.span,
                                help: Some(format!("the list has {} elements, indexed from 0", items.len())),
                            },
                        )
                    }
                    (Value::Map(m), Value::String(k)) => {
                        m.get(k).map(Cow::Borrowed).ok_or_else(|| EvalError::MissingKey {
                            key: k.clone(),
                            kind: "map",
                            span: index.span,
                            help: did_you_mean(closest(k, m.keys().map(String::as_str)), "the map has no such key"),
                        })
                    }
                    (Value::Map(_), k) => Err(type_error("string key", k, index.span)),
                    (Value::List(_), k) => Err(type_error("number index", k, index.span)),
                    (v, _) => Err(type_error("list or map", v, span)),
                }
            }
            (PathOp::Splat, Value::List(_)) => Ok(Cow::Borrowed(value)),
            (PathOp::Splat, Value::Map(m)) => Ok(Cow::Owned(Value::List(m.values().cloned().collect()))),
            (PathOp::Splat, v) => Err(type_error("list or map", v, span)),
            (PathOp::Member(_), v) => Err(type_error("map or resource", v, span)),
        }
    }
}

/// Equality decidable before apply: two references compare by identity, and
/// only a wholly unknown value can be `null`.
fn same_identity(l: &Value, r: &Value) -> Option<bool> {
    match (l, r) {
        (Value::Ref { .. }, Value::Ref { .. }) => Some(l == r),
        // Only a wholly unknown value might turn out to be null; a map or list
        // with unknowns inside is certainly not null.
        (Value::Unknown, Value::Null) | (Value::Null, Value::Unknown) => None,
        (v, Value::Null) | (Value::Null, v) => Some(matches!(v, Value::Null)),
        _ => None,
    }
}

fn type_error(expected: &str, found: &Value, span: Span) -> EvalError {
    EvalError::Type {
        expected: expected.into(),
        found: found.type_name().into(),
        span,
        help: format!("use a {expected} here"),
    }
}
