//! Moving a tree to another place in its file: every span of an item parsed
//! on its own (offsets from the item's first byte) is moved by where the item
//! now starts. This is what lets an incremental parse reuse the tree of an
//! item whose text did not change while the text before it did.

use crate::ast::*;
use crate::span::{FileId, Span};

/// A tree whose spans can be moved.
pub trait Shift {
    /// Adds `by` to every offset and sets every span's file to `file`.
    fn shift(&mut self, file: FileId, by: u32);
}

impl Shift for Span {
    fn shift(&mut self, file: FileId, by: u32) {
        self.file = file;
        self.start += by;
        self.end += by;
    }
}

impl<T: Shift> Shift for Vec<T> {
    fn shift(&mut self, file: FileId, by: u32) {
        for x in self {
            x.shift(file, by);
        }
    }
}

impl<T: Shift> Shift for Option<T> {
    fn shift(&mut self, file: FileId, by: u32) {
        if let Some(x) = self {
            x.shift(file, by);
        }
    }
}

impl<T: Shift> Shift for Box<T> {
    fn shift(&mut self, file: FileId, by: u32) {
        (**self).shift(file, by);
    }
}

/// `impl Shift` for a struct: shifts the listed fields.
macro_rules! shift_fields {
    ($($ty:ty => $($field:ident),+;)+) => {
        $(impl Shift for $ty {
            fn shift(&mut self, file: FileId, by: u32) {
                $(self.$field.shift(file, by);)+
            }
        })+
    };
}

shift_fields! {
    Module => items, span;
    Ident => span;
    Workflow => name, attributes, span;
    Param => name, ty, default, span;
    TypeExpr => name, arg, span;
    Let => name, ty, value, span;
    Provider => kind, name, attributes, span;
    Annotation => name, args, span;
    Resource => annotations, type_name, name, attributes, span;
    TypePath => segments, span;
    Attribute => annotations, name, value, span;
    Output => name, value, span;
    Component => name, inputs, items, span;
    Input => name, ty, default, span;
    Instance => component, name, attributes, span;
    Script => annotations, name, event, inputs, attributes, inline, span;
    HookEvent => on, span;
    InlineScript => text_span, span;
    Moved => attributes, span;
    Phase => name, after, items, span;
    Use => path, alias, span;
    For => first, second, collection, items, span;
    If => condition, then_items, else_items, span;
    Policy => annotations, id, attributes, items, span;
    Flag => target, message, span;
    Expr => kind, span;
    MapEntry => key, value;
    MapKey => span;
    Arg => name, value;
}

impl Shift for Item {
    fn shift(&mut self, file: FileId, by: u32) {
        match self {
            Item::Workflow(x) => x.shift(file, by),
            Item::Param(x) => x.shift(file, by),
            Item::Let(x) => x.shift(file, by),
            Item::Provider(x) => x.shift(file, by),
            Item::Resource(x) => x.shift(file, by),
            Item::Output(x) => x.shift(file, by),
            Item::Phase(x) => x.shift(file, by),
            Item::Use(x) => x.shift(file, by),
            Item::For(x) => x.shift(file, by),
            Item::If(x) => x.shift(file, by),
            Item::Policy(x) => x.shift(file, by),
            Item::Flag(x) => x.shift(file, by),
            Item::Moved(x) => x.shift(file, by),
            Item::Component(x) => x.shift(file, by),
            Item::Instance(x) => x.shift(file, by),
            Item::Script(x) => x.shift(file, by),
        }
    }
}

impl Shift for HookOn {
    fn shift(&mut self, file: FileId, by: u32) {
        match self {
            HookOn::Phase(name) => name.shift(file, by),
            HookOn::Destroy => {}
            HookOn::Resource(_, target) => target.shift(file, by),
        }
    }
}

impl Shift for ExprKind {
    fn shift(&mut self, file: FileId, by: u32) {
        match self {
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => {}
            ExprKind::String(parts) => parts.shift(file, by),
            ExprKind::List(items) => items.shift(file, by),
            ExprKind::Map(entries) => entries.shift(file, by),
            ExprKind::Var(name) => name.shift(file, by),
            ExprKind::Member(target, name) => {
                target.shift(file, by);
                name.shift(file, by);
            }
            ExprKind::Index(target, index) => {
                target.shift(file, by);
                index.shift(file, by);
            }
            ExprKind::Splat(target) | ExprKind::Paren(target) | ExprKind::Unary(_, target) => target.shift(file, by),
            ExprKind::Call(callee, args) => {
                callee.shift(file, by);
                args.shift(file, by);
            }
            ExprKind::Binary(_, left, right) => {
                left.shift(file, by);
                right.shift(file, by);
            }
            ExprKind::Conditional(condition, then, otherwise) => {
                condition.shift(file, by);
                then.shift(file, by);
                otherwise.shift(file, by);
            }
        }
    }
}

impl Shift for StrPart {
    fn shift(&mut self, file: FileId, by: u32) {
        if let StrPart::Interp(e) = self {
            e.shift(file, by);
        }
    }
}
