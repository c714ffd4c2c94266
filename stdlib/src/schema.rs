//! The catalog the checker reads, built from the registry, and the helpers
//! each type's module writes its schema with (attribute names, types, who
//! sets them, which changes replace the resource, a one-line doc each, which
//! the language server shows). Pure data; needs no AWS SDK.

use drone_lang::schema::{AttributeSchema, Field, Presence, ResourceSchema, Type};
use drone_lang::Catalog;

/// The full catalog: AWS resource types, built-in functions, provider settings.
pub fn catalog() -> Catalog {
    let mut c = Catalog::new();
    for schema in resources() {
        c.add_resource(schema);
    }
    for grant in crate::grants::GRANTS {
        c.add_grant(grant.schema());
    }
    for f in drone_engine::functions::signatures().into_iter().chain(drone_engine::policy::signatures()) {
        c.add_function(f);
    }
    c.add_provider(
        "aws",
        vec![
            field(
                "region",
                Type::String,
                false,
                "the AWS region, e.g. \"eu-west-1\" (default: from the environment or profile)",
            ),
            field("profile", Type::String, false, "a named profile from the AWS config files"),
        ],
    );
    c
}

/// Every resource type's schema, from the registry.
pub fn resources() -> Vec<ResourceSchema> {
    crate::registry::TYPES.iter().map(|t| t.schema()).collect()
}

/// A schema from its parts; a taggable type gets a `tags` attribute.
pub(crate) fn resource(
    type_name: &str,
    doc: &str,
    taggable: bool,
    mut attributes: Vec<AttributeSchema>,
) -> ResourceSchema {
    if taggable {
        attributes.push(optional(
            "tags",
            Type::map(Type::String),
            "tags to set; drone adds `drone:workflow` and `drone:address`",
        ));
    }
    ResourceSchema { type_name: type_name.into(), doc: doc.into(), attributes, taggable }
}

fn attribute(name: &str, ty: Type, presence: Presence, doc: &str) -> AttributeSchema {
    AttributeSchema {
        name: name.into(),
        ty,
        presence,
        force_new: false,
        sensitive: false,
        read_back: true,
        guarded: false,
        derived: None,
        doc: doc.into(),
    }
}

pub(crate) fn required(name: &str, ty: Type, doc: &str) -> AttributeSchema {
    attribute(name, ty, Presence::Required, doc)
}

pub(crate) fn optional(name: &str, ty: Type, doc: &str) -> AttributeSchema {
    attribute(name, ty, Presence::Optional, doc)
}

pub(crate) fn computed(name: &str, ty: Type, doc: &str) -> AttributeSchema {
    attribute(name, ty, Presence::Computed, doc)
}

pub(crate) fn chosen(name: &str, ty: Type, doc: &str) -> AttributeSchema {
    attribute(name, ty, Presence::OptionalComputed, doc)
}

pub(crate) fn field(name: &str, ty: Type, required: bool, doc: &str) -> Field {
    Field { name: name.into(), ty, required, doc: doc.into() }
}

/// Builder-style modifiers for attribute schemas.
pub(crate) trait AttributeExt {
    /// Changing it replaces the resource.
    fn replaces(self) -> Self;
    /// Its value is secret (and never read back: AWS does not return secrets).
    fn sensitive(self) -> Self;
    /// drone's own behaviour, not a setting AWS keeps: never read back.
    fn drone_side(self) -> Self;
    /// Owned by drone even when unset (then it means none), because a policy rule judges it.
    fn guarded(self) -> Self;
    /// Computed, but determined by the configuration: `template` names other attributes in braces.
    fn derived(self, template: &str) -> Self;
}

impl AttributeExt for AttributeSchema {
    fn derived(mut self, template: &str) -> Self {
        self.derived = Some(template.into());
        self
    }

    fn replaces(mut self) -> Self {
        self.force_new = true;
        self
    }

    fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self.read_back = false;
        self
    }

    fn drone_side(mut self) -> Self {
        self.read_back = false;
        self
    }

    fn guarded(mut self) -> Self {
        self.guarded = true;
        self
    }
}
