//! The checker, case by case: each case is a source text and the diagnostic
//! codes (with the text they point at) it must produce, in order.

use std::collections::BTreeMap;
use std::path::Path;

use drone_lang::schema::{AttributeSchema, Field, FunctionSig, Presence};
use drone_lang::{Catalog, Located, ResourceSchema, SourceLoader, Type};

struct Files(BTreeMap<&'static str, &'static str>);

impl SourceLoader for Files {
    fn load(&self, path: &Path) -> Result<String, String> {
        self.0.get(path.to_str().unwrap_or_default()).map(|s| s.to_string()).ok_or_else(|| "no such file".into())
    }
}

fn catalog() -> Catalog {
    let a = |name: &str, ty: Type, presence: Presence| AttributeSchema {
        name: name.into(),
        ty,
        presence,
        force_new: false,
        sensitive: false,
        read_back: true,
        guarded: false,
        derived: None,
        doc: format!("the {name}"),
    };
    let mut c = Catalog::new();
    c.add_resource(ResourceSchema {
        type_name: "net.box".into(),
        doc: "a box".into(),
        taggable: false,
        attributes: vec![
            a("name", Type::String, Presence::Required),
            a("count", Type::Number, Presence::Optional),
            a("peer", Type::String, Presence::Optional),
            a(
                "rules",
                Type::list(Type::Object(vec![Field {
                    name: "port".into(),
                    ty: Type::Number,
                    required: true,
                    doc: "port".into(),
                }])),
                Presence::Optional,
            ),
            a("id", Type::String, Presence::Computed),
        ],
    });
    c.add_function(FunctionSig {
        name: "upper".into(),
        params: vec!["s".into()],
        min_args: 1,
        max_args: Some(1),
        returns: Type::String,
        doc: "upper".into(),
        policy_only: false,
    });
    c.add_function(FunctionSig {
        name: "resources".into(),
        params: vec!["type".into()],
        min_args: 1,
        max_args: Some(1),
        returns: Type::list(Type::Any),
        doc: "resources".into(),
        policy_only: true,
    });
    c.add_provider(
        "net",
        vec![Field { name: "region".into(), ty: Type::String, required: false, doc: "region".into() }],
    );
    c
}

/// Checks `src` (with `lib.drone` importable) and compares `code@text` pairs.
fn check(src: &str, expected: &[&str]) {
    let files = Files(
        [
            ("./lib.drone", "let greeting = \"hi\"\nlet number = 4\n"),
            ("./bad.drone", "resource net.box x { name = \"x\" }\n"),
        ]
        .into(),
    );
    let (program, load_errors) = drone_lang::load(Path::new("./main.drone"), src.to_string(), &files);
    let mut found: Vec<String> = load_errors.iter().map(|e| describe(e, &program)).collect();
    if load_errors.is_empty() {
        found.extend(drone_lang::check(&program, &catalog()).iter().map(|e| describe(e, &program)));
    }
    assert_eq!(found, expected, "\n{src}");
}

fn describe<D: miette::Diagnostic + Located>(e: &D, program: &drone_lang::Program) -> String {
    let code = e.code().map(|c| c.to_string()).unwrap_or_default();
    let code = code.trim_start_matches("drone::");
    format!("{code}@{}", program.sources.snippet(e.span()))
}

#[test]
fn valid_programs_have_no_errors() {
    check(r#"resource net.box a { name = "a" }"#, &[]);
    check("param n: number = 2\nresource net.box a {\n  name = upper(\"a\")\n  count = n * 2 + 1\n}", &[]);
    check("for i in [1, 2] {\n  let label = \"b${i}\"\n  resource net.box b { name = label }\n}\noutput ids = net.box.b[*].id", &[]);
    check("use \"lib.drone\" as lib\nresource net.box a { name = lib.greeting }", &[]);
    check("resource net.box a {\n  name = \"a\"\n  rules = [{ port = 1 }]\n}", &[]);
    check("provider net one { region = \"x\" }\nresource net.box a { name = \"a\" }", &[]);
}

#[test]
fn names_and_references() {
    check("resource net.box a { name = nme }", &["resolve::undefined@nme"]);
    check("let name = \"x\"\nresource net.box a { name = nmae }", &["resolve::undefined@nmae"]);
    check("resource net.box a {\n  name = \"a\"\n  peer = net.box.c.id\n}", &["resolve::unknown_resource@net.box.c"]);
    check(
        "resource net.box a {\n  name = \"a\"\n  peer = net.box.a.idd\n}",
        &["resolve::cycle@net.box.a", "type::unknown_attribute@idd"],
    );
    check("resource net.bx a { name = \"a\" }", &["type::unknown_resource_type@net.bx"]);
    check("resource net.box a { name = \"a\" }\nresource net.box a { name = \"b\" }", &["resolve::duplicate@a"]);
    check("let x = 1\nlet x = 2", &["resolve::duplicate@x"]);
    check("use \"lib.drone\" as lib\nlet y = lib.greting", &["resolve::undefined@greting"]);
    check("use \"missing.drone\" as m", &["import::failed@use \"missing.drone\" as m"]);
    check("use \"bad.drone\" as b", &["syntax::misplaced@resource net.box x { name = \"x\" }"]);
    check("for i in [1] {\n  resource net.box b { name = \"b\" }\n}\nlet x = net.box.b.id", &["type::invalid@id"]);
}

#[test]
fn types_and_calls() {
    check("resource net.box a { name = 1 }", &["type::mismatch@1"]);
    check("resource net.box a {\n  name = \"a\"\n  count = \"3\"\n}", &["type::mismatch@\"3\""]);
    check(
        "resource net.box a {\n  name = \"a\"\n  rules = [{ prot = 1 }]\n}",
        &["type::missing_attribute@{ prot = 1 }", "type::unknown_attribute@prot"],
    );
    check("resource net.box a {\n  name = \"a\"\n  id = \"x\"\n}", &["type::computed_attribute@id"]);
    check("resource net.box a { count = 1 }", &["type::missing_attribute@a"]);
    check("let x = upper(\"a\", \"b\")", &["call::arg_count@upper(\"a\", \"b\")"]);
    check("let x = uper(\"a\")", &["call::unknown_function@uper"]);
    check("let x = \"${[1]}\"", &["type::mismatch@[1]"]);
    check("if 1 {\n}", &["type::mismatch@1"]);
    check("param p: strin = \"x\"", &["type::unknown_type@strin"]);
}

#[test]
fn structure_phases_and_annotations() {
    check("phase p {\n  param x = 1\n}", &["syntax::misplaced@param x = 1"]);
    check("phase p after q {\n}", &["resolve::unknown_phase@q"]);
    check("phase p after q {\n}\nphase q after p {\n}", &["resolve::cycle@q"]);
    check(
        "phase late after early {\n  resource net.box a { name = \"a\" }\n}\nphase early {\n  resource net.box b { name = net.box.a.id }\n}",
        &["resolve::phase_order@net.box.a"],
    );
    check("@allow(x.y)\nresource net.box a { name = \"a\" }", &["annotation::invalid@@allow(x.y)"]);
    check("@allow(x.y, reason = \"ok\")\nresource net.box a { name = \"a\" }", &[]);
    check("@alow(x.y, reason = \"ok\")\nresource net.box a { name = \"a\" }", &["annotation::invalid@alow"]);
    check(
        "@allow(x.y, reason = \"ok\", until = \"2027-3-1\")\nresource net.box a { name = \"a\" }",
        &["annotation::invalid@\"2027-3-1\""],
    );
    check("@allow(x.y, reason = \"ok\", until = \"2027-03-01\")\nresource net.box a { name = \"a\" }", &[]);
    check("let x = resources(\"net.box\")", &["type::invalid@resources"]);
    check("policy a.b {\n  title = \"t\"\n  severity = \"fatal\"\n}", &["type::invalid@\"fatal\""]);
    check(
        "policy a.b {\n  severity = \"error\"\n  flag x, \"m\"\n}",
        &["type::missing_attribute@a.b", "resolve::undefined@x"],
    );
    check("flag a, \"m\"", &["syntax::misplaced@flag a, \"m\""]);
    check(
        "provider net one {}\nprovider net two {}\nresource net.box a { name = \"a\" }",
        &["resolve::ambiguous_provider@a"],
    );
    check("provider net one { default = true }\nprovider net two {}\nresource net.box a { name = \"a\" }", &[]);
    check("provider net one { default = true }\nprovider net two { default = true }", &["resolve::duplicate@two"]);
    check(
        "provider net one {}\nresource net.box a {\n  name = \"a\"\n  provider = tow\n}",
        &["resolve::unknown_provider@tow"],
    );
    check("let a = b\nlet b = a", &["resolve::cycle@b"]);
}
