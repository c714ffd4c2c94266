//! `drone state orphans`: resources that carry this state's tags (made by a
//! run killed before it could record them, or a second copy of one) but that
//! state does not record; `--adopt` records those whose address state lacks,
//! `--delete` deletes them. `drone destroy` reports those it leaves.

use std::collections::BTreeMap;
use std::path::Path;

use drone_engine::functions::CallContext;
use drone_engine::orphans::{orphans, Orphan, Scope};
use drone_engine::provider::ErrorKind;
use drone_engine::state::{ResourceState, State};
use drone_lang::Catalog;

use crate::cli::args::Common;
use crate::error::{CliError, Outcome};
use crate::exit::Exit;
use crate::session::{announce, load_state, session, take_lock, Session};

/// What to do with the orphans found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// List them.
    List,
    /// Record those whose address state lacks.
    Adopt,
    /// Delete them.
    Delete,
}

/// Lists the orphans of `file`'s state, and adopts or deletes them.
pub(crate) async fn orphans_command(file: &Path, common: &Common, action: Action, catalog: &Catalog) -> Outcome {
    let session = session(file, common, catalog, false).await?;
    let _lock = take_lock(&session, file, "state orphans").await?;
    announce(&session).await?;
    let mut state = load_state(&session).await?;
    let found = scan(&session, catalog, &state, &BTreeMap::new(), common.concurrency).await?;
    if found.is_empty() {
        println!("No orphans: every resource tagged with this state's lineage is recorded.");
        return Ok(Exit::Success);
    }
    print!("{}", render(&found));
    match action {
        Action::List => {
            let file = file.display();
            println!("`drone state orphans {file} --adopt` records those whose address state lacks; `--delete` deletes them.");
            Ok(Exit::Success)
        }
        Action::Adopt => adopt(&session, catalog, &mut state, &found).await,
        Action::Delete => delete(&session, &found).await,
    }
}

/// After a destroy: the resources it leaves that carry this state's tags,
/// looked up under the addresses the workflow and `former` state knew.
pub(crate) async fn left_after_destroy(
    file: &Path,
    session: &Session,
    catalog: &Catalog,
    former: &BTreeMap<String, ResourceState>,
    concurrency: usize,
) -> Outcome {
    let state = load_state(session).await?;
    let found = scan(session, catalog, &state, former, concurrency).await?;
    if found.is_empty() {
        return Ok(Exit::Success);
    }
    Err(CliError::Orphans {
        list: render(&found),
        help: format!("delete them with `drone state orphans {} --delete`", file.display()),
    })
}

async fn scan(
    session: &Session,
    catalog: &Catalog,
    state: &State,
    former: &BTreeMap<String, ResourceState>,
    concurrency: usize,
) -> Result<Vec<Orphan>, CliError> {
    let host = crate::pipeline::host_for(&session.loaded.program.root_path);
    let cx = CallContext { host: &host, salt: &state.lineage, resolve_secrets: false };
    let scope = Scope { model: &session.loaded.model, catalog, state, former, cx: &cx, providers: &session.providers };
    orphans(&scope, concurrency).await.map_err(|e| CliError::execution("looking for orphans", e))
}

fn render(found: &[Orphan]) -> String {
    let width = found.iter().map(|o| o.address.len()).max().unwrap_or(0);
    let mut out = String::new();
    for o in found {
        let note = if o.duplicate { "a second copy; state records another" } else { "not recorded" };
        out.push_str(&format!("  {:width$}  {}  ({note})\n", o.address, o.id));
    }
    out
}

/// Records each orphan whose address the workflow has and state lacks, read back as `drone import` does.
async fn adopt(session: &Session, catalog: &Catalog, state: &mut State, found: &[Orphan]) -> Outcome {
    let mut adopted = 0;
    let mut refused = 0;
    for o in found {
        let instance = session.loaded.model.instances.get(&o.address);
        let (Some(instance), false) = (instance, o.duplicate || state.resources.contains_key(&o.address)) else {
            eprintln!(
                "  not adopted: {} {} (state holds the address, or the workflow lacks it; delete it)",
                o.address, o.id
            );
            refused += 1;
            continue;
        };
        let Some(provider) = session.providers.get(&o.provider) else {
            refused += 1;
            continue;
        };
        match provider.read(&o.type_name, &o.id, &o.config).await {
            Ok(Some(observed)) => {
                let attributes = crate::commands::import::recorded_attributes(
                    catalog,
                    &o.type_name,
                    &o.config,
                    observed.attributes,
                    &o.id,
                );
                state.resources.insert(
                    o.address.clone(),
                    ResourceState {
                        type_name: o.type_name.clone(),
                        id: o.id.clone(),
                        provider: o.provider.clone(),
                        phase: instance.phase.clone(),
                        dependencies: instance.deps.clone(),
                        tainted: false,
                        data: false,
                        attributes,
                    },
                );
                adopted += 1;
            }
            Ok(None) => eprintln!("  gone before it could be adopted: {} {}", o.address, o.id),
            Err(e) => {
                eprintln!("  not adopted: {} {}: {e}", o.address, o.id);
                refused += 1;
            }
        }
    }
    if adopted > 0 {
        crate::store::save(session.backend.as_ref(), state).await?;
    }
    println!("Adopted {adopted} orphan(s); `drone plan` shows what differs from the workflow.");
    Ok(if refused == 0 { Exit::Success } else { Exit::Execution })
}

/// Deletes every orphan; one that depends on another (a subnet in an
/// orphaned VPC) waits for a later pass.
async fn delete(session: &Session, found: &[Orphan]) -> Outcome {
    let mut left: Vec<&Orphan> = found.iter().collect();
    let mut deleted = 0;
    for pass in 0..6 {
        let mut again = Vec::new();
        for o in left {
            let Some(provider) = session.providers.get(&o.provider) else {
                eprintln!("  not deleted: {} {}: provider `{}` is not configured", o.address, o.id, o.provider);
                continue;
            };
            match provider.delete(&o.type_name, &o.id, &o.config).await {
                Ok(()) => deleted += 1,
                Err(e) if e.kind == ErrorKind::NotReady && pass < 5 => again.push(o),
                Err(e) => eprintln!("  not deleted: {} {}: {e}", o.address, o.id),
            }
        }
        if again.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1 << pass)).await;
        left = again;
    }
    println!("Deleted {deleted} of {} orphan(s).", found.len());
    Ok(if deleted == found.len() { Exit::Success } else { Exit::Execution })
}
