//! The shared diagnostics helper: every rule reports through [`Ctx`], which points at the
//! offending text of the file.

use crate::scenario::error::{Diagnostic, did_you_mean, locate_exact, locate_nth};
use crate::units::SimDuration;
use std::collections::BTreeSet;

#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub(super) file: &'a str,
    pub(super) src: &'a str,
    /// Where (1-based line) the search for the text an error is about begins; the whole file is
    /// searched after, if nothing matches from here. A section's rules point into their section,
    /// not at an earlier item of the same name (an instance named like a workload).
    pub(super) first_line: usize,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(file: &'a str, src: &'a str) -> Ctx<'a> {
        Ctx { file, src, first_line: 1 }
    }

    /// This context, searching first from the line where `key:` is written (the top level's
    /// first, as sections come before the items in them).
    pub(super) fn within(&self, key: &str) -> Ctx<'a> {
        match locate_exact(self.src, key, "", 0) {
            Some((line, _)) => Ctx { first_line: line, ..*self },
            None => *self,
        }
    }

    /// Where the `nth` `key: "value"` is written, from `first_line` on if it is there.
    pub(super) fn locate_nth(&self, key: &str, value: &str, nth: usize) -> (usize, usize) {
        if self.first_line > 1 {
            let offset: usize = self.src.split_inclusive('\n').take(self.first_line - 1).map(str::len).sum();
            if let Some((l, c)) = locate_exact(&self.src[offset..], key, value, nth) {
                return (l + self.first_line - 1, c);
            }
        }
        locate_nth(self.src, key, value, nth)
    }

    pub(super) fn err(&self, key: &str, value: &str, message: String, expected: String, hint: String) -> Diagnostic {
        let (l, c) = self.locate_nth(key, value, 0);
        Diagnostic::new(self.file, message).at(self.src, l, c).expected(expected).hint(hint)
    }
    pub(super) fn range<T: PartialOrd + std::fmt::Display + Copy>(
        &self,
        key: &str,
        v: T,
        lo: T,
        hi: T,
        hint: &str,
    ) -> Result<(), Diagnostic> {
        if v < lo || v > hi {
            return Err(self.err(
                key,
                &v.to_string(),
                format!("`{key}` is {v}, out of range"),
                format!("{lo} ..= {hi}"),
                hint.into(),
            ));
        }
        Ok(())
    }
    pub(super) fn positive(&self, key: &str, d: SimDuration) -> Result<(), Diagnostic> {
        if d == SimDuration::ZERO {
            return Err(self.err(
                key,
                "0",
                format!("`{key}` must be longer than zero"),
                "a positive duration such as \"10us\"".into(),
                "zero would make events pile up at one instant".into(),
            ));
        }
        Ok(())
    }
}

pub(super) fn unique<'a>(
    cx: &Ctx,
    what: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeSet<&'a str>, Diagnostic> {
    let mut seen = BTreeSet::new();
    for n in names {
        if n.is_empty() {
            return Err(cx.err(
                "name",
                "",
                format!("a {what} has an empty name"),
                "a non-empty name".into(),
                "names are how the rest of the file refers to it".into(),
            ));
        }
        if !seen.insert(n) {
            let (l, c) = cx.locate_nth("name", n, 1);
            return Err(Diagnostic::new(cx.file, format!("two {what}s are named {n:?}"))
                .at(cx.src, l, c)
                .expected(format!("unique {what} names"))
                .hint("rename one of them"));
        }
    }
    Ok(seen)
}

pub(super) fn reference(cx: &Ctx, key: &str, name: &str, known: &BTreeSet<&str>, what: &str) -> Result<(), Diagnostic> {
    if known.contains(name) {
        return Ok(());
    }
    let list: Vec<String> = known.iter().map(|k| format!("{k:?}")).collect();
    let hint = match did_you_mean(name, known.iter().copied()) {
        Some(m) => format!("did you mean {m:?}?"),
        None => format!("define {what} {name:?} first, or fix the name"),
    };
    Err(cx.err(
        key,
        name,
        format!("unknown {what} {name:?}"),
        if list.is_empty() {
            format!("the name of a {what}; the scenario defines none")
        } else {
            format!("one of the {what}s defined: {}", list.join(", "))
        },
        hint,
    ))
}
