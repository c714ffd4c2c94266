//! Moving recorded resources to the addresses where the workflow now
//! declares them (`moved` blocks, `drone state mv`): the resource itself is
//! untouched, so a renamed block, or one moved under another name, is
//! neither destroyed nor created again.

use drone_lang::address::Address;

use super::State;

/// A move that cannot be made.
#[derive(Debug, PartialEq, thiserror::Error, miette::Diagnostic)]
pub enum MoveError {
    /// Both ends are recorded: moving would lose one of them.
    #[error("cannot move `{from}` to `{to}`: state already records a resource at `{to}`")]
    #[diagnostic(
        code("drone::state::move_occupied"),
        help("forget one of them first (`drone state rm`), or move it somewhere else")
    )]
    Occupied {
        /// The source address.
        from: String,
        /// The target address.
        to: String,
    },
    /// A single instance moved to a whole block, or the other way round.
    #[error("cannot move `{from}` to `{to}`: one names a single loop instance, the other a whole block")]
    #[diagnostic(code("drone::state::move_shape"), help("give both ends a key, or neither"))]
    Shape {
        /// The source address.
        from: String,
        /// The target address.
        to: String,
    },
}

/// Moves what state records at `from` to `to`: one instance when `from` has
/// a key, else every instance of the block, each keeping its key. Returns
/// the moves made, `(old, new)`; none when nothing is recorded at `from`
/// (already moved, or never made).
pub fn move_recorded(state: &mut State, from: &Address, to: &Address) -> Result<Vec<(String, String)>, MoveError> {
    let sources: Vec<(String, Option<String>)> = match &from.key {
        Some(_) => {
            let exact = from.to_string();
            state.resources.contains_key(&exact).then(|| (exact, from.key.clone())).into_iter().collect()
        }
        None => state
            .resources
            .keys()
            .filter_map(|a| Address::parse(a).filter(|p| p.decl == from.decl).map(|p| (a.clone(), p.key)))
            .collect(),
    };
    // Every target is decided and checked before anything moves: all or nothing.
    let mut made = Vec::new();
    for (source, key) in sources {
        let target = match (&from.key, &to.key, key) {
            (Some(_), _, _) => to.to_string(),
            (None, None, key) => Address { decl: to.decl.clone(), key }.to_string(),
            (None, Some(_), None) => to.to_string(),
            (None, Some(_), Some(_)) => {
                return Err(MoveError::Shape { from: from.to_string(), to: to.to_string() });
            }
        };
        if target == source {
            continue;
        }
        if state.resources.contains_key(&target) {
            return Err(MoveError::Occupied { from: source, to: target });
        }
        made.push((source, target));
    }
    for (source, target) in &made {
        if let Some(resource) = state.resources.remove(source) {
            state.resources.insert(target.clone(), resource);
        }
        if let Some(intent) = state.pending.remove(source) {
            state.pending.insert(target.clone(), intent);
        }
        for r in state.resources.values_mut() {
            if r.dependencies.remove(source) {
                r.dependencies.insert(target.clone());
            }
        }
    }
    Ok(made)
}

/// Carries out the workflow's `moved` blocks, in order.
pub fn apply_moves(state: &mut State, moves: &[crate::model::Move]) -> Result<Vec<(String, String)>, MoveError> {
    let mut made = Vec::new();
    for m in moves {
        made.extend(move_recorded(state, &m.from, &m.to)?);
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ResourceState;
    use std::collections::BTreeSet;

    fn resource(id: &str, deps: &[&str]) -> ResourceState {
        ResourceState {
            type_name: "aws.ec2.subnet".into(),
            id: id.into(),
            provider: "default".into(),
            phase: "default".into(),
            dependencies: deps.iter().map(|d| d.to_string()).collect::<BTreeSet<_>>(),
            tainted: false,
            data: false,
            attributes: Default::default(),
        }
    }

    fn addr(text: &str) -> Address {
        Address::parse(text).expect("address")
    }

    #[test]
    fn blocks_and_instances_move_with_their_keys_and_dependants_follow() {
        let mut state = State::new("w");
        state.resources.insert(r#"aws.ec2.subnet.old["a"]"#.into(), resource("subnet-a", &[]));
        state.resources.insert(r#"aws.ec2.subnet.old["b"]"#.into(), resource("subnet-b", &[]));
        state.resources.insert("aws.ec2.route_table.rt".into(), resource("rtb-1", &[r#"aws.ec2.subnet.old["a"]"#]));
        let made =
            move_recorded(&mut state, &addr("aws.ec2.subnet.old"), &addr("aws.ec2.subnet.private")).expect("moved");
        assert_eq!(made.len(), 2);
        assert_eq!(state.resources[r#"aws.ec2.subnet.private["a"]"#].id, "subnet-a");
        assert!(state.resources["aws.ec2.route_table.rt"].dependencies.contains(r#"aws.ec2.subnet.private["a"]"#));
        // Already moved: nothing to do, no error (the block stays in the file).
        assert!(move_recorded(&mut state, &addr("aws.ec2.subnet.old"), &addr("aws.ec2.subnet.private"))
            .expect("again")
            .is_empty());
        // One instance to a plain address.
        let made = move_recorded(&mut state, &addr(r#"aws.ec2.subnet.private["b"]"#), &addr("aws.ec2.subnet.solo"))
            .expect("one");
        assert_eq!(made, [(r#"aws.ec2.subnet.private["b"]"#.to_string(), "aws.ec2.subnet.solo".to_string())]);
        // Onto a recorded address: refused, nothing changed.
        let before = state.clone();
        let err = move_recorded(&mut state, &addr("aws.ec2.subnet.solo"), &addr("aws.ec2.route_table.rt"))
            .expect_err("refused");
        assert!(matches!(err, MoveError::Occupied { .. }));
        assert_eq!(state, before);
        let err = move_recorded(&mut state, &addr("aws.ec2.subnet.private"), &addr(r#"aws.ec2.subnet.x["k"]"#))
            .expect_err("refused");
        assert!(matches!(err, MoveError::Shape { .. }));
    }
}
