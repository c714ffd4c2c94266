//! Cycle detection over the reference graph and the phase order.

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::Phase;
use crate::span::Span;

use super::Node;

/// Every elementary cycle found by depth-first search, each reported once, as
/// the nodes in order with the span of the reference leaving each node.
pub(super) fn find(edges: &BTreeMap<Node, Vec<(Node, Span)>>) -> Vec<Vec<(Node, Span)>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Color {
        White,
        Grey,
        Black,
    }
    let mut color: BTreeMap<&Node, Color> = BTreeMap::new();
    let mut cycles = Vec::new();
    let mut reported: BTreeSet<Vec<Node>> = BTreeSet::new();
    for start in edges.keys() {
        if color.get(start).copied().unwrap_or(Color::White) != Color::White {
            continue;
        }
        // Iterative DFS: (node, index of next edge), with the path of (node, span taken).
        let mut stack: Vec<(&Node, usize)> = vec![(start, 0)];
        let mut path: Vec<(Node, Span)> = Vec::new();
        color.insert(start, Color::Grey);
        while let Some((node, i)) = stack.pop() {
            let out = edges.get(node).map(Vec::as_slice).unwrap_or(&[]);
            if i < out.len() {
                stack.push((node, i + 1));
                let (next, span) = &out[i];
                match color.get(next).copied().unwrap_or(Color::White) {
                    Color::White => {
                        color.insert(next, Color::Grey);
                        path.push((node.clone(), *span));
                        stack.push((next, 0));
                    }
                    Color::Grey => {
                        let mut cycle: Vec<(Node, Span)> = path.clone();
                        cycle.push((node.clone(), *span));
                        let from = cycle.iter().position(|(n, _)| n == next).unwrap_or(0);
                        let cycle: Vec<(Node, Span)> = cycle[from..].to_vec();
                        let mut key: Vec<Node> = cycle.iter().map(|(n, _)| n.clone()).collect();
                        key.sort();
                        if reported.insert(key) {
                            cycles.push(cycle);
                        }
                    }
                    Color::Black => {}
                }
            } else {
                color.insert(node, Color::Black);
                path.pop();
            }
        }
    }
    cycles
}

/// A cycle among phases' `after` lists, as a printed path and a span.
pub(super) fn phase_cycle(phases: &BTreeMap<String, &Phase>) -> Option<(String, Span)> {
    let mut edges: BTreeMap<Node, Vec<(Node, Span)>> = BTreeMap::new();
    for (name, phase) in phases {
        for after in &phase.after {
            if phases.contains_key(&after.name) {
                edges.entry(Node::Let(name.clone())).or_default().push((Node::Let(after.name.clone()), after.span));
            }
        }
    }
    let cycle = find(&edges).into_iter().next()?;
    let mut names: Vec<&str> = cycle.iter().map(|(n, _)| n.label()).collect();
    names.push(cycle[0].0.label());
    Some((format!("phases {}", names.join(" -> ")), cycle[0].1))
}

/// For each phase, every phase that runs before it (through `after`, transitively).
pub(crate) fn phase_ancestors(phases: &BTreeMap<String, &Phase>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for name in phases.keys() {
        let mut seen = BTreeSet::new();
        let mut stack = vec![name.clone()];
        while let Some(p) = stack.pop() {
            for after in phases.get(&p).map(|x| x.after.as_slice()).unwrap_or(&[]) {
                if seen.insert(after.name.clone()) {
                    stack.push(after.name.clone());
                }
            }
        }
        out.insert(name.clone(), seen);
    }
    out
}
