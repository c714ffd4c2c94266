//! What a plan says about how a new revision of an ECS service reaches
//! traffic: its deployment strategy's steps, bake times, and what rolls it
//! back. ECS carries the steps out; the plan shows them before anyone agrees.

use drone_engine::plan::{ActionKind, Plan};
use drone_engine::state::State;
use drone_engine::value::{Attributes, Value};

/// Says how each service whose task definition the plan changes will roll it out.
pub(crate) fn annotate(plan: &mut Plan, state: &State) {
    for action in &mut plan.actions {
        let new_revision = action.changes.iter().any(|c| c.attribute == "task_definition");
        if action.type_name != "aws.ecs.service" || action.kind != ActionKind::Update || !new_revision {
            continue;
        }
        // The settings the deployment runs with: as recorded, with what this plan changes.
        let mut settings = state.resources.get(&action.address).map(|r| r.attributes.clone()).unwrap_or_default();
        for change in &action.changes {
            if let Some(after) = &change.after {
                settings.insert(change.attribute.clone(), after.clone());
            }
        }
        action.rollout = Some(describe(&settings));
    }
}

/// `canary: 10% of traffic for 5 min, then all of it for 5 min; rolled back on ALARM of a, b or by
/// the circuit breaker`.
pub(crate) fn describe(settings: &Attributes) -> String {
    let number = |name: &str| settings.get(name).and_then(Value::as_f64).map(|n| n as i64);
    let bake = number("bake_minutes").unwrap_or(0);
    let shift = number("shift_percent");
    let steps = match settings.get("deployment").and_then(Value::as_str).unwrap_or("rolling") {
        "blue_green" => format!(
            "blue/green: the new revision starts in full beside the old, then takes all traffic at once for {bake} min before the old retires"
        ),
        "linear" => format!(
            "linear: {}% more of the traffic every {bake} min until all of it, then {bake} min before the old revision retires",
            shift.unwrap_or(10)
        ),
        "canary" => format!(
            "canary: {}% of the traffic for {bake} min, then all of it for {bake} min before the old revision retires",
            shift.unwrap_or(10)
        ),
        _ => format!(
            "rolling: tasks replaced while at least {}% stay healthy, at most {}% running",
            number("minimum_healthy_percent").unwrap_or(100),
            number("maximum_percent").unwrap_or(200)
        ),
    };
    let mut stops: Vec<String> = Vec::new();
    let alarms: Vec<&str> = settings
        .get("rollback_alarms")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if !alarms.is_empty() {
        stops.push(format!("ALARM of {}", alarms.join(", ")));
    }
    if settings.get("circuit_breaker").and_then(Value::as_bool) != Some(false) {
        stops.push("the circuit breaker".into());
    }
    match stops.is_empty() {
        true => format!("{steps}; nothing rolls it back"),
        false => format!("{steps}; rolled back on {}", stops.join(" or by ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(entries: &[(&str, Value)]) -> Attributes {
        entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn each_strategy_says_its_steps_and_what_rolls_it_back() {
        let canary = settings(&[
            ("deployment", Value::str("canary")),
            ("shift_percent", Value::Number(10.0)),
            ("bake_minutes", Value::Number(5.0)),
            ("rollback_alarms", Value::List(vec![Value::str("ghost-http-5xx"), Value::str("ghost-unhealthy")])),
        ]);
        assert_eq!(
            describe(&canary),
            "canary: 10% of the traffic for 5 min, then all of it for 5 min before the old revision retires; rolled back on ALARM of ghost-http-5xx, ghost-unhealthy or by the circuit breaker"
        );
        let rolling = settings(&[("circuit_breaker", Value::Bool(false))]);
        assert_eq!(
            describe(&rolling),
            "rolling: tasks replaced while at least 100% stay healthy, at most 200% running; nothing rolls it back"
        );
        let linear = settings(&[
            ("deployment", Value::str("linear")),
            ("shift_percent", Value::Number(25.0)),
            ("bake_minutes", Value::Number(2.0)),
        ]);
        assert!(describe(&linear).starts_with("linear: 25% more of the traffic every 2 min"), "{}", describe(&linear));
    }
}
