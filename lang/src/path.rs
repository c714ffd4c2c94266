//! Resource references. `aws.ec2.vpc.main.id` is written as ordinary member
//! access; this module splits such a chain into the resource it names and the
//! accesses applied to it. The checker and the evaluator both use it, so they
//! agree on what a reference means.

use crate::ast::{Expr, ExprKind, Ident};
use crate::schema::Catalog;
use crate::span::Span;

/// One access applied to a value.
#[derive(Clone, Copy, Debug)]
pub enum PathOp<'a> {
    /// `.name`
    Member(&'a Ident),
    /// `[expr]`
    Index(&'a Expr),
    /// `[*]`
    Splat,
}

/// A chain of accesses rooted at a name: `root.a[0][*].b`.
#[derive(Clone, Debug)]
pub struct Chain<'a> {
    /// The name the chain starts from.
    pub root: &'a Ident,
    /// Accesses in order, each with the span of the expression it completes.
    pub ops: Vec<(PathOp<'a>, Span)>,
}

/// Splits `expr` into a chain, if it is one rooted at a bare name.
pub fn chain(expr: &Expr) -> Option<Chain<'_>> {
    match &expr.kind {
        ExprKind::Var(root) => Some(Chain { root, ops: Vec::new() }),
        ExprKind::Member(base, name) => push(base, PathOp::Member(name), expr.span),
        ExprKind::Index(base, index) => push(base, PathOp::Index(index), expr.span),
        ExprKind::Splat(base) => push(base, PathOp::Splat, expr.span),
        _ => None,
    }
}

fn push<'a>(base: &'a Expr, op: PathOp<'a>, span: Span) -> Option<Chain<'a>> {
    let mut c = chain(base)?;
    c.ops.push((op, span));
    Some(c)
}

/// What a chain rooted at a type namespace refers to.
#[derive(Clone, Debug)]
pub enum ResourcePath<'a> {
    /// `type.name`, with `consumed` accesses used up by the type and the name.
    Resource {
        /// The resource type, e.g. `aws.ec2.vpc`.
        type_name: String,
        /// The resource's name.
        name: &'a Ident,
        /// How many of the chain's accesses the type and name used.
        consumed: usize,
        /// The span of `type.name`.
        span: Span,
    },
    /// The chain starts like a type but names none.
    UnknownType {
        /// The dotted text written so far.
        written: String,
        /// Where.
        span: Span,
    },
    /// A type was named but no resource name follows it.
    MissingName {
        /// The type.
        type_name: String,
        /// Where.
        span: Span,
    },
}

/// Resolves `chain` as a resource reference, if its root is a type namespace.
pub fn resource_path<'a>(chain: &Chain<'a>, catalog: &Catalog) -> Option<ResourcePath<'a>> {
    if !catalog.is_namespace(&chain.root.name) {
        return None;
    }
    let mut written = chain.root.name.clone();
    let mut span = chain.root.span;
    for (i, (op, op_span)) in chain.ops.iter().enumerate() {
        let PathOp::Member(segment) = op else {
            return Some(ResourcePath::UnknownType { written, span });
        };
        written = format!("{written}.{}", segment.name);
        span = *op_span;
        if catalog.resource(&written).is_some() {
            return Some(match chain.ops.get(i + 1) {
                Some((PathOp::Member(name), name_span)) => {
                    ResourcePath::Resource { type_name: written, name, consumed: i + 2, span: *name_span }
                }
                _ => ResourcePath::MissingName { type_name: written, span },
            });
        }
        if !catalog.is_type_prefix(&written) {
            return Some(ResourcePath::UnknownType { written, span });
        }
    }
    Some(ResourcePath::UnknownType { written, span })
}
