//! What the checker knows about resource types and functions. The standard
//! library fills a [`Catalog`]; the language only reads it, so `lang` never
//! learns about AWS.

use std::collections::BTreeMap;
use std::fmt;

/// A static type of the language.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    /// Anything; checked at evaluation time.
    Any,
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// A list of one element type.
    List(Box<Type>),
    /// A map from strings to one value type.
    Map(Box<Type>),
    /// A map with known fields.
    Object(Vec<Field>),
    /// A JSON document written as a map or list (e.g. an IAM policy).
    Json,
    /// A whole resource of the named type, as produced by a reference.
    Resource(String),
    /// A string that must be one of these values (an AWS enum); any string
    /// expression is accepted, and a literal is checked against the list.
    OneOf(Vec<String>),
}

/// One field of an object type.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Whether it must be given.
    pub required: bool,
    /// One line shown in hovers and messages.
    pub doc: String,
}

impl Type {
    /// `list(elem)`
    pub fn list(elem: Type) -> Type {
        Type::List(Box::new(elem))
    }

    /// `map(value)`
    pub fn map(value: Type) -> Type {
        Type::Map(Box::new(value))
    }

    /// `one of "A", "B"`
    pub fn one_of(values: &[&str]) -> Type {
        Type::OneOf(values.iter().map(|v| v.to_string()).collect())
    }

    /// Whether a value of type `found` may be used where `self` is expected.
    /// `Any` on either side is accepted: the evaluator checks it later.
    pub fn accepts(&self, found: &Type) -> bool {
        match (self, found) {
            (Type::Any, _) | (_, Type::Any) => true,
            (
                Type::Json,
                Type::Map(_) | Type::Object(_) | Type::List(_) | Type::String | Type::Json | Type::OneOf(_),
            ) => true,
            (Type::String | Type::OneOf(_), Type::String | Type::OneOf(_)) => true,
            (Type::List(a), Type::List(b)) => a.accepts(b),
            (Type::Map(a), Type::Map(b)) => a.accepts(b),
            (Type::Map(a), Type::Object(fields)) => fields.iter().all(|f| a.accepts(&f.ty)),
            (Type::Object(_), Type::Map(_) | Type::Object(_)) => true,
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => f.write_str("any"),
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Object(_) => f.write_str("object"),
            Type::Json => f.write_str("json document"),
            Type::Resource(t) => write!(f, "resource {t}"),
            Type::OneOf(values) => {
                let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
                write!(f, "one of {}", quoted.join(", "))
            }
        }
    }
}

/// Who sets an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// The user must set it.
    Required,
    /// The user may set it.
    Optional,
    /// The provider sets it; the user may not.
    Computed,
    /// The user may set it; if not, the provider chooses.
    OptionalComputed,
}

/// One attribute of a resource type.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeSchema {
    /// The attribute's name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Who sets it.
    pub presence: Presence,
    /// Whether changing it replaces the resource.
    pub force_new: bool,
    /// Whether its value is secret (never printed or stored in plain text).
    pub sensitive: bool,
    /// Whether the provider reads it back from the cloud, so a change made
    /// outside drone shows as drift (false: drone's own behaviour, such as
    /// `force_destroy`, or a secret the cloud never returns).
    pub read_back: bool,
    /// Whether drone owns it even where the workflow leaves it unset, which
    /// then means none (no rules, no policies, `false`): a policy rule judges
    /// it, so a value set outside drone is drift and is undone.
    pub guarded: bool,
    /// For a computed attribute that the configuration alone determines, its
    /// template over other attributes (`arn:aws:s3:::{name}`): policies judge
    /// its value before apply instead of calling it unknown.
    pub derived: Option<String>,
    /// One line shown in hovers and messages.
    pub doc: String,
}

impl AttributeSchema {
    /// Whether the user may write this attribute.
    pub fn settable(&self) -> bool {
        self.presence != Presence::Computed
    }

    /// Whether the provider reports a value for it after apply.
    pub fn computed(&self) -> bool {
        matches!(self.presence, Presence::Computed | Presence::OptionalComputed)
    }
}

/// A resource type: its attributes and how it behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceSchema {
    /// The dotted type name, e.g. `aws.ec2.vpc`.
    pub type_name: String,
    /// One line describing the type.
    pub doc: String,
    /// The attributes, in documentation order.
    pub attributes: Vec<AttributeSchema>,
    /// Whether the resource carries tags (drone adds its own).
    pub taggable: bool,
}

impl ResourceSchema {
    /// The attribute named `name`.
    pub fn attribute(&self, name: &str) -> Option<&AttributeSchema> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// A built-in function's signature.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionSig {
    /// The function's name.
    pub name: String,
    /// Parameter names, for messages and hovers.
    pub params: Vec<String>,
    /// Fewest arguments accepted.
    pub min_args: usize,
    /// Most arguments accepted (`None`: any number).
    pub max_args: Option<usize>,
    /// The result type.
    pub returns: Type,
    /// One line describing the function.
    pub doc: String,
    /// Whether it may be called only inside `policy` blocks (graph queries).
    pub policy_only: bool,
}

/// Attribute names that every resource accepts, whatever its type.
pub const META_ATTRIBUTES: [&str; 3] = ["provider", "depends_on", "lifecycle"];

/// The settings a resource's `lifecycle` block accepts.
pub const LIFECYCLE_SETTINGS: [&str; 3] = ["ignore_changes", "prevent_destroy", "create_before_destroy"];

/// The setting, valid in every provider block, that makes it the one used by
/// resources that name none.
pub const DEFAULT_PROVIDER_SETTING: &str = "default";

/// Everything the checker knows: resource types and functions.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    resources: BTreeMap<String, ResourceSchema>,
    functions: BTreeMap<String, FunctionSig>,
    providers: BTreeMap<String, Vec<Field>>,
    grants: BTreeMap<String, GrantSchema>,
}

/// A kind of grant a script may hold, such as `s3.delete_objects(aws.s3.bucket.logs)`.
#[derive(Clone, Debug)]
pub struct GrantSchema {
    /// How it is written: `s3.delete_objects`, `mysql`, `read`.
    pub name: String,
    /// One line saying what it allows.
    pub doc: String,
    /// The resource types its targets may have (empty: any resource).
    pub target_types: Vec<String>,
    /// Fewest and most targets (resource references written as arguments).
    pub targets: (usize, Option<usize>),
    /// Named options, written out as literals (`tables = ["posts"]`).
    pub options: Vec<Field>,
    /// The values each option may hold (empty: any).
    pub choices: BTreeMap<String, Vec<String>>,
    /// Options that may instead be written as a map from their items to another
    /// option's value: `tables = { posts = ["select"] }` gives each table its own `ops`.
    pub keyed: BTreeMap<String, String>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a resource type.
    pub fn add_resource(&mut self, schema: ResourceSchema) {
        self.resources.insert(schema.type_name.clone(), schema);
    }

    /// Adds a function.
    pub fn add_function(&mut self, sig: FunctionSig) {
        self.functions.insert(sig.name.clone(), sig);
    }

    /// Adds a provider kind and the settings its instances take.
    pub fn add_provider(&mut self, kind: impl Into<String>, settings: Vec<Field>) {
        self.providers.insert(kind.into(), settings);
    }

    /// Adds a kind of grant.
    pub fn add_grant(&mut self, grant: GrantSchema) {
        self.grants.insert(grant.name.clone(), grant);
    }

    /// The kind of grant written `name`.
    pub fn grant(&self, name: &str) -> Option<&GrantSchema> {
        self.grants.get(name)
    }

    /// Every kind of grant.
    pub fn grants(&self) -> impl Iterator<Item = &GrantSchema> {
        self.grants.values()
    }

    /// The settings of provider kind `kind`.
    pub fn provider(&self, kind: &str) -> Option<&Vec<Field>> {
        self.providers.get(kind)
    }

    /// The provider kinds, by name.
    pub fn provider_kinds(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }

    /// The resource type named `name`.
    pub fn resource(&self, name: &str) -> Option<&ResourceSchema> {
        self.resources.get(name)
    }

    /// All resource types, by name.
    pub fn resources(&self) -> impl Iterator<Item = &ResourceSchema> {
        self.resources.values()
    }

    /// The function named `name`.
    pub fn function(&self, name: &str) -> Option<&FunctionSig> {
        self.functions.get(name)
    }

    /// All functions, by name.
    pub fn functions(&self) -> impl Iterator<Item = &FunctionSig> {
        self.functions.values()
    }

    /// Whether `name` is the first segment of some resource type (e.g. `aws`).
    pub fn is_namespace(&self, name: &str) -> bool {
        self.resources.keys().any(|k| k.split('.').next() == Some(name))
    }

    /// Whether some resource type starts with `prefix.`.
    pub fn is_type_prefix(&self, prefix: &str) -> bool {
        self.resources
            .keys()
            .any(|k| k.len() > prefix.len() && k.starts_with(prefix) && k.as_bytes()[prefix.len()] == b'.')
    }
}
