//! `drone state ...`: inspect, repair, copy and move recorded state, local or
//! in S3. None of these calls the cloud's resource APIs.

use std::collections::BTreeMap;
use std::path::Path;

use drone_engine::lock::LockContext;
use drone_engine::state::{Backend, LocalBackend, Location, State, Tombstone};
use drone_lang::address::Address;
use drone_lang::Catalog;
use drone_stdlib::aws::state::S3Backend;

use crate::cli::args::StateCommand;
use crate::error::{CliError, Outcome};
use crate::exit::Exit;
use crate::pipeline::{self, Loaded};
use crate::render::did_you_mean;
use crate::store;

/// Runs a `drone state` subcommand other than `orphans`.
pub(crate) async fn state_command(command: StateCommand, catalog: &Catalog) -> Outcome {
    let (file, flag) = match &command {
        StateCommand::List { file, state }
        | StateCommand::Show { file, state, .. }
        | StateCommand::Unlock { file, state, .. }
        | StateCommand::Rm { file, state, .. }
        | StateCommand::Mv { file, state, .. }
        | StateCommand::History { file, state, .. }
        | StateCommand::Pull { file, state, .. }
        | StateCommand::Push { file, state, .. }
        | StateCommand::Migrate { file, state, .. } => (file.clone(), state.clone()),
        StateCommand::Orphans { .. } => unreachable!("`state orphans` talks to the cloud and is run before"),
    };
    let (workflow, location, backend, cx) = state_of(&file, flag.as_deref(), catalog).await?;
    match command {
        StateCommand::Orphans { .. } => unreachable!("`state orphans` talks to the cloud and is run before"),
        StateCommand::List { .. } => {
            for (address, r) in &store::load(backend.as_ref(), &workflow).await?.resources {
                // What a `data` block reads is recorded, but not managed.
                println!("{address}\t{}{}", r.id, if r.data { "\t(data)" } else { "" });
            }
        }
        StateCommand::Show { address, .. } => {
            let state = store::load(backend.as_ref(), &workflow).await?;
            let Some(r) = state.resources.get(&address) else {
                // A looped block is recorded one instance per key: name the keys.
                let looped: Vec<&str> = state
                    .resources
                    .keys()
                    .filter(|k| k.starts_with(&format!("{address}[")))
                    .map(String::as_str)
                    .collect();
                if !looped.is_empty() {
                    return Err(CliError::refused(
                        format!("`{address}` is a loop; state records each of its instances under its key"),
                        Some(&format!("show one of them: {}", looped.join(", "))),
                    ));
                }
                let help = did_you_mean(&address, state.resources.keys().map(String::as_str));
                return Err(CliError::refused(format!("no resource `{address}` in state{help}"), None));
            };
            println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
        }
        StateCommand::Unlock { force, .. } => return store::unlock(&location, &file, force, &cx).await,
        StateCommand::Rm { addresses, .. } => {
            let _lock = store::lock(&location, &file, "state rm", &cx).await?;
            let mut state = store::load(backend.as_ref(), &workflow).await?;
            for address in &addresses {
                if !state.resources.contains_key(address) {
                    let help = did_you_mean(address, state.resources.keys().map(String::as_str));
                    let message = format!("no resource `{address}` in state{help}; nothing was removed");
                    return Err(CliError::refused(message, None));
                }
            }
            let removed: Vec<_> =
                addresses.iter().filter_map(|a| state.resources.remove(a).map(|r| (a, r.id))).collect();
            store::save(backend.as_ref(), &mut state).await?;
            for (address, id) in removed {
                println!("removed {address} ({id}) from state; the resource itself is untouched");
            }
        }
        StateCommand::Mv { from, to, .. } => {
            let parse = |text: &str| {
                Address::parse(text).ok_or_else(|| {
                    CliError::usage(
                        format!("`{text}` is not a resource address"),
                        Some("write TYPE.NAME, e.g. aws.ec2.vpc.main, or aws.ec2.subnet.private[\"eu-west-1a\"] for one of a loop's".into()),
                    )
                })
            };
            let (from, to) = (parse(&from)?, parse(&to)?);
            let _lock = store::lock(&location, &file, "state mv", &cx).await?;
            let mut state = store::load(backend.as_ref(), &workflow).await?;
            let made = drone_engine::state::move_recorded(&mut state, &from, &to)?;
            if made.is_empty() {
                let help = did_you_mean(&from.to_string(), state.resources.keys().map(String::as_str));
                return Err(CliError::refused(
                    format!("state records nothing at `{from}`{help}; nothing was moved"),
                    None,
                ));
            }
            store::save(backend.as_ref(), &mut state).await?;
            for (old, new) in made {
                println!("moved {old} to {new} in state; the resource itself is untouched");
            }
        }
        StateCommand::History { limit, .. } => return history(&location, limit).await,
        StateCommand::Pull { output, .. } => {
            let state = store::load(backend.as_ref(), &workflow).await?;
            if !backend.exists().await? {
                return Err(CliError::refused(format!("there is no state at {location} to pull"), None));
            }
            let text = serde_json::to_string_pretty(&state).unwrap_or_default() + "\n";
            if output == Path::new("-") {
                print!("{text}");
            } else {
                write_private(&output, &text)?;
                eprintln!("wrote serial {} of {location} to {}", state.serial, output.display());
            }
        }
        StateCommand::Push { input, force, .. } => {
            let _lock = store::lock(&location, &file, "state push", &cx).await?;
            let mut copy = LocalBackend::new(input.clone()).load(&workflow)?;
            let stored = store::load(backend.as_ref(), &workflow).await?;
            if backend.exists().await? && !force {
                if stored.lineage != copy.lineage {
                    return Err(CliError::refused(
                        format!(
                            "{} is of lineage {}, the state at {location} of lineage {}: another state altogether",
                            input.display(),
                            copy.lineage,
                            stored.lineage
                        ),
                        Some("`--force` replaces it anyway; the stored one is kept as a version if the bucket is versioned"),
                    ));
                }
                if copy.serial < stored.serial {
                    return Err(CliError::refused(
                        format!(
                            "{} holds serial {}, older than serial {} at {location}",
                            input.display(),
                            copy.serial,
                            stored.serial
                        ),
                        Some("pull the newer state first, or push with `--force` to go back to this one"),
                    ));
                }
            }
            // Written over what this run read (the backend's conditional write checks it).
            copy.serial = copy.serial.max(stored.serial);
            store::save(backend.as_ref(), &mut copy).await?;
            println!("pushed {} to {location} as serial {}", input.display(), copy.serial);
        }
        StateCommand::Migrate { to, .. } => {
            return migrate(&file, &workflow, (&location, backend.as_ref(), &cx), &to).await
        }
    }
    Ok(Exit::Success)
}

/// The state of the workflow at `file` (at `flag` when given): the workflow's name, where its
/// state lives, the backend there and the lock context. Parameters may be missing: only the
/// header is needed, read from its plain strings when the whole file cannot be loaded without them.
pub(crate) async fn state_of(
    file: &Path,
    flag: Option<&str>,
    catalog: &Catalog,
) -> Result<(String, Location, std::sync::Arc<dyn Backend>, LockContext), CliError> {
    let loaded = pipeline::load(file, &BTreeMap::new(), catalog).or_else(|e| {
        if e.exit() == Exit::Language {
            header_only(file).ok_or(e)
        } else {
            Err(e)
        }
    })?;
    let workflow = loaded.model.workflow.clone();
    let location = store::location(file, &loaded.model, flag)?;
    let cx = store::lock_context(file);
    let backend = store::backend(&location, &cx).await;
    Ok((workflow, location, backend, cx))
}

/// Writes `text` to `path`, readable by its owner only (state may hold fingerprints of secrets).
pub(crate) fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = options.open(path).and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()));
    result.map_err(|e| CliError::unwritable(path.display(), &e))
}

/// `drone state history`: the versions of an S3 state.
async fn history(location: &Location, limit: usize) -> Outcome {
    let Location::S3(s3) = location else {
        return Err(CliError::refused(
            format!("{location} is a local file; only S3 state keeps versions"),
            Some("move it with `drone state migrate FILE --to s3://BUCKET/KEY`"),
        ));
    };
    let versions = S3Backend::connect(s3).await.history(limit).await?;
    if versions.is_empty() {
        println!("no versions of {location}");
    }
    for v in versions {
        let serial = v.serial.map_or_else(|| "?".to_string(), |s| s.to_string());
        let latest = if v.latest { "  (current)" } else { "" };
        println!("{}\tserial {serial}\t{} bytes\t{}{latest}", v.written, v.size, v.version_id);
    }
    Ok(Exit::Success)
}

/// `drone state migrate`: copies the state to `to` under both places' locks,
/// then retires the old copy (a local file is renamed, an S3 object deleted,
/// its versions kept). Refused if `to` already holds a state.
async fn migrate(
    file: &Path,
    workflow: &str,
    (from, source, cx): (&Location, &dyn Backend, &LockContext),
    to: &str,
) -> Outcome {
    let target_location = Location::parse(to).map_err(|message| CliError::usage(message, None))?;
    if &target_location == from {
        return Err(CliError::refused(format!("the state is already at {from}"), None));
    }
    let _from_lock = store::lock(from, file, "state migrate", cx).await?;
    let target_cx = store::lock_context(file);
    let _to_lock = store::lock(&target_location, file, "state migrate", &target_cx).await?;
    let target = store::backend(&target_location, &target_cx).await;
    // A tombstone (the state moved away from there before) may be written over.
    let tombstone = matches!(target.load(workflow).await, Err(drone_engine::state::StateError::Moved { .. }));
    if target.exists().await? && !tombstone {
        return Err(CliError::refused(
            format!("{target_location} already holds a state; nothing was moved"),
            Some("remove it first, or migrate to another place"),
        ));
    }
    if !source.exists().await? {
        return Err(CliError::refused(format!("there is no state at {from} to move"), None));
    }
    let mut state: State = store::load(source, workflow).await?;
    let serial = state.serial;
    store::save(target.as_ref(), &mut state).await?;
    // The copy is complete and checked before the original is retired.
    let copied = store::load(target.as_ref(), workflow).await?;
    if copied.resources != state.resources || copied.lineage != state.lineage {
        let reason = format!("the copy at {target_location} does not read back as written; {from} is left in place");
        return Err(CliError::execution("state migrate", reason));
    }
    match from {
        Location::Local(path) => {
            let retired = path.with_extension(format!("migrated-{serial}.json"));
            std::fs::rename(path, &retired).map_err(|e| CliError::Execution {
                doing: format!("retiring {} after the copy", path.display()),
                reason: e.to_string(),
                help: Some("delete it by hand".into()),
            })?;
            let _ = std::fs::remove_file(LocalBackend::new(path.clone()).log_path());
            // What is left in the old place names the new one: a workflow still pointed here is refused.
            write_private(path, &Tombstone::text(&state, &target_location.to_string()))?;
            println!(
                "moved {} resources from {from} to {target_location}; a copy of the old file is {}",
                state.resources.len(),
                retired.display()
            );
        }
        Location::S3(s3) => {
            let old = S3Backend::connect(s3).await;
            old.load(workflow).await?;
            old.retire(Tombstone::text(&state, &target_location.to_string())).await?;
            println!(
                "moved {} resources from {from} to {target_location}; the bucket's versioning keeps the old object",
                state.resources.len()
            );
        }
    }
    println!("update the workflow header's `state` to name {target_location} (or pass --state {target_location})");
    Ok(Exit::Success)
}

/// Required parameters may be missing for `state` commands; only the
/// workflow's name and state location are needed, read from the header's
/// plain strings (`state = { backend = "s3", bucket = "...", key = "..." }`).
fn header_only(file: &Path) -> Option<Loaded> {
    use drone_lang::ast::{ExprKind, Item};
    let text = std::fs::read_to_string(file).ok()?;
    let (program, errors) = drone_lang::load(file, text, &drone_lang::FsLoader { root: pipeline::root_for(file) });
    if !errors.is_empty() {
        return None;
    }
    let header = program.root.items.iter().find_map(|i| if let Item::Workflow(w) = i { Some(w) } else { None });
    let name = header
        .and_then(|w| w.name.as_plain_string())
        .unwrap_or_else(|| file.file_stem().map_or_else(|| "workflow".into(), |s| s.to_string_lossy().into_owned()));
    let mut model = drone_engine::model::Model { workflow: name, ..Default::default() };
    let state = header.and_then(|w| w.attributes.iter().find(|a| a.name.name == "state"));
    if let Some(ExprKind::Map(entries)) = state.map(|a| &a.value.kind) {
        let plain = |key: &str| entries.iter().find(|e| e.key.name == key).and_then(|e| e.value.as_plain_string());
        match (plain("backend").as_deref(), plain("bucket"), plain("key")) {
            (Some("s3"), Some(bucket), Some(key)) => {
                let region = plain("region");
                model.state_s3 = Some(drone_engine::state::S3Location { bucket, key, region });
            }
            _ => model.state_path = plain("path"),
        }
    }
    Some(Loaded { program, model, scripts: Vec::new() })
}
