//! `--set path=value` and variant overrides.
//!
//! The spec is turned into a JSON value tree, the path is followed, the value replaced, and the
//! tree is deserialised back into the typed spec, so an override goes through the same checks as
//! the file. Paths use field names; list elements are addressed by their `name` (or index), and a
//! tagged workload (`Bulk(...)`) is entered transparently: `workloads.bulk.flows=8`,
//! `instances.b.placement_group=None`, `tcp.congestion=NewReno`, `fabric.spines=8`.

use super::spec::ScenarioSpec;
use serde_json::Value;

/// Parse an override value: JSON if it parses (numbers, booleans, quoted strings, lists),
/// `None`/`null` as absent, anything else as a plain string ("100Gbps", "NewReno").
pub fn parse_value(text: &str) -> Value {
    let t = text.trim();
    if t == "None" || t == "null" {
        return Value::Null;
    }
    if let Some(inner) = t.strip_prefix("Some(").and_then(|r| r.strip_suffix(')')) {
        return parse_value(inner);
    }
    serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_string()))
}

fn keys_of(v: &Value) -> Vec<String> {
    match v {
        // An externally tagged enum (`{"Bulk": {...}}`) is entered transparently (`step`), so its
        // fields are what a path may name there, not the variant's tag.
        Value::Object(m) if m.len() == 1 && m.values().next().is_some_and(Value::is_object) => {
            m.values().next().map(keys_of).unwrap_or_default()
        }
        Value::Object(m) => m.keys().cloned().collect(),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, e)| element_name(e).map(str::to_string).unwrap_or_else(|| i.to_string()))
            .collect(),
        _ => vec![],
    }
}

/// The `name` of a list element, looking inside a single-key enum wrapper.
fn element_name(e: &Value) -> Option<&str> {
    let obj = e.as_object()?;
    if let Some(Value::String(n)) = obj.get("name") {
        return Some(n);
    }
    if obj.len() == 1 {
        return obj.values().next()?.get("name")?.as_str();
    }
    None
}

fn step<'a>(v: &'a mut Value, seg: &str) -> Option<&'a mut Value> {
    match v {
        Value::Array(a) => {
            if let Some(i) = a.iter().position(|e| element_name(e) == Some(seg)) {
                return a.get_mut(i);
            }
            seg.parse::<usize>().ok().and_then(move |i| a.get_mut(i))
        }
        Value::Object(m) => {
            if m.contains_key(seg) {
                return m.get_mut(seg);
            }
            // Enter an externally tagged enum (`{"Bulk": {...}}`) transparently.
            if m.len() == 1 {
                let inner = m.values_mut().next()?;
                if inner.is_object() {
                    return step(inner, seg);
                }
            }
            None
        }
        _ => None,
    }
}

/// Apply one override. Errors say which part of the path failed and what exists there.
pub fn apply(spec: &ScenarioSpec, path: &str, value: &str) -> Result<ScenarioSpec, (String, String)> {
    let mut tree = serde_json::to_value(spec).expect("spec serialises");
    let segs: Vec<&str> = path.split('.').collect();
    if path.is_empty() || segs.iter().any(|s| s.is_empty()) {
        return Err((format!("empty override path {path:?}"), "a dotted path such as tcp.congestion".into()));
    }
    let (last, parents) = segs.split_last().expect("non-empty");
    let mut cur = &mut tree;
    for (i, seg) in parents.iter().enumerate() {
        let here = segs[..i].join(".");
        let keys = keys_of(cur);
        cur = step(cur, seg).ok_or_else(|| {
            (format!("no `{seg}` under `{}`", if here.is_empty() { "<scenario>" } else { &here }), keys.join(", "))
        })?;
    }
    let new = parse_value(value);
    let slot = match cur {
        Value::Object(m) if m.contains_key(*last) => m.get_mut(*last).expect("checked"),
        Value::Object(m) if m.len() == 1 && m.values().next().is_some_and(|v| v.get(*last).is_some()) => {
            m.values_mut().next().and_then(|v| v.get_mut(*last)).expect("checked")
        }
        Value::Array(a) if a.iter().any(|e| element_name(e) == Some(*last)) => {
            let entry = a.iter().find(|e| element_name(e) == Some(*last)).expect("checked");
            return Err((format!("`{path}` is a whole list entry; set one of its fields"), keys_of(entry).join(", ")));
        }
        other => {
            let keys = keys_of(other);
            return Err((format!("no field `{last}` at `{}`", parents.join(".")), keys.join(", ")));
        }
    };
    *slot = new;
    serde_json::from_value::<ScenarioSpec>(tree)
        .map_err(|e| (format!("value {value:?} does not fit `{path}`: {e}"), "a value of the field's type".into()))
}
