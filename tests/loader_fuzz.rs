//! Property test: mutated and truncated scenario text never makes the loader (or, when the text
//! still validates, the model builder) panic. Errors are fine; panics are bugs.

use nitrosim::scenario::{self, BUNDLED};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::RngSeed;

/// Random inputs on a developer's machine, where each run may find something new; a fixed seed
/// under CI, so that a submission's CI run is the same test whenever it runs, and a failure there
/// reproduces (`CI=true cargo test --test loader_fuzz`). `PROPTEST_RNG_SEED`, if set, still
/// chooses.
fn fuzz_config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
    if std::env::var("CI").as_deref() == Ok("true") && std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0x6e69_7472_6f73_696d); // "nitrosim" in ASCII
    }
    config
}

const ALPHABET: &[char] = &[
    '(', ')', '[', ']', '{', '}', ':', ',', '"', '.', '-', '_', ' ', '\n', '/', '0', '1', '9', 'a', 'e', 's', 'u', 'B',
    'G', 'K', 'M', 'S',
];

fn mutate(text: &str, edits: &[(Index, Index, u8)], cut: Option<Index>) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (at, with, op) in edits {
        if chars.is_empty() {
            break;
        }
        let i = at.index(chars.len());
        let c = ALPHABET[with.index(ALPHABET.len())];
        match op % 3 {
            0 => {
                chars.remove(i);
            }
            1 => chars.insert(i, c),
            _ => chars[i] = c,
        }
    }
    if let Some(cut) = cut {
        let n = cut.index(chars.len() + 1);
        chars.truncate(n);
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(fuzz_config(3000))]

    #[test]
    fn mutated_scenarios_never_panic(
        which in 0..BUNDLED.len(),
        edits in prop::collection::vec((any::<Index>(), any::<Index>(), any::<u8>()), 0..6),
        cut in prop::option::of(any::<Index>()),
    ) {
        let text = mutate(BUNDLED[which].1, &edits, cut);
        if let Ok(variants) = scenario::load("fuzz.ron", &text, &[], None) {
            for v in &variants {
                let _ = nitrosim::scenario::build::build(&v.name, &v.spec);
            }
        }
    }

    #[test]
    fn arbitrary_overrides_never_panic(path in "[a-z_.]{1,30}", value in "[ -~]{0,20}") {
        let _ = scenario::load("x.ron", BUNDLED[0].1, &[format!("{path}={value}")], None);
    }
}

/// Every path `--set` can address in a bundled scenario (objects by key, lists by name or index).
fn paths_of(text: &str) -> Vec<String> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        if !prefix.is_empty() {
            out.push(prefix.to_string());
        }
        let join = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    walk(&join(k), x, out);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(&join(&i.to_string()), x, out);
                }
            }
            _ => {}
        }
    }
    let spec = scenario::parse("x.ron", text).unwrap();
    let mut out = Vec::new();
    walk("", &serde_json::to_value(&spec).unwrap(), &mut out);
    out
}

/// Values a hostile user would try: huge, negative, zero, fractional, unicode, nested.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("4294967295".to_string()),
        Just("18446744073709551615".to_string()),
        Just("1e308".to_string()),
        Just("NaN".to_string()),
        Just("\"0bps\"".to_string()),
        Just("\"3600s\"".to_string()),
        Just("\"1TiB\"".to_string()),
        Just("[]".to_string()),
        Just("{\"Linear\": {\"from\": 1, \"to\": 2, \"steps\": 4000000000}}".to_string()),
        Just("None".to_string()),
        Just("\"é—\u{feff}\"".to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        "[ -~]{0,12}",
    ]
}

proptest! {
    #![proptest_config(fuzz_config(1500))]

    /// A `--set` of a real path to a hostile value either fails with a diagnostic or gives a
    /// scenario whose memory estimate and sweep grid are computed without panicking or allocating
    /// what the limits refuse.
    #[test]
    fn hostile_sets_on_real_paths_are_refused_or_safe(
        which in 0..BUNDLED.len(),
        pick in any::<Index>(),
        value in hostile_value(),
    ) {
        let (file, text) = BUNDLED[which];
        let paths = paths_of(text);
        let path = &paths[pick.index(paths.len())];
        let sets = vec![format!("{path}={value}")];
        match scenario::load(file, text, &sets, None) {
            Ok(variants) => {
                let specs: Vec<_> = variants.iter().map(|v| &v.spec).collect();
                let (bytes, _) = scenario::budget::estimate_run(&specs, true, 2);
                prop_assert!(bytes > 0);
                if text.contains("sweep:") {
                    let _ = nitrosim::sweep::prepare(file, text, &sets);
                }
            }
            Err(d) => {
                let shown = d.to_string();
                prop_assert!(shown.starts_with("error: "));
                prop_assert!(shown.len() < 20_000, "{} bytes", shown.len());
            }
        }
    }
}
