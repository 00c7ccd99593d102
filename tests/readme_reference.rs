//! Keeps README.md's output reference true: the `drops` entry of `summary.json` names every drop
//! reason the model can record, the `events.jsonl` entry every event kind it can log, and the
//! flow-log replay sample is what the bundled scenario prints.

use nitrosim::net::packet::DropReason;

const README: &str = include_str!("../README.md");

/// The README's text from `start` up to the next blank line.
fn entry(start: &str) -> String {
    let from = README.find(start).unwrap_or_else(|| panic!("README has no entry starting {start:?}"));
    README[from..].split("\n\n").next().unwrap().to_string()
}

#[test]
fn the_summary_reference_names_every_drop_reason() {
    let drops = entry("  drops             reason -> count");
    let words: Vec<&str> = drops.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
    for reason in DropReason::ALL {
        assert!(words.contains(&reason.name()), "README's `drops` entry does not name {}", reason.name());
    }
}

#[test]
fn the_events_reference_names_every_event_kind() {
    // The kinds are string literals where entries are made (`event: "..."`); read them from the
    // source, so that a new kind cannot be added without the README naming it.
    let mut kinds = std::collections::BTreeSet::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for part in text.split("event: \"").skip(1) {
                    kinds.insert(part.split('"').next().unwrap().to_string());
                }
            }
        }
    }
    assert!(kinds.len() >= 10 && kinds.contains("drop") && kinds.contains("rto"), "found {kinds:?}");
    let row = entry("| `events.jsonl` |");
    let listed = row.split("`event` (").nth(1).and_then(|r| r.split(')').next()).expect("the kinds in parentheses");
    let listed: Vec<&str> = listed.split(", ").collect();
    for kind in &kinds {
        assert!(listed.contains(&kind.as_str()), "README's `events.jsonl` row does not name {kind}");
    }
}

#[test]
fn the_flow_log_replay_sample_is_what_the_bundled_scenario_prints() {
    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_nitrosim"))
        .args(["run", "scenarios/imported-web-tier.ron", "--out"])
        .arg(out.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8(run.stdout).unwrap();
    let printed = &stdout[stdout.find("== flow log replay").expect("the replay table")..];
    let printed = printed.split("\n\n").next().unwrap().trim_end();
    let sample = &README[README.find("```text\n== flow log replay").expect("README's sample") + 8..];
    let sample = sample.split("```").next().unwrap().trim_end();
    assert_eq!(sample, printed, "README's flow log replay sample is stale: paste the table above");
}
