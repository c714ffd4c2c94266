//! Diagnostics for an open document: the same passes as `drone check` (load,
//! names and types, scripts compiled but never run, expansion, policies), with
//! the same codes, messages and help, as the protocol's diagnostics. Nothing
//! here calls AWS, reads state or runs a script.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use drone_engine::functions::CallContext;
use drone_engine::policy::{Rule, Severity};
use drone_lang::ast::Module;
use drone_lang::span::FileId;
use drone_lang::{Catalog, FsLoader, ItemCache, Located, SourceLoader};
use miette::Diagnostic;
use serde_json::{json, Value};

use super::text::LineIndex;
use crate::pipeline::Loaded;
use crate::policies::PackCache;

/// What an analysis reuses from the ones before: the trees of unchanged
/// items (of every file it reads) and the parsed policy packs.
#[derive(Default)]
pub struct Caches {
    /// Item trees by text.
    pub items: ItemCache,
    /// The packs, parsed and checked.
    pub packs: PackCache,
}

/// A document's diagnostics, and the files it imports (so that a change to
/// one of them re-checks it).
pub struct Analysis {
    /// The protocol's diagnostics.
    pub diagnostics: Vec<Value>,
    /// The canonical paths of the files it `use`s.
    pub imports: Vec<PathBuf>,
    /// The rules its packs hold (the server keeps the last ones when an
    /// analysis stops before the policies).
    pub rules: Vec<Rule>,
    /// Its params' and top-level lets' values as plans show them (secrets
    /// and values known after apply never with their contents), with their types.
    pub values: BTreeMap<String, String>,
    /// The keys each looped block of its own declares, by the block's address
    /// (`aws.ec2.subnet.public` -> `"eu-west-1a"`, ...), as a plan addresses them.
    pub loop_keys: BTreeMap<String, Vec<String>>,
    /// Its tree as written (the items that parse, before components expand),
    /// which requests read until the next change.
    pub tree: Module,
    /// Findings about what its instances brought in, placed in the imported file that declares
    /// them (by canonical path): shown in that file's own buffer when it is open.
    pub elsewhere: BTreeMap<PathBuf, Vec<Value>>,
}

impl Analysis {
    /// An analysis that stopped at `diagnostics`.
    pub fn stopped(diagnostics: Vec<Value>) -> Analysis {
        Analysis {
            diagnostics,
            imports: Vec::new(),
            rules: Vec::new(),
            values: BTreeMap::new(),
            loop_keys: BTreeMap::new(),
            tree: Module { items: Vec::new(), span: drone_lang::Span::new(FileId(0), 0, 0) },
            elsewhere: BTreeMap::new(),
        }
    }
}

/// Reads imports as the editor has them: an open document's text, else the file.
struct Overlay<'o> {
    files: FsLoader,
    open: &'o BTreeMap<PathBuf, String>,
}

impl SourceLoader for Overlay<'_> {
    fn load(&self, path: &Path) -> Result<String, String> {
        let open = std::fs::canonicalize(path).ok().and_then(|p| self.open.get(&p)).or_else(|| self.open.get(path));
        match open {
            // Confined as any import: the file must be a regular file under the root.
            Some(text) => self.files.load(path).map(|_| text.clone()),
            None => self.files.load(path),
        }
    }
}

/// Every diagnostic of the document at `path` whose text is `text`; `use`
/// reads under `root`, and imports that are open are read from `open` (by
/// canonical path). A file with syntax errors is still checked, item by item,
/// for what parses. When every broken item only lacks closing brackets, it is
/// read closed and the file is checked whole (an editor's half-typed block
/// hides nothing); otherwise names defined in a broken item are unknown, so
/// unresolved names are not reported.
pub fn diagnostics(
    uri: &str,
    path: &Path,
    root: &Path,
    text: &str,
    catalog: &Catalog,
    open: &BTreeMap<PathBuf, String>,
    caches: &mut Caches,
) -> Analysis {
    let index = LineIndex::new(text);
    let loader = Overlay { files: FsLoader { root: root.to_path_buf() }, open };
    let mut written = None;
    // Whether every broken item of the root was read with its brackets closed.
    let mut mended = false;
    let (program, load_errors) = drone_lang::load_with(path, text.to_string(), &loader, &mut |file, text| {
        let parsed = caches.items.parse(file, text);
        // The root is parsed first: its tree as written, before components expand.
        if written.is_none() {
            written = Some(parsed.module.clone());
            mended = !parsed.errors.is_empty() && parsed.recovered == parsed.errors.len();
        }
        parsed
    });
    // Then the file is checked whole, its syntax errors reported beside what the checks find.
    let mended = mended && load_errors.iter().all(|e| matches!(e, drone_lang::LoadError::Syntax(_)));
    let written = written.unwrap_or_else(|| Analysis::stopped(Vec::new()).tree);
    let imports =
        program.imports.values().map(|i| std::fs::canonicalize(&i.path).unwrap_or_else(|_| i.path.clone())).collect();
    let doc = Document { uri, file: program.root_file, index: &index, text };
    // Mended, the syntax errors are reported first and the file is judged as if it had none.
    let mut syntax = Vec::new();
    let judged_errors = if mended {
        push(&mut syntax, &load_errors, &doc);
        &[][..]
    } else {
        &load_errors[..]
    };
    let analysis = judge(program, &written, judged_errors, catalog, root, &doc, &mut caches.packs);
    syntax.extend(analysis.diagnostics);
    Analysis { imports, tree: written, diagnostics: syntax, ..analysis }
}

/// The diagnostics of a loaded program, pass by pass as `drone check` runs
/// them, and the rules it was judged by.
fn judge(
    mut program: drone_lang::Program,
    written: &Module,
    load_errors: &[drone_lang::LoadError],
    catalog: &Catalog,
    root: &Path,
    doc: &Document<'_>,
    packs: &mut PackCache,
) -> Analysis {
    let Document { file, index, text, .. } = *doc;
    let mut out = Vec::new();
    let errors = drone_lang::check(&program, catalog);
    if !load_errors.is_empty() {
        push(&mut out, load_errors, doc);
        let resolved: Vec<_> = errors
            .into_iter()
            .filter(|e| e.code().is_none_or(|c| !c.to_string().starts_with("drone::resolve::")))
            .collect();
        push(&mut out, &resolved, doc);
        return Analysis::stopped(out);
    }
    if !errors.is_empty() {
        push(&mut out, &errors, doc);
        return Analysis::stopped(out);
    }
    let scripts = match drone_script::collect(&mut program, root) {
        Ok(scripts) => scripts,
        Err(errors) => {
            push(&mut out, &errors, doc);
            return Analysis::stopped(out);
        }
    };
    let script_errors: Vec<drone_script::ScriptError> = scripts.iter().flat_map(drone_script::check::check).collect();
    push(&mut out, &script_errors, doc);
    let host = crate::pipeline::host_for(&program.root_path);
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    let params = BTreeMap::new();
    // As `drone check` sees it: a required parameter without a value is unknown.
    let input = drone_engine::eval::EvalInput { params: &params, cx: &cx, missing_unknown: true };
    let model = match drone_engine::eval::expand(&program, catalog, &input) {
        Ok(model) => model,
        Err(errors) => {
            push(&mut out, &errors, doc);
            return Analysis::stopped(out);
        }
    };
    // Values AWS would refuse, as `drone check` reports them.
    push(&mut out, &drone_engine::validate::validate(&model, catalog, &cx), doc);
    let values = values_of(&program, &model, catalog, &cx);
    let loop_keys = loop_keys(&model);
    let mut loaded = Loaded { program, model, scripts };
    let mut rules = Vec::new();
    let mut elsewhere: BTreeMap<PathBuf, Vec<Value>> = BTreeMap::new();
    // Imported files' trees, read once each for the findings placed in them.
    let mut imported: BTreeMap<FileId, Module> = BTreeMap::new();
    if let Ok(report) = crate::policies::evaluate_with(&mut loaded, catalog, &Default::default(), packs) {
        for finding in &report.findings {
            let rule = report.rules.iter().find(|r| r.id == finding.rule);
            let (severity, note) = match (&finding.suppression, finding.severity) {
                (Some(s), _) if !finding.active() => (4, format!(" (suppressed: {})", s.reason)),
                (_, Severity::Error) => (1, String::new()),
                (_, Severity::Warning) => (2, String::new()),
                _ => (3, String::new()),
            };
            let help = rule.and_then(|r| r.fix.as_ref()).map(|fix| format!("\nhelp: {fix}")).unwrap_or_default();
            let diagnostic = |range: Value, message: String, data: Value| {
                json!({
                    "range": range,
                    "severity": severity,
                    "code": format!("policy::{}", finding.rule),
                    "source": "drone",
                    "message": message,
                    "data": data,
                })
            };
            let mut data = json!({
                "rule": finding.rule,
                "active": finding.active(),
                "title": rule.map(|r| r.title.as_str()),
                "rationale": rule.and_then(|r| r.rationale.as_deref()),
                "fix": rule.and_then(|r| r.fix.as_deref()),
            });
            let (span, place) = if finding.span.file == file {
                // Where an `@allow` for it goes: above the block the finding is about.
                let block = match loaded.model.instances.get(&finding.address) {
                    Some(instance) => instance.span.start as usize,
                    None => loaded
                        .model
                        .grants
                        .iter()
                        .find(|g| g.script == finding.address)
                        .map_or(finding.span.start as usize, |g| g.name_span.start as usize),
                };
                data["allow_at"] = index.position(block);
                data["mechanical"] = rule
                    .filter(|_| finding.active())
                    .and_then(|r| super::fixes::mechanical(r, finding, &loaded.program.root, text, catalog, index))
                    .unwrap_or(Value::Null);
                (finding.span, String::new())
            } else {
                // In a component another file declares: shown on the instance that
                // brought the resource in, as an import's errors show on its `use`, and in
                // that file's own buffer. Those suppressed there stay there.
                let found = instance_of(written, &finding.address).filter(|_| finding.active());
                let Some((instance, name)) = found else { continue };
                let placed = in_its_file(&loaded, &mut imported, finding, rule, catalog, data.clone());
                if let Some(Placed { path, range, data }) = placed {
                    let user = doc.uri.rsplit('/').next().unwrap_or(doc.uri);
                    let message = format!("{} (through instance `{name}` of {user}){note}{help}", finding.message);
                    elsewhere.entry(path).or_default().push(diagnostic(range, message, data));
                }
                (instance, format!(" (in instance `{name}`, declared in another file)"))
            };
            let range = index.range(span.start as usize, span.end as usize);
            out.push(diagnostic(range, format!("{}{place}{note}{help}", finding.message), data));
        }
        rules = report.rules;
    }
    Analysis { rules, values, loop_keys, elsewhere, ..Analysis::stopped(out) }
}

/// The keys of every looped block (`TYPE.NAME["key"]` instances), in the model's order.
fn loop_keys(model: &drone_engine::model::Model) -> BTreeMap<String, Vec<String>> {
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for address in model.instances.keys() {
        if let Some((block, key)) = address.strip_suffix(']').and_then(|a| a.split_once('[')) {
            keys.entry(block.to_string()).or_default().push(key.to_string());
        }
    }
    keys
}

/// A finding placed in the imported file that declares what it is about.
struct Placed {
    /// That file's canonical path.
    path: PathBuf,
    /// The finding's range there.
    range: Value,
    /// The finding's data, with the `@allow` place and the mechanical fix there.
    data: Value,
}

/// A finding about a resource an imported file declares, placed in that file for its own buffer.
/// `trees` keeps each imported file's tree as it is read.
fn in_its_file(
    loaded: &Loaded,
    trees: &mut BTreeMap<FileId, Module>,
    finding: &drone_engine::policy::Finding,
    rule: Option<&Rule>,
    catalog: &Catalog,
    mut data: Value,
) -> Option<Placed> {
    let file = finding.span.file;
    let source = loaded.program.sources.get(file)?;
    let import = loaded.program.imports.values().find(|i| i.module.span.file == file)?;
    // Expansion took the components out of the import's tree: the file is read again for its blocks.
    let module = trees.entry(file).or_insert_with(|| drone_lang::parse(file, &source.text).module);
    let index = LineIndex::new(&source.text);
    let block = loaded.model.instances.get(&finding.address).map(|i| i.span).filter(|s| s.file == file);
    data["allow_at"] = index.position(block.map_or(finding.span.start, |b| b.start) as usize);
    data["mechanical"] = rule
        .filter(|_| finding.active())
        .and_then(|r| super::fixes::mechanical(r, finding, module, &source.text, catalog, &index))
        .unwrap_or(Value::Null);
    Some(Placed {
        path: super::canonical(&import.path),
        range: index.range(finding.span.start as usize, finding.span.end as usize),
        data,
    })
}

/// The values of the root file's params and lets, rendered as plans render
/// them, each with its type; a let that cannot be evaluated here is left out.
fn values_of(
    program: &drone_lang::Program,
    model: &drone_engine::model::Model,
    catalog: &Catalog,
    cx: &CallContext<'_>,
) -> BTreeMap<String, String> {
    use drone_lang::ast::Item;
    let nothing = drone_engine::eval::NothingKnown;
    let evaluator = drone_engine::eval::Evaluator::new(model, catalog, cx, &nothing);
    let shown = |value: drone_engine::value::Value| format!("`{value}` ({})", value.type_name());
    let mut out = BTreeMap::new();
    for item in &program.root.items {
        match item {
            Item::Param(p) => {
                if let Some(value) = model.params.get(&p.name.name) {
                    out.insert(p.name.name.clone(), shown(value.clone()));
                }
            }
            Item::Let(l) => {
                if let Ok(value) = evaluator.eval(&l.value, &Vec::new()) {
                    out.insert(l.name.name.clone(), shown(value));
                }
            }
            _ => {}
        }
    }
    out
}

/// The name of the instance in `root` (as written, before expansion) that the resource at `address`
/// (`COMPONENT.INSTANCE.TYPE.name`) belongs to, and `COMPONENT.INSTANCE`.
fn instance_of(root: &Module, address: &str) -> Option<(drone_lang::Span, String)> {
    let mut parts = address.splitn(3, '.');
    let (component, name) = (parts.next()?, parts.next()?);
    let instance = super::features::instance_named(root, component, name)?;
    Some((instance.name.span, format!("{component}.{name}")))
}

/// `X` of a help line `did you mean `X`?`.
fn suggested(help: &str) -> Option<String> {
    let rest = help.split("did you mean `").nth(1)?;
    rest.split('`').next().map(String::from)
}

/// The document diagnostics are for.
#[derive(Clone, Copy)]
struct Document<'d> {
    uri: &'d str,
    file: FileId,
    index: &'d LineIndex<'d>,
    text: &'d str,
}

/// Adds `errors` that lie in `file` (an import's errors show on the `use` that brought it in).
fn push<D: Diagnostic + Located>(out: &mut Vec<Value>, errors: &[D], doc: &Document<'_>) {
    let Document { uri, file, index, text } = *doc;
    for error in errors {
        let span = error.span();
        let (start, end) = if span.file == file { (span.start as usize, span.end as usize) } else { (0, 0) };
        let help = error.help().map(|h| h.to_string());
        let in_other = if span.file == file { String::new() } else { " (in an imported file)".to_string() };
        let mut diagnostic = json!({
            "range": index.range(start.min(text.len()), end.min(text.len())),
            "severity": 1,
            "code": error.code().map(|c| c.to_string()).unwrap_or_default(),
            "source": "drone",
            "message": format!("{error}{in_other}{}", help.as_ref().map(|h| format!("\nhelp: {h}")).unwrap_or_default()),
        });
        // The other labels (where a duplicate was first declared, the rest of a
        // cycle), in the primary span's file as `drone check` renders them.
        let related: Vec<Value> = error
            .labels()
            .into_iter()
            .flatten()
            .filter(|l| span.file == file && (l.offset(), l.offset() + l.len()) != (start, end))
            .map(|l| {
                let (from, to) = (l.offset().min(text.len()), (l.offset() + l.len()).min(text.len()));
                json!({ "location": { "uri": uri, "range": index.range(from, to) }, "message": l.label().unwrap_or_default() })
            })
            .collect();
        if !related.is_empty() {
            diagnostic["relatedInformation"] = Value::Array(related);
        }
        // The did-you-mean, for the quick fix that writes it in, with the range it replaces: a
        // client echoes the diagnostic's own range in its units (Neovim's, after non-ASCII text,
        // are not the server's), but hands `data` back as it was.
        if let Some(fix) = help.as_deref().and_then(suggested).filter(|_| span.file == file) {
            diagnostic["data"] = json!({ "replace_with": fix, "range": diagnostic["range"].clone() });
        }
        out.push(diagnostic);
    }
}
