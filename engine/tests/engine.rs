//! The engine in isolation: evaluation, planning and the scheduler, against
//! an in-memory provider. (The AWS provider is tested against moto in the
//! workspace's end-to-end tests.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use drone_engine::apply::{apply, ApplyInput, ApplyOptions, Operation, Providers, Silent, Status, Store};
use drone_engine::eval::{expand, EvalInput};
use drone_engine::functions::CallContext;
use drone_engine::host::MemoryHost;
use drone_engine::model::Model;
use drone_engine::plan::{plan, plan_destroy, ActionKind};
use drone_engine::provider::{
    CreateRequest, ErrorKind, FindRequest, Found, Observed, Owner, Provider, ProviderError, Target, UpdateRequest,
};
use drone_engine::scripts::{ScriptEvent, Scripts, Snapshot};
use drone_engine::state::{LocalBackend, State};
use drone_engine::value::{Attributes, Value};
use drone_lang::schema::{AttributeSchema, Presence};
use drone_lang::{Catalog, ResourceSchema, SourceLoader, Type};

fn attr(name: &str, ty: Type, presence: Presence, force_new: bool) -> AttributeSchema {
    AttributeSchema {
        name: name.into(),
        ty,
        presence,
        force_new,
        sensitive: false,
        read_back: true,
        guarded: false,
        derived: None,
        doc: name.into(),
    }
}

fn catalog() -> Catalog {
    let mut c = Catalog::new();
    c.add_resource(ResourceSchema {
        type_name: "test.thing".into(),
        doc: "a thing".into(),
        taggable: false,
        attributes: vec![
            attr("name", Type::String, Presence::Required, true),
            attr("size", Type::Number, Presence::Optional, false),
            attr("peer", Type::String, Presence::Optional, false),
            attr("password", Type::String, Presence::Optional, false),
            attr("id", Type::String, Presence::Computed, false),
            attr("arn", Type::String, Presence::Computed, false),
        ],
    });
    for f in drone_engine::functions::signatures() {
        c.add_function(f);
    }
    c.add_provider("test", Vec::new());
    c
}

struct NoFiles;

impl SourceLoader for NoFiles {
    fn load(&self, path: &Path) -> Result<String, String> {
        Err(format!("{}: not found", path.display()))
    }
}

fn model(src: &str) -> Model {
    let catalog = catalog();
    let (program, errors) = drone_lang::load(Path::new("t.drone"), src.to_string(), &NoFiles);
    assert!(errors.is_empty(), "{errors:?}");
    let errors = drone_lang::check(&program, &catalog);
    assert!(errors.is_empty(), "{errors:?}");
    let host = test_host();
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    expand(&program, &catalog, &EvalInput { params: &BTreeMap::new(), cx: &cx, missing_unknown: false })
        .expect("expands")
}

/// An in-memory cloud that records what it was asked, and when.
#[derive(Default)]
struct Fake {
    log: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    fail: BTreeMap<String, ErrorKind>,
    /// Names whose create fails after the resource exists (partial create).
    half_fail: BTreeSet<String>,
    /// Names whose create makes the resource without its `size`, then is throttled.
    half_throttle: BTreeSet<String>,
    /// Names whose create happens but whose reply is lost, this many times.
    lose_reply: Mutex<BTreeMap<String, usize>>,
    /// What exists: id -> (drone:address, attributes).
    account: Mutex<BTreeMap<String, (String, Attributes)>>,
    /// The state file, checked at each create for the create's intent.
    state_file: Option<std::path::PathBuf>,
    /// Names that are throttled this many times before succeeding.
    throttle: Mutex<BTreeMap<String, usize>>,
    next_id: AtomicUsize,
}

impl Fake {
    fn events(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    fn position(&self, event: &str) -> usize {
        self.events().iter().position(|e| e == event).unwrap_or_else(|| panic!("no event {event}: {:?}", self.events()))
    }

    async fn work(&self, event: String) {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        self.log.lock().expect("log").push(format!("start {event}"));
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.log.lock().expect("log").push(format!("end {event}"));
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl Provider for Fake {
    async fn identity(&self) -> Result<Target, ProviderError> {
        Ok(Target { account: "1".into(), region: "test".into(), endpoint: None })
    }

    async fn create(&self, r: CreateRequest<'_>) -> Result<Observed, ProviderError> {
        let name = r.config.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        if let Some(n) = self.throttle.lock().expect("throttle").get_mut(&name).filter(|n| **n > 0) {
            *n -= 1;
            return Err(ProviderError::new(ErrorKind::Throttled, "Create", "slow down"));
        }
        self.work(format!("create {name}")).await;
        if let Some(kind) = self.fail.get(&name) {
            return Err(ProviderError::new(*kind, "Create", format!("{name} refused")));
        }
        if let Some(path) = &self.state_file {
            let saved = LocalBackend::new(path.clone()).load("t").expect("state loads");
            let intent = saved.pending.get(r.address).filter(|i| i.token == r.token);
            self.log.lock().expect("log").push(format!("intent {name} on disk: {}", intent.is_some()));
        }
        let id = format!("id-{}", self.next_id.fetch_add(1, Ordering::SeqCst));
        let mut attributes = r.config.clone();
        let half_throttle = self.half_throttle.contains(&name);
        if half_throttle {
            attributes.insert("size".into(), Value::Null);
        }
        self.account.lock().expect("account").insert(id.clone(), (r.address.to_string(), attributes));
        if self.half_fail.contains(&name) {
            return Err(ProviderError::new(ErrorKind::Rejected, "Configure", "second step failed").after_create(&id));
        }
        if half_throttle {
            return Err(ProviderError::new(ErrorKind::Throttled, "Configure", "slow down").after_create(&id));
        }
        if let Some(n) = self.lose_reply.lock().expect("lose").get_mut(&name).filter(|n| **n > 0) {
            *n -= 1;
            return Err(ProviderError::new(ErrorKind::Indeterminate, "Create", "the reply was lost"));
        }
        let arn = Value::String(format!("arn:{id}"));
        Ok(Observed { id, attributes: [("arn".to_string(), arn)].into() })
    }

    async fn read(&self, _: &str, id: &str, _: &Attributes) -> Result<Option<Observed>, ProviderError> {
        let found = self.account.lock().expect("account").get(id).map(|(_, a)| a.clone());
        Ok(found.map(|attributes| Observed { id: id.into(), attributes }))
    }

    async fn find(&self, f: FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
        self.log.lock().expect("log").push(format!("find {}", f.address));
        let account = self.account.lock().expect("account");
        let found = account.iter().find(|(_, (address, _))| address == f.address);
        Ok(found.map(|(id, _)| Found { id: id.clone(), owner: Owner::This }))
    }

    async fn update(&self, r: UpdateRequest<'_>) -> Result<Observed, ProviderError> {
        let name = r.config.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        self.work(format!("update {name}")).await;
        if let Some((_, attributes)) = self.account.lock().expect("account").get_mut(r.id) {
            *attributes = r.config.clone();
        }
        Ok(Observed { id: r.id.into(), attributes: Attributes::new() })
    }

    async fn delete(&self, _: &str, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
        let name = prior.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        self.work(format!("delete {name}")).await;
        self.account.lock().expect("account").remove(id);
        Ok(())
    }
}

struct Run {
    report: drone_engine::apply::Report,
    state: State,
}

/// The host the runs read: one variable (`PW`), no files, a fixed date.
fn test_host() -> MemoryHost {
    MemoryHost {
        vars: [("PW".to_string(), "s3cret".to_string())].into(),
        files: BTreeMap::new(),
        today: "2026-11-24".into(),
        ..MemoryHost::default()
    }
}

async fn run(model: &Model, fake: Arc<Fake>, state: State, dir: &Path, concurrency: usize) -> Run {
    run_planned_here(model, fake, state, dir, concurrency, None).await
}

/// [`run`] with the workflow's scripts.
async fn run_with_scripts(model: &Model, fake: Arc<Fake>, state: State, dir: &Path, scripts: Arc<dyn Scripts>) -> Run {
    run_planned_here(model, fake, state, dir, 1, Some(scripts)).await
}

/// Plans `model` against `state`, then applies the plan.
async fn run_planned_here(
    model: &Model,
    fake: Arc<Fake>,
    state: State,
    dir: &Path,
    concurrency: usize,
    scripts: Option<Arc<dyn Scripts>>,
) -> Run {
    let catalog = catalog();
    let host = test_host();
    let cx = CallContext { host: &host, salt: &state.lineage.clone(), resolve_secrets: true };
    let the_plan = plan(model, &catalog, &state, &cx).expect("plan");
    run_plan_with(model, fake, state, dir, concurrency, &the_plan, scripts).await
}

/// Applies `the_plan` with the fake provider (and the workflow's scripts, if any).
async fn run_plan_with(
    model: &Model,
    fake: Arc<Fake>,
    state: State,
    dir: &Path,
    concurrency: usize,
    the_plan: &drone_engine::plan::Plan,
    scripts: Option<Arc<dyn Scripts>>,
) -> Run {
    let catalog = catalog();
    let host = test_host();
    let salt = state.lineage.clone();
    let cx = CallContext { host: &host, salt: &salt, resolve_secrets: true };
    let mut providers: Providers = BTreeMap::new();
    for name in model.providers.keys() {
        providers.insert(name.clone(), fake.clone() as Arc<dyn Provider>);
    }
    let options = ApplyOptions { concurrency, attempts: 4, backoff: Duration::from_millis(1) };
    let input = ApplyInput {
        model,
        catalog: &catalog,
        plan: the_plan,
        providers: &providers,
        cx: &cx,
        options: &options,
        observer: &Silent,
        stop: None,
        scripts,
    };
    let mut store = Store { state, backend: std::sync::Arc::new(LocalBackend::new(dir.join("state.json"))) };
    let report = apply(&input, &mut store).await.expect("state saves");
    Run { report, state: store.state }
}

#[tokio::test]
async fn concurrency_is_bounded_and_dependencies_go_first() {
    let mut src = String::from("resource test.thing root { name = \"root\" }\n");
    for i in 0..12 {
        src.push_str(&format!(
            "resource test.thing leaf{i} {{\n  name = \"leaf{i}\"\n  peer = test.thing.root.id\n}}\n"
        ));
    }
    let m = model(&src);
    let fake = Arc::new(Fake::default());
    let dir = tempfile::tempdir().expect("dir");
    let out = run(&m, fake.clone(), State::new("t"), dir.path(), 3).await;
    assert!(out.report.succeeded());
    assert_eq!(out.state.resources.len(), 13);
    assert_eq!(fake.max_in_flight.load(Ordering::SeqCst), 3, "at most 3 in flight, and the limit is used");
    let root_done = fake.position("end create root");
    for i in 0..12 {
        assert!(fake.position(&format!("start create leaf{i}")) > root_done);
    }
    // The leaves were given the root's real id.
    let root_id = out.state.resources["test.thing.root"].id.clone();
    assert_eq!(out.state.resources["test.thing.leaf0"].attributes["peer"], Value::String(root_id));
    let saved = LocalBackend::new(dir.path().join("state.json")).load("t").expect("saved");
    assert_eq!(saved.serial, 26, "each operation is recorded twice: its intent, then its result");
    assert!(saved.pending.is_empty(), "every intent was replaced by its result");
    assert_eq!(saved.resources.len(), 13);
}

#[tokio::test]
async fn a_failure_skips_dependants_and_lets_independent_work_finish() {
    let m = model(
        r#"
resource test.thing a { name = "a" }
resource test.thing b {
  name = "b"
  peer = test.thing.a.id
}
resource test.thing c { name = "c" }
"#,
    );
    let fake = Arc::new(Fake { fail: [("a".to_string(), ErrorKind::Rejected)].into(), ..Fake::default() });
    let dir = tempfile::tempdir().expect("dir");
    let out = run(&m, fake.clone(), State::new("t"), dir.path(), 4).await;
    let status: BTreeMap<&str, &Status> = out.report.outcomes.iter().map(|o| (o.address.as_str(), &o.status)).collect();
    assert!(matches!(status["test.thing.a"], Status::Failed(r) if r.contains("a refused")));
    assert_eq!(status["test.thing.b"], &Status::Skipped("`test.thing.a` did not succeed".into()));
    assert_eq!(status["test.thing.c"], &Status::Done);
    assert_eq!(out.state.resources.keys().collect::<Vec<_>>(), vec!["test.thing.c"]);
}

#[tokio::test]
async fn a_failed_phase_stops_later_phases() {
    let m = model(
        r#"
phase one {
  resource test.thing a { name = "a" }
}
phase two after one {
  resource test.thing b { name = "b" }
}
"#,
    );
    let fake = Arc::new(Fake { fail: [("a".to_string(), ErrorKind::Rejected)].into(), ..Fake::default() });
    let dir = tempfile::tempdir().expect("dir");
    let out = run(&m, fake.clone(), State::new("t"), dir.path(), 4).await;
    assert!(!fake.events().iter().any(|e| e.contains("create b")));
    let b = out.report.outcomes.iter().find(|o| o.address == "test.thing.b").expect("b reported");
    assert_eq!(b.status, Status::Skipped("phase `one` failed".into()));
}

#[tokio::test]
async fn destroy_deletes_dependants_first() {
    let m = model(
        r#"
resource test.thing a { name = "a" }
resource test.thing b {
  name = "b"
  peer = test.thing.a.id
}
"#,
    );
    let fake = Arc::new(Fake::default());
    let dir = tempfile::tempdir().expect("dir");
    let created = run(&m, fake.clone(), State::new("t"), dir.path(), 4).await;
    let destroy = plan_destroy(&created.state);
    let out = run_plan_with(&m, fake.clone(), created.state, dir.path(), 4, &destroy, None).await;
    assert!(out.report.succeeded());
    assert!(out.state.resources.is_empty());
    assert!(fake.position("end delete b") < fake.position("start delete a"));
    assert_eq!(out.report.done(Operation::Delete).len(), 2);
}

#[tokio::test]
async fn throttling_is_retried() {
    let m = model("resource test.thing a { name = \"a\" }");
    let fake = Arc::new(Fake::default());
    fake.throttle.lock().expect("t").insert("a".into(), 2);
    let dir = tempfile::tempdir().expect("dir");
    let out = run(&m, fake.clone(), State::new("t"), dir.path(), 1).await;
    assert!(out.report.succeeded(), "{:?}", out.report);
    assert_eq!(fake.throttle.lock().expect("t")["a"], 0);
}

#[tokio::test]
async fn a_partial_create_is_recorded_tainted_and_replaced_next_time() {
    let m = model("resource test.thing a { name = \"a\" }");
    let fake = Arc::new(Fake { half_fail: ["a".to_string()].into(), ..Fake::default() });
    let dir = tempfile::tempdir().expect("dir");
    let out = run(&m, fake.clone(), State::new("t"), dir.path(), 1).await;
    assert!(!out.report.succeeded());
    let recorded = &out.state.resources["test.thing.a"];
    assert!(recorded.tainted, "the half-made resource is kept, marked tainted");
    let catalog = catalog();
    let host = MemoryHost::default();
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    let next = plan(&m, &catalog, &out.state, &cx).expect("plan");
    assert_eq!(next.actions[0].kind, ActionKind::Replace);
    assert_eq!(next.actions[0].reason.as_deref(), Some("its creation did not finish"));
}

#[tokio::test]
async fn plans_diff_update_replace_and_delete() {
    let fake = Arc::new(Fake::default());
    let dir = tempfile::tempdir().expect("dir");
    let first = model(
        r#"
resource test.thing a {
  name = "a"
  size = 1
  password = secret("env:PW")
}
resource test.thing b {
  name = "b"
  peer = test.thing.a.id
}
resource test.thing gone { name = "gone" }
"#,
    );
    let created = run(&first, fake, State::new("t"), dir.path(), 4).await;
    assert!(created.report.succeeded());
    let stored = serde_json::to_string(&created.state).expect("json");
    assert!(!stored.contains("s3cret"), "plaintext secret in state");

    let catalog = catalog();
    let host = test_host();
    let cx = CallContext { host: &host, salt: &created.state.lineage, resolve_secrets: true };
    let same = plan(&first, &catalog, &created.state, &cx).expect("plan");
    assert_eq!(same.count(ActionKind::NoOp), 3, "same secret, same fingerprint: no change");

    let second = model(
        r#"
resource test.thing a {
  name = "a2"
  size = 2
  password = secret("env:PW")
}
resource test.thing b {
  name = "b"
  peer = test.thing.a.id
}
"#,
    );
    let p = plan(&second, &catalog, &created.state, &cx).expect("plan");
    let by: BTreeMap<&str, &drone_engine::plan::Action> = p.actions.iter().map(|a| (a.address.as_str(), a)).collect();
    assert_eq!(by["test.thing.a"].kind, ActionKind::Replace);
    let forced: Vec<&str> =
        by["test.thing.a"].changes.iter().filter(|c| c.forces_replacement).map(|c| c.attribute.as_str()).collect();
    assert_eq!(forced, vec!["name"]);
    // b's peer becomes unknown because a is replaced; peer does not force replacement.
    assert_eq!(by["test.thing.b"].kind, ActionKind::Update);
    assert_eq!(by["test.thing.b"].changes[0].after, Some(Value::Unknown));
    assert_eq!(by["test.thing.gone"].kind, ActionKind::Delete);
}

#[test]
fn loop_addresses_are_keyed_by_value_not_position() {
    let a = model(
        r#"
for zone in ["b", "a"] {
  resource test.thing net { name = "net-${zone}" }
}
for key, size in { small = 1, large = 3 } {
  resource test.thing box {
    name = key
    size = size
  }
}
if length(["x"]) == 1 {
  resource test.thing yes { name = "y" }
} else {
  resource test.thing no { name = "n" }
}
"#,
    );
    let addresses: Vec<&str> = a.instances.keys().map(String::as_str).collect();
    assert_eq!(
        addresses,
        vec![
            "test.thing.box[\"large\"]",
            "test.thing.box[\"small\"]",
            "test.thing.net[\"a\"]",
            "test.thing.net[\"b\"]",
            "test.thing.yes",
        ]
    );
    let b = model(
        r#"
for zone in ["a", "b"] {
  resource test.thing net { name = "net-${zone}" }
}
"#,
    );
    assert!(b.instances.contains_key("test.thing.net[\"a\"]") && b.instances.contains_key("test.thing.net[\"b\"]"));
}

/// A loop over a map whose values refer to what is known only after apply: the keys decide the
/// addresses at plan, and each instance waits for what its value refers to and gets its real id.
#[tokio::test]
async fn a_map_loop_with_values_known_after_apply_waits_for_them() {
    let m = model(
        r#"
resource test.thing root { name = "root" }
for key, spec in {
  small = { size = 1, peer = test.thing.root.id }
  large = { size = 3, peer = test.thing.root.id }
} {
  resource test.thing box {
    name = key
    size = spec.size
    peer = spec.peer
  }
}
"#,
    );
    let small = "test.thing.box[\"small\"]";
    assert!(m.instances[small].deps.contains("test.thing.root"), "{:?}", m.instances[small].deps);
    let fake = Arc::new(Fake::default());
    let dir = tempfile::tempdir().expect("dir");
    let out = run(&m, fake.clone(), State::new("t"), dir.path(), 3).await;
    assert!(out.report.succeeded());
    assert!(fake.position("start create small") > fake.position("end create root"));
    let root_id = Value::String(out.state.resources["test.thing.root"].id.clone());
    assert_eq!(out.state.resources[small].attributes["peer"], root_id);
    assert_eq!(out.state.resources["test.thing.box[\"large\"]"].attributes["size"], Value::Number(3.0));
}

#[tokio::test]
async fn an_update_keeps_what_the_provider_computed_at_create() {
    let fake = Arc::new(Fake::default());
    let dir = tempfile::tempdir().expect("dir");
    let source = |size: u32| {
        format!("resource test.thing a {{\n  name = \"a\"\n  size = {size}\n}}\nresource test.thing b {{\n  name = \"b\"\n  peer = test.thing.a.arn\n}}\n")
    };
    let created = run(&model(&source(1)), fake.clone(), State::new("t"), dir.path(), 4).await;
    assert!(created.report.succeeded());
    let arn = created.state.resources["test.thing.a"].attributes["arn"].clone();
    assert_eq!(created.state.resources["test.thing.b"].attributes["peer"], arn);

    // The fake's update, like AWS's, returns nothing it computed.
    let updated = run(&model(&source(2)), fake, created.state, dir.path(), 4).await;
    assert!(updated.report.succeeded());
    assert_eq!(updated.state.resources["test.thing.a"].attributes["size"], Value::Number(2.0));
    assert_eq!(updated.state.resources["test.thing.a"].attributes["arn"], arn, "the ARN was lost in the update");
}

/// An account held in memory that a test changes behind drone's back; reads
/// answer what it holds, many at a time.
struct Account {
    resources: Mutex<BTreeMap<String, Attributes>>,
    batches: Mutex<Vec<usize>>,
}

#[async_trait]
impl Provider for Account {
    async fn identity(&self) -> Result<Target, ProviderError> {
        Ok(Target { account: "1".into(), region: "test".into(), endpoint: None })
    }

    async fn create(&self, _: CreateRequest<'_>) -> Result<Observed, ProviderError> {
        Err(ProviderError::new(ErrorKind::Unsupported, "Create", "read-only account"))
    }

    async fn read(&self, _: &str, id: &str, _: &Attributes) -> Result<Option<Observed>, ProviderError> {
        self.batches.lock().expect("batches").push(1);
        let found = self.resources.lock().expect("resources").get(id).cloned();
        Ok(found.map(|attributes| Observed { id: id.into(), attributes }))
    }

    fn batch_size(&self, _: &str) -> usize {
        2
    }

    async fn read_many(&self, _: &str, asked: &[(&str, &Attributes)]) -> Result<Vec<Option<Observed>>, ProviderError> {
        self.batches.lock().expect("batches").push(asked.len());
        let resources = self.resources.lock().expect("resources");
        Ok(asked
            .iter()
            .map(|(id, _)| resources.get(*id).map(|a| Observed { id: id.to_string(), attributes: a.clone() }))
            .collect())
    }

    async fn find(&self, _: FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
        Ok(None)
    }

    async fn update(&self, _: UpdateRequest<'_>) -> Result<Observed, ProviderError> {
        Err(ProviderError::new(ErrorKind::Unsupported, "Update", "read-only account"))
    }

    async fn delete(&self, _: &str, _: &str, _: &Attributes) -> Result<(), ProviderError> {
        Err(ProviderError::new(ErrorKind::Unsupported, "Delete", "read-only account"))
    }
}

#[tokio::test]
async fn refresh_reports_what_changed_outside_drone_and_the_plan_restores_it() {
    use drone_engine::refresh::refresh;
    let mut catalog = catalog();
    let mut schema = catalog.resource("test.thing").expect("schema").clone();
    let mut rules = attr("rules", Type::list(Type::String), Presence::Optional, false);
    rules.guarded = true;
    schema.attributes.push(rules);
    catalog.add_resource(schema);
    let src = r#"
provider test main { default = true }
resource test.thing a { name = "a"
  size = 1 }
resource test.thing b { name = "b"
  size = 2 }
resource test.thing c { name = "c" }
"#;
    let model = model(src);
    let mut state = State::new("t");
    let mut account = BTreeMap::new();
    for (name, size) in [("a", Some(1.0)), ("b", Some(2.0)), ("c", None)] {
        let mut attributes: Attributes = [("name".to_string(), Value::str(name))].into();
        if let Some(size) = size {
            attributes.insert("size".into(), Value::Number(size));
        }
        attributes.insert("id".into(), Value::str(format!("id-{name}")));
        state.resources.insert(
            format!("test.thing.{name}"),
            drone_engine::state::ResourceState {
                type_name: "test.thing".into(),
                id: format!("id-{name}"),
                provider: "main".into(),
                phase: "default".into(),
                dependencies: BTreeSet::new(),
                tainted: false,
                data: false,
                attributes: attributes.clone(),
            },
        );
        account.insert(format!("id-{name}"), attributes);
    }
    // Behind drone's back: a's size changes and someone sets its `peer` (unset in the
    // workflow, not guarded: not drone's); b is deleted; c gains a guarded rule.
    account.get_mut("id-a").expect("a").insert("size".into(), Value::Number(5.0));
    account.get_mut("id-a").expect("a").insert("peer".into(), Value::str("someone's"));
    account.remove("id-b");
    account.get_mut("id-c").expect("c").insert("rules".into(), Value::List(vec![Value::str("open")]));
    let provider = Arc::new(Account { resources: Mutex::new(account), batches: Mutex::new(Vec::new()) });
    let providers: Providers = [("main".to_string(), provider.clone() as Arc<dyn Provider>)].into();

    let refreshed = refresh(&state, &catalog, &providers, 4).await.expect("refresh");
    let mut batches = provider.batches.lock().expect("batches").clone();
    batches.sort_unstable();
    assert_eq!(batches, [1, 2], "three resources of one type, read two at a time");
    type Changed = (String, Value, Value);
    let summary: Vec<(String, bool, Vec<Changed>)> = refreshed
        .drift
        .iter()
        .map(|d| {
            let changes =
                d.changes.iter().map(|c| (c.attribute.clone(), c.recorded.clone(), c.actual.clone())).collect();
            (d.address.clone(), d.deleted, changes)
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("test.thing.a".to_string(), false, vec![("size".to_string(), Value::Number(1.0), Value::Number(5.0))]),
            ("test.thing.b".to_string(), true, vec![]),
            (
                "test.thing.c".to_string(),
                false,
                vec![("rules".to_string(), Value::Null, Value::List(vec![Value::str("open")]))]
            ),
        ]
    );
    assert!(!refreshed.state.resources.contains_key("test.thing.b"));
    assert!(!refreshed.state.resources["test.thing.a"].attributes.contains_key("peer"), "peer is not drone's");

    let host = MemoryHost::default();
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    let the_plan = plan(&model, &catalog, &refreshed.state, &cx).expect("plan").with_drift(refreshed.drift);
    let kinds: Vec<(&str, ActionKind, Vec<&str>, Option<&str>)> = the_plan
        .actions
        .iter()
        .map(|a| {
            let changed = a.changes.iter().map(|c| c.attribute.as_str()).collect();
            (a.address.as_str(), a.kind, changed, a.reason.as_deref())
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("test.thing.a", ActionKind::Update, vec!["size"], None),
            (
                "test.thing.b",
                ActionKind::Create,
                vec!["name", "size", "id", "arn"],
                Some("deleted outside drone (was id-b)")
            ),
            ("test.thing.c", ActionKind::Update, vec!["rules"], None),
        ]
    );
    let json = the_plan.to_json();
    assert_eq!(
        json["drift"][0]["changes"][0],
        serde_json::json!({ "attribute": "size", "recorded": 1, "actual": 5, "ignored": false })
    );
    assert_eq!(json["drift"][1]["deleted"], true);
}

/// `lifecycle.ignore_changes`: what something else owns keeps the account's
/// value (shown as drift, kept), whatever the workflow says; other attributes
/// of the same resource still change.
#[test]
fn ignored_attributes_keep_the_accounts_value_while_others_change() {
    let src = |peer: &str| {
        format!(
            r#"
provider test main {{ default = true }}
resource test.thing a {{
  name      = "a"
  size      = 2
  peer      = "{peer}"
  lifecycle = {{ ignore_changes = ["size"] }}
}}
"#
        )
    };
    let mut state = State::new("t");
    let attributes: Attributes = [
        ("name".to_string(), Value::str("a")),
        ("size".to_string(), Value::Number(7.0)),
        ("peer".to_string(), Value::str("x")),
        ("id".to_string(), Value::str("id-a")),
    ]
    .into();
    state.resources.insert(
        "test.thing.a".into(),
        drone_engine::state::ResourceState {
            type_name: "test.thing".into(),
            id: "id-a".into(),
            provider: "main".into(),
            phase: "default".into(),
            dependencies: BTreeSet::new(),
            tainted: false,
            data: false,
            attributes,
        },
    );
    let host = MemoryHost::default();
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    let drift = vec![drone_engine::refresh::Drift {
        address: "test.thing.a".into(),
        type_name: "test.thing".into(),
        id: "id-a".into(),
        deleted: false,
        changes: vec![drone_engine::refresh::DriftChange {
            attribute: "size".into(),
            recorded: Value::Number(2.0),
            actual: Value::Number(7.0),
            sensitive: false,
        }],
    }];
    let unchanged = plan(&model(&src("x")), &catalog(), &state, &cx).expect("plan").with_drift(drift);
    assert_eq!(unchanged.actions[0].kind, ActionKind::NoOp, "{:?}", unchanged.actions[0]);
    assert_eq!(unchanged.actions[0].ignored, ["size"]);
    let json = unchanged.to_json();
    assert_eq!(json["drift"][0]["changes"][0]["ignored"], true);
    assert_eq!(json["actions"][0]["ignored"], serde_json::json!(["size"]));

    let other = plan(&model(&src("y")), &catalog(), &state, &cx).expect("plan");
    let changed: Vec<&str> = other.actions[0].changes.iter().map(|c| c.attribute.as_str()).collect();
    assert_eq!((other.actions[0].kind, changed), (ActionKind::Update, vec!["peer"]));
    // Without the lifecycle setting, the plan would put the workflow's size back.
    let owned = src("x").replace("  lifecycle = { ignore_changes = [\"size\"] }\n", "");
    let restoring = plan(&model(&owned), &catalog(), &state, &cx).expect("plan");
    let changed: Vec<&str> = restoring.actions[0].changes.iter().map(|c| c.attribute.as_str()).collect();
    assert_eq!(changed, ["size"]);
}

/// Sets a stop flag when the `nth` operation starts, as a Ctrl-C would.
struct StopAt<'a> {
    flag: &'a std::sync::atomic::AtomicBool,
    nth: usize,
    started: AtomicUsize,
}

impl drone_engine::apply::Observer for StopAt<'_> {
    fn started(&self, _: &str, _: Operation) {
        if self.started.fetch_add(1, Ordering::SeqCst) + 1 == self.nth {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
    fn finished(&self, _: &drone_engine::apply::Outcome, _: Duration) {}
}

#[tokio::test]
async fn a_stop_lets_operations_in_flight_finish_and_starts_no_more() {
    let mut src = String::new();
    for i in 0..8 {
        src.push_str(&format!("resource test.thing t{i} {{ name = \"t{i}\" }}\n"));
    }
    let m = model(&src);
    let fake = Arc::new(Fake::default());
    let dir = tempfile::tempdir().expect("dir");
    let catalog = catalog();
    let host = MemoryHost::default();
    let state = State::new("t");
    let cx = CallContext { host: &host, salt: &state.lineage.clone(), resolve_secrets: true };
    let the_plan = plan(&m, &catalog, &state, &cx).expect("plan");
    let providers: Providers = m.providers.keys().map(|n| (n.clone(), fake.clone() as Arc<dyn Provider>)).collect();
    let options = ApplyOptions { concurrency: 3, attempts: 1, backoff: Duration::from_millis(1) };
    let flag = std::sync::atomic::AtomicBool::new(false);
    // Stopped as the third of three concurrent operations starts.
    let observer = StopAt { flag: &flag, nth: 3, started: AtomicUsize::new(0) };
    let input = ApplyInput {
        model: &m,
        catalog: &catalog,
        plan: &the_plan,
        providers: &providers,
        cx: &cx,
        options: &options,
        observer: &observer,
        stop: Some(&flag),
        scripts: None,
    };
    let mut store = Store { state, backend: std::sync::Arc::new(LocalBackend::new(dir.path().join("state.json"))) };
    let report = apply(&input, &mut store).await.expect("state saves");
    let done = report.done(Operation::Create);
    assert_eq!(done.len(), 3, "the three in flight finished: {:?}", report.outcomes);
    let skipped: Vec<&str> = report
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Skipped("interrupted before it started".into()))
        .map(|o| o.address.as_str())
        .collect();
    assert_eq!(skipped.len(), 5, "{:?}", report.outcomes);
    assert_eq!(fake.events().iter().filter(|e| e.starts_with("start")).count(), 3, "nothing started after the stop");
    let saved = LocalBackend::new(dir.path().join("state.json")).load("t").expect("saved");
    assert_eq!(saved.resources.len(), 3, "what finished is saved");
}

#[tokio::test]
async fn a_throttling_service_gets_fewer_operations_in_flight() {
    let mut src = String::new();
    for i in 0..24 {
        src.push_str(&format!("resource test.thing t{i} {{ name = \"t{i}\" }}\n"));
    }
    let m = model(&src);
    // The first eight are throttled once each, as a rate limit would.
    let fake =
        Arc::new(Fake { throttle: Mutex::new((0..8).map(|i| (format!("t{i}"), 1)).collect()), ..Fake::default() });
    let dir = tempfile::tempdir().expect("dir");
    let out = run(&m, fake.clone(), State::new("t"), dir.path(), 8).await;
    assert!(out.report.succeeded(), "{:?}", out.report.outcomes);
    assert_eq!(out.state.resources.len(), 24);
    let budget = out.report.concurrency["test"];
    assert!(budget < 8, "the budget shrank after throttling and has not regrown to the limit: {budget}");
    // Once throttled, the service never again had the whole limit in flight.
    let mut active = 0usize;
    let mut most_after_throttle = 0usize;
    for event in fake.events() {
        if let Some(name) = event.strip_prefix("start create ") {
            active += 1;
            let index: usize = name.trim_start_matches('t').parse().expect("index");
            if index >= 8 {
                most_after_throttle = most_after_throttle.max(active);
            }
        } else if event.starts_with("end ") {
            active -= 1;
        }
    }
    assert!((1..8).contains(&most_after_throttle), "{most_after_throttle} in flight after throttling");

    // Without throttling, the whole limit is used and kept.
    let calm = Arc::new(Fake::default());
    let dir = tempfile::tempdir().expect("dir");
    let out = run(&m, calm.clone(), State::new("t"), dir.path(), 8).await;
    assert_eq!(out.report.concurrency["test"], 8);
    assert_eq!(calm.max_in_flight.load(Ordering::SeqCst), 8);
}

#[tokio::test]
async fn every_create_is_on_disk_as_an_intent_before_it_is_called() {
    let dir = tempfile::tempdir().expect("dir");
    let fake = Arc::new(Fake { state_file: Some(dir.path().join("state.json")), ..Fake::default() });
    let src = "resource test.thing a { name = \"a\" }\nresource test.thing b {\n  name = \"b\"\n  peer = test.thing.a.id\n}\n";
    let out = run(&model(src), fake.clone(), State::new("t"), dir.path(), 4).await;
    assert!(out.report.succeeded());
    for name in ["a", "b"] {
        fake.position(&format!("intent {name} on disk: true"));
    }
    assert!(out.state.pending.is_empty());
}

#[tokio::test]
async fn a_create_whose_reply_was_lost_is_looked_up_and_adopted_not_repeated() {
    let fake = Arc::new(Fake { lose_reply: Mutex::new([("a".to_string(), 1)].into()), ..Fake::default() });
    let dir = tempfile::tempdir().expect("dir");
    let out =
        run(&model("resource test.thing a { name = \"a\" }\n"), fake.clone(), State::new("t"), dir.path(), 4).await;
    assert!(out.report.succeeded(), "{:?}", out.report);
    let creates = fake.events().iter().filter(|e| e.starts_with("start create a")).count();
    assert_eq!(creates, 1, "the create was not repeated: {:?}", fake.events());
    fake.position("find test.thing.a");
    assert_eq!(fake.account.lock().expect("account").len(), 1, "one resource, not two");
    let recorded = &out.state.resources["test.thing.a"];
    assert!(!recorded.tainted);
    assert!(fake.account.lock().expect("account").contains_key(&recorded.id));
}

#[tokio::test]
async fn a_create_throttled_after_it_made_the_resource_is_finished_in_place() {
    let fake = Arc::new(Fake { half_throttle: ["a".to_string()].into(), ..Fake::default() });
    let dir = tempfile::tempdir().expect("dir");
    let src = "resource test.thing a {\n  name = \"a\"\n  size = 3\n}\n";
    let out = run(&model(src), fake.clone(), State::new("t"), dir.path(), 4).await;
    assert!(out.report.succeeded(), "{:?}", out.report);
    let recorded = &out.state.resources["test.thing.a"];
    assert!(!recorded.tainted, "finished, not marked for replacement");
    let creates = fake.events().iter().filter(|e| e.starts_with("start create")).count();
    assert_eq!(creates, 1);
    fake.position("start update a");
    let account = fake.account.lock().expect("account");
    assert_eq!(account.len(), 1);
    assert_eq!(account[&recorded.id].1.get("size"), Some(&Value::Number(3.0)), "only the failed step was redone");
}

#[tokio::test]
async fn recovery_adopts_what_a_killed_create_made_and_forgets_what_it_did_not() {
    use drone_engine::state::{Intent, Operation as Op};
    let fake = Arc::new(Fake::default());
    fake.account
        .lock()
        .expect("account")
        .insert("id-made".into(), ("test.thing.made".into(), [("name".to_string(), Value::str("made"))].into()));
    let mut state = State::new("t");
    for name in ["made", "never"] {
        let intent = Intent {
            operation: Op::Create,
            type_name: "test.thing".into(),
            provider: "default".into(),
            phase: "default".into(),
            dependencies: BTreeSet::new(),
            token: Intent::token(&state.lineage, name, 1),
            started: 0,
            attributes: [("name".to_string(), Value::str(name))].into(),
        };
        state.pending.insert(format!("test.thing.{name}"), intent);
    }
    // The intents survive a save and a load: they are what a killed run leaves.
    let dir = tempfile::tempdir().expect("dir");
    let backend = LocalBackend::new(dir.path().join("state.json"));
    backend.save(&mut state).expect("save");
    let state = backend.load("t").expect("load");
    assert_eq!(state.pending.len(), 2);
    let providers: Providers = [("default".to_string(), fake.clone() as Arc<dyn Provider>)].into();
    let (recovered, resolved) = drone_engine::refresh::recover(&state, &providers).await.expect("recover");
    assert!(recovered.pending.is_empty());
    assert_eq!(recovered.resources["test.thing.made"].id, "id-made");
    assert!(!recovered.resources.contains_key("test.thing.never"));
    let adopted: Vec<_> = resolved.iter().map(|r| (r.address.as_str(), r.adopted.as_deref())).collect();
    assert_eq!(adopted, [("test.thing.made", Some("id-made")), ("test.thing.never", None)]);

    // A delete the killed run had finished: gone, and not reported as deleted outside drone.
    let mut state = State::new("t");
    state.resources.insert(
        "test.thing.gone".into(),
        drone_engine::state::ResourceState {
            type_name: "test.thing".into(),
            id: "id-gone".into(),
            provider: "default".into(),
            phase: "default".into(),
            dependencies: BTreeSet::new(),
            tainted: false,
            data: false,
            attributes: [("name".to_string(), Value::str("gone"))].into(),
        },
    );
    let intent = Intent {
        operation: Op::Delete,
        type_name: "test.thing".into(),
        provider: "default".into(),
        phase: "default".into(),
        dependencies: BTreeSet::new(),
        token: Intent::token(&state.lineage, "test.thing.gone", 1),
        started: 0,
        attributes: Attributes::new(),
    };
    state.pending.insert("test.thing.gone".into(), intent);
    let refreshed = drone_engine::refresh::refresh(&state, &catalog(), &providers, 4).await.expect("refresh");
    assert!(refreshed.drift.is_empty(), "{:?}", refreshed.drift);
    assert!(refreshed.state.resources.is_empty() && refreshed.state.pending.is_empty());
    assert_eq!(refreshed.recovered.len(), 1);
}

/// Scripts whose `after` hooks on one event fail.
struct FailingAfter(ScriptEvent);

#[async_trait]
impl Scripts for FailingAfter {
    fn wants(&self, event: &ScriptEvent) -> bool {
        *event == self.0
    }

    async fn run(&self, _: ScriptEvent, _: Snapshot) -> Result<(), String> {
        Err("the hook failed".into())
    }
}

#[tokio::test]
async fn a_failed_after_hook_taints_what_it_created_but_not_what_it_updated() {
    let dir = tempfile::tempdir().expect("dir");
    let address = "test.thing.a".to_string();
    let first = model("resource test.thing a {\n  name = \"a\"\n  size = 1\n}\n");
    let created = FailingAfter(ScriptEvent::After(Operation::Create, address.clone()));
    let out = run_with_scripts(&first, Arc::new(Fake::default()), State::new("t"), dir.path(), Arc::new(created)).await;
    assert!(!out.report.succeeded());
    assert!(out.state.resources[&address].tainted, "a create whose hook failed is replaced next time");

    let fake = Arc::new(Fake::default());
    let state = run(&first, fake.clone(), State::new("t"), dir.path(), 1).await.state;
    let second = model("resource test.thing a {\n  name = \"a\"\n  size = 2\n}\n");
    let updated = FailingAfter(ScriptEvent::After(Operation::Update, address.clone()));
    let out = run_with_scripts(&second, fake.clone(), state, dir.path(), Arc::new(updated)).await;
    assert!(!out.report.succeeded(), "the run fails with its hook");
    let recorded = &out.state.resources[&address];
    assert!(!recorded.tainted, "the update holds: nothing is replaced over a hook");
    assert_eq!(recorded.attributes["size"], Value::Number(2.0), "the update is recorded");
    let catalog = catalog();
    let host = MemoryHost::default();
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    let next = plan(&second, &catalog, &out.state, &cx).expect("plan");
    assert!(next.actions.iter().all(|a| a.kind == ActionKind::NoOp), "{:?}", next.actions);
}
