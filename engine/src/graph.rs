//! The resource graph as DOT or Mermaid text, grouped by phase.

use crate::model::Model;

/// The graph in Graphviz DOT.
pub fn dot(model: &Model) -> String {
    let mut out = format!("digraph {} {{\n  rankdir=LR;\n  node [shape=box];\n", quote(&model.workflow));
    for (i, phase) in model.phases.iter().enumerate() {
        let members: Vec<_> = model.instances.values().filter(|x| &x.phase == phase).collect();
        if members.is_empty() {
            continue;
        }
        out.push_str(&format!("  subgraph cluster_{i} {{\n    label={};\n", quote(&format!("phase {phase}"))));
        for m in members {
            out.push_str(&format!("    {};\n", quote(&m.address)));
        }
        out.push_str("  }\n");
    }
    for instance in model.instances.values() {
        for dep in &instance.deps {
            out.push_str(&format!("  {} -> {};\n", quote(dep), quote(&instance.address)));
        }
    }
    out.push_str("}\n");
    out
}

/// The graph as a Mermaid flowchart.
pub fn mermaid(model: &Model) -> String {
    let ids: std::collections::BTreeMap<&str, String> =
        model.instances.keys().enumerate().map(|(i, a)| (a.as_str(), format!("n{i}"))).collect();
    let mut out = String::from("flowchart LR\n");
    for phase in &model.phases {
        let members: Vec<_> = model.instances.values().filter(|x| &x.phase == phase).collect();
        if members.is_empty() {
            continue;
        }
        out.push_str(&format!("  subgraph phase_{phase} [\"phase {phase}\"]\n"));
        for m in members {
            out.push_str(&format!("    {}[\"{}\"]\n", ids[m.address.as_str()], m.address.replace('"', "#quot;")));
        }
        out.push_str("  end\n");
    }
    for instance in model.instances.values() {
        for dep in &instance.deps {
            if let Some(from) = ids.get(dep.as_str()) {
                out.push_str(&format!("  {from} --> {}\n", ids[instance.address.as_str()]));
            }
        }
    }
    out
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
