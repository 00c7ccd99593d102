//! Property test: mutated and truncated scenario text never makes the loader (or, when the text
//! still validates, the model builder) panic. Errors are fine; panics are bugs.

use nitrosim::scenario::{self, BUNDLED};
use proptest::prelude::*;
use proptest::sample::Index;

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
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_never_panic(
        which in 0..BUNDLED.len(),
        edits in prop::collection::vec((any::<Index>(), any::<Index>(), any::<u8>()), 0..6),
        cut in prop::option::of(any::<Index>()),
    ) {
        let text = mutate(BUNDLED[which].1, &edits, cut);
        if let Ok(variants) = scenario::load("fuzz.ron", &text, &[], None) {
            for v in &variants {
                let _ = nitrosim::model::build::build(&v.name, &v.spec);
            }
        }
    }

    #[test]
    fn arbitrary_overrides_never_panic(path in "[a-z_.]{1,30}", value in "[ -~]{0,20}") {
        let _ = scenario::load("x.ron", BUNDLED[0].1, &[format!("{path}={value}")], None);
    }
}
