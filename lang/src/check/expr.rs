//! Typing expressions and resolving the names they use. Records each reference
//! to a let or resource as an edge of the reference graph.

use crate::ast::*;
use crate::diagnostic::CheckError;
use crate::path::{chain, resource_path, Chain, PathOp, ResourcePath};
use crate::schema::{Field, Type};
use crate::span::Span;
use crate::suggest::{closest, did_you_mean};

use super::{Checker, Node, Scope};

impl Checker<'_> {
    /// Reports a mismatch when `found` cannot stand where `expected` is wanted.
    pub(crate) fn expect(&mut self, expected: &Type, found: &Type, span: Span, what: &str) {
        if !expected.accepts(found) {
            self.error(CheckError::TypeMismatch {
                expected: expected.to_string(),
                found: found.to_string(),
                span,
                help: Some(format!("{what} must be {expected}")),
            });
        }
    }

    /// Checks a value against an expected type, looking inside literal lists
    /// and maps so errors point at the exact element.
    pub(crate) fn check_value(&mut self, expr: &Expr, expected: &Type, what: &str, scope: &Scope) {
        match (&expr.kind, expected) {
            (ExprKind::Map(entries), Type::Object(fields)) => self.check_object(entries, fields, expr.span, scope),
            (ExprKind::List(items), Type::List(elem)) => {
                for item in items {
                    self.check_value(item, elem, what, scope);
                }
            }
            (ExprKind::Map(entries), Type::Map(value)) => {
                for entry in entries {
                    self.check_value(&entry.value, value, what, scope);
                }
            }
            (ExprKind::Paren(inner), _) => self.check_value(inner, expected, what, scope),
            (ExprKind::String(_), Type::OneOf(values)) if expr.as_plain_string().is_some() => {
                let value = expr.as_plain_string().unwrap_or_default();
                if !values.contains(&value) {
                    let allowed = values.iter().map(|v| format!("`\"{v}\"`")).collect::<Vec<_>>().join(", ");
                    let nearest = values
                        .iter()
                        .find(|v| v.eq_ignore_ascii_case(&value))
                        .cloned()
                        .or_else(|| closest(&value, values.iter().map(String::as_str)));
                    let help = match nearest {
                        Some(v) => format!("did you mean `\"{v}\"`?"),
                        None => format!("write one of {allowed}"),
                    };
                    self.error(CheckError::NotOneOf {
                        value,
                        allowed: expected.to_string(),
                        span: expr.span,
                        help: Some(help),
                    });
                }
            }
            _ => {
                let found = self.infer(expr, scope);
                self.expect(expected, &found, expr.span, what);
            }
        }
    }

    fn check_object(&mut self, entries: &[MapEntry], fields: &[Field], span: Span, scope: &Scope) {
        for entry in entries {
            match fields.iter().find(|f| f.name == entry.key.name) {
                Some(field) => self.check_value(&entry.value, &field.ty, &field.doc, scope),
                None => {
                    let help =
                        did_you_mean(closest(&entry.key.name, fields.iter().map(|f| f.name.as_str())), "remove it");
                    let known = fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ");
                    self.error(CheckError::UnknownAttribute {
                        type_name: format!("object {{ {known} }}"),
                        name: entry.key.name.clone(),
                        span: entry.key.span,
                        help,
                    });
                }
            }
        }
        for field in fields.iter().filter(|f| f.required) {
            if !entries.iter().any(|e| e.key.name == field.name) {
                self.error(CheckError::MissingAttribute {
                    type_name: "object".into(),
                    name: field.name.clone(),
                    doc: field.doc.clone(),
                    span,
                });
            }
        }
    }

    /// The static type of `expr`; reports what it finds wrong on the way.
    pub(crate) fn infer(&mut self, expr: &Expr, scope: &Scope) -> Type {
        match &expr.kind {
            ExprKind::Null => Type::Any,
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Number(_) => Type::Number,
            ExprKind::String(parts) => {
                for part in parts {
                    if let StrPart::Interp(e) = part {
                        let ty = self.infer(e, scope);
                        if matches!(ty, Type::List(_) | Type::Map(_) | Type::Object(_) | Type::Resource(_)) {
                            self.error(CheckError::TypeMismatch {
                                expected: "a string, number or bool".into(),
                                found: ty.to_string(),
                                span: e.span,
                                help: Some(
                                    "only scalars can be interpolated; use `join(\",\", list)` or `jsonencode(value)`"
                                        .into(),
                                ),
                            });
                        }
                    }
                }
                Type::String
            }
            ExprKind::List(items) => {
                let types: Vec<Type> = items.iter().map(|i| self.infer(i, scope)).collect();
                Type::list(unify(&types))
            }
            ExprKind::Map(entries) => {
                let mut fields = Vec::new();
                for entry in entries {
                    let ty = self.infer(&entry.value, scope);
                    fields.push(Field { name: entry.key.name.clone(), ty, required: true, doc: String::new() });
                }
                Type::Object(fields)
            }
            ExprKind::Var(_) | ExprKind::Member(..) | ExprKind::Index(..) | ExprKind::Splat(_) => {
                self.infer_access(expr, scope)
            }
            ExprKind::Call(callee, args) => self.infer_call(callee, args, expr.span, scope),
            ExprKind::Unary(op, operand) => {
                let ty = self.infer(operand, scope);
                let want = match op {
                    UnaryOp::Not => Type::Bool,
                    UnaryOp::Neg => Type::Number,
                };
                self.expect(&want, &ty, operand.span, "the operand");
                want
            }
            ExprKind::Binary(op, lhs, rhs) => {
                let l = self.infer(lhs, scope);
                let r = self.infer(rhs, scope);
                match op {
                    BinaryOp::And | BinaryOp::Or => {
                        self.expect(&Type::Bool, &l, lhs.span, "a logical operand");
                        self.expect(&Type::Bool, &r, rhs.span, "a logical operand");
                        Type::Bool
                    }
                    BinaryOp::Eq | BinaryOp::Ne => Type::Bool,
                    BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                        self.expect(&Type::Number, &l, lhs.span, "a compared value");
                        self.expect(&Type::Number, &r, rhs.span, "a compared value");
                        Type::Bool
                    }
                    _ => {
                        self.expect(&Type::Number, &l, lhs.span, "an arithmetic operand");
                        self.expect(&Type::Number, &r, rhs.span, "an arithmetic operand");
                        Type::Number
                    }
                }
            }
            ExprKind::Conditional(cond, then, otherwise) => {
                let c = self.infer(cond, scope);
                self.expect(&Type::Bool, &c, cond.span, "a condition");
                let a = self.infer(then, scope);
                let b = self.infer(otherwise, scope);
                unify(&[a, b])
            }
            ExprKind::Paren(inner) => self.infer(inner, scope),
        }
    }

    fn infer_access(&mut self, expr: &Expr, scope: &Scope) -> Type {
        let Some(chain) = chain(expr) else {
            // A chain on a non-name base, e.g. `f(x).y` or `[1][0]`.
            return match &expr.kind {
                ExprKind::Member(base, name) => {
                    let ty = self.infer(base, scope);
                    self.member_type(&ty, name)
                }
                ExprKind::Index(base, index) => {
                    let ty = self.infer(base, scope);
                    self.infer(index, scope);
                    index_type(&ty)
                }
                ExprKind::Splat(base) => {
                    let ty = self.infer(base, scope);
                    splat_type(&ty)
                }
                _ => Type::Any,
            };
        };
        let (mut ty, consumed) = self.infer_root(&chain, scope);
        for (op, _) in &chain.ops[consumed..] {
            ty = match op {
                PathOp::Member(name) => self.member_type(&ty, name),
                PathOp::Index(index) => {
                    self.infer(index, scope);
                    index_type(&ty)
                }
                PathOp::Splat => splat_type(&ty),
            };
        }
        ty
    }

    /// The type of a chain's root and how many accesses the root used up.
    fn infer_root(&mut self, chain: &Chain<'_>, scope: &Scope) -> (Type, usize) {
        let root = &chain.root.name;
        if let Some(ty) = scope.lookup(root) {
            return (ty.clone(), 0);
        }
        if let Some(param) = self.params.get(root) {
            let ty = match (&param.ty, &param.default) {
                (Some(t), _) => {
                    let t = t.clone();
                    let errors = self.errors.len();
                    let ty = self.resolve_type(&t).unwrap_or(Type::Any);
                    self.errors.truncate(errors); // reported at the declaration
                    ty
                }
                (None, Some(default)) => literal_type(default),
                (None, None) => Type::Any,
            };
            return (ty, 0);
        }
        if self.lets.contains_key(root) {
            return (self.let_type(root, chain.root.span), 0);
        }
        if self.imports.contains_key(root) {
            let Some((PathOp::Member(name), span)) = chain.ops.first() else {
                self.error(CheckError::Invalid {
                    message: "an import is not a value",
                    span: chain.root.span,
                    help: Some(format!("use one of its definitions: `{root}.<name>`")),
                });
                return (Type::Any, 0);
            };
            let qualified = format!("{root}.{}", name.name);
            if self.lets.contains_key(&qualified) {
                return (self.let_type(&qualified, *span), 1);
            }
            let prefix = format!("{root}.");
            let names: Vec<String> =
                self.lets.keys().filter_map(|k| k.strip_prefix(&prefix)).map(String::from).collect();
            let help = did_you_mean(
                closest(&name.name, names.iter().map(String::as_str)),
                "the imported file declares no such `let`",
            );
            self.error(CheckError::UndefinedName { name: qualified, span: name.span, help });
            return (Type::Any, 1);
        }
        match resource_path(chain, self.catalog) {
            Some(ResourcePath::Resource { type_name, name, consumed, span }) => {
                let address = format!("{type_name}.{}", name.name);
                let Some(decl) = self.resources.get(&address) else {
                    let prefix = format!("{type_name}.");
                    let names: Vec<&str> = self.resources.keys().filter_map(|k| k.strip_prefix(&prefix)).collect();
                    let help = did_you_mean(
                        closest(&name.name, names).map(|n| format!("{prefix}{n}")),
                        "declare the resource, or check its name",
                    );
                    self.error(CheckError::UnknownResource { address, span, help });
                    return (Type::Any, chain.ops.len());
                };
                let looped = decl.looped;
                self.edge(Node::Resource(address.clone()), span);
                let object = Type::Resource(type_name);
                if looped {
                    // Looped resources are a map from key to instance.
                    return (Type::map(object), consumed);
                }
                (object, consumed)
            }
            Some(ResourcePath::UnknownType { written, span }) => {
                let names: Vec<&str> = self.catalog.resources().map(|s| s.type_name.as_str()).collect();
                let help = did_you_mean(
                    closest(&written, names),
                    "a reference is written `type.name.attribute`, e.g. `aws.ec2.vpc.main.id`",
                );
                self.error(CheckError::UnknownResourceType { name: written, span, help });
                (Type::Any, chain.ops.len())
            }
            Some(ResourcePath::MissingName { type_name, span }) => {
                self.error(CheckError::Invalid {
                    message: "a resource type is not a value",
                    span,
                    help: Some(format!("name the resource: `{type_name}.<name>`")),
                });
                (Type::Any, chain.ops.len())
            }
            None => {
                let candidates: Vec<String> = scope
                    .names()
                    .map(String::from)
                    .chain(self.params.keys().cloned())
                    .chain(self.lets.keys().filter(|k| !k.contains('.')).cloned())
                    .chain(self.imports.keys().cloned())
                    .collect();
                let help = did_you_mean(
                    closest(root, candidates.iter().map(String::as_str)),
                    "declare it with `let` or `param`",
                );
                self.error(CheckError::UndefinedName { name: root.clone(), span: chain.root.span, help });
                (Type::Any, chain.ops.len())
            }
        }
    }

    fn let_type(&mut self, key: &str, span: Span) -> Type {
        self.edge(Node::Let(key.to_string()), span);
        if let Some(ty) = self.let_types.get(key) {
            return ty.clone();
        }
        if self.inferring.iter().any(|k| k == key) {
            return Type::Any; // a cycle; reported by the cycle pass
        }
        let Some((value, declared)) = self.lets.get(key).map(|l| (l.decl.value.clone(), l.decl.ty.clone())) else {
            return Type::Any;
        };
        // A component input has its declared type, whatever the argument (which is checked against it).
        if let Some(ty) = declared.and_then(|t| self.resolve_type(&t)) {
            self.let_types.insert(key.to_string(), ty.clone());
            return ty;
        }
        self.inferring.push(key.to_string());
        // Infer without reporting: the let's own pass reports its errors once.
        let (errors, current) = (self.errors.len(), self.current.take());
        let edges = self.edges.clone();
        let ty = self.infer(&value, &Scope::default());
        self.errors.truncate(errors);
        self.edges = edges;
        self.current = current;
        self.inferring.pop();
        self.let_types.insert(key.to_string(), ty.clone());
        ty
    }

    fn edge(&mut self, to: Node, span: Span) {
        if let Some(from) = self.current.clone() {
            self.edges.entry(from).or_default().push((to, span));
        }
    }

    fn member_type(&mut self, ty: &Type, name: &Ident) -> Type {
        match ty {
            Type::Resource(type_name) => {
                let Some(schema) = self.catalog.resource(type_name) else {
                    return Type::Any;
                };
                match schema.attribute(&name.name) {
                    Some(a) => a.ty.clone(),
                    None => {
                        let help = did_you_mean(
                            closest(&name.name, schema.attributes.iter().map(|a| a.name.as_str())),
                            "see the type's attributes with `drone check --list-types`",
                        );
                        self.error(CheckError::UnknownAttribute {
                            type_name: type_name.clone(),
                            name: name.name.clone(),
                            span: name.span,
                            help,
                        });
                        Type::Any
                    }
                }
            }
            Type::Object(fields) => match fields.iter().find(|f| f.name == name.name) {
                Some(f) => f.ty.clone(),
                None => {
                    let help = did_you_mean(
                        closest(&name.name, fields.iter().map(|f| f.name.as_str())),
                        "the map has no such key",
                    );
                    self.error(CheckError::UnknownAttribute {
                        type_name: "object".into(),
                        name: name.name.clone(),
                        span: name.span,
                        help,
                    });
                    Type::Any
                }
            },
            Type::Map(value) if matches!(**value, Type::Resource(_)) => {
                self.error(CheckError::Invalid {
                    message: "this resource is declared in a loop; pick an instance first",
                    span: name.span,
                    help: Some("index it with `[key]`, or take every instance with `[*]`".into()),
                });
                Type::Any
            }
            Type::Map(value) => (**value).clone(),
            Type::List(elem) if matches!(**elem, Type::Resource(_) | Type::Object(_)) => {
                // `list[*].attr` was split into a splat then a member.
                let inner = self.member_type(elem, name);
                Type::list(inner)
            }
            Type::Any | Type::Json => Type::Any,
            other => {
                self.error(CheckError::TypeMismatch {
                    expected: "a map or resource".into(),
                    found: other.to_string(),
                    span: name.span,
                    help: Some("only maps and resources have members".into()),
                });
                Type::Any
            }
        }
    }

    fn infer_call(&mut self, callee: &Expr, args: &[Arg], span: Span, scope: &Scope) -> Type {
        let arg_types: Vec<Type> = args.iter().map(|a| self.infer(&a.value, scope)).collect();
        let ExprKind::Var(name) = &callee.kind else {
            self.error(CheckError::UnknownFunction {
                name: crate::fmt::expr_to_string(callee),
                span: callee.span,
                help: Some("only built-in functions can be called".into()),
            });
            return Type::Any;
        };
        let Some(sig) = self.catalog.function(&name.name).cloned() else {
            let names: Vec<&str> = self.catalog.functions().map(|f| f.name.as_str()).collect();
            let help = did_you_mean(closest(&name.name, names), "see the built-in functions in README.md");
            self.error(CheckError::UnknownFunction { name: name.name.clone(), span: name.span, help });
            return Type::Any;
        };
        if sig.policy_only && !self.in_policy {
            self.error(CheckError::Invalid {
                message: "this function queries the resource graph and exists only inside policies",
                span: name.span,
                help: Some(format!("call `{}` inside a `policy` block", sig.name)),
            });
        }
        if let Some(named) = args.iter().find_map(|a| a.name.as_ref()) {
            self.error(CheckError::Invalid {
                message: "built-in functions take positional arguments",
                span: named.span,
                help: Some(format!("call it as `{}({})`", sig.name, sig.params.join(", "))),
            });
        }
        let n = args.len();
        if n < sig.min_args || sig.max_args.is_some_and(|m| n > m) {
            let expected = match sig.max_args {
                Some(m) if m == sig.min_args => m.to_string(),
                Some(m) => format!("{} to {m}", sig.min_args),
                None => format!("at least {}", sig.min_args),
            };
            self.error(CheckError::ArgCount {
                name: sig.name.clone(),
                expected,
                found: n,
                params: sig.params.join(", "),
                span,
            });
        }
        let _ = arg_types;
        sig.returns
    }
}

fn index_type(ty: &Type) -> Type {
    match ty {
        Type::List(e) => (**e).clone(),
        Type::Map(v) => (**v).clone(),
        _ => Type::Any,
    }
}

fn splat_type(ty: &Type) -> Type {
    match ty {
        Type::List(e) | Type::Map(e) => Type::list((**e).clone()),
        _ => Type::list(Type::Any),
    }
}

fn literal_type(expr: &Expr) -> Type {
    match &expr.kind {
        ExprKind::Bool(_) => Type::Bool,
        ExprKind::Number(_) => Type::Number,
        ExprKind::String(_) => Type::String,
        ExprKind::List(_) => Type::list(Type::Any),
        ExprKind::Map(_) => Type::map(Type::Any),
        _ => Type::Any,
    }
}

/// The common type of several, or `any` when they differ.
fn unify(types: &[Type]) -> Type {
    match types.split_first() {
        None => Type::Any,
        Some((first, rest)) if rest.iter().all(|t| t == first) => first.clone(),
        Some(_) => Type::Any,
    }
}
