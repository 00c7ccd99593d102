//! Scenario diagnostics: where (file, line, column), what was wrong, what was expected, a hint.
//! Rendered like a compiler error, with the offending line and a caret.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based; 0 when the problem has no place in the file (e.g. a `--set` argument).
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub expected: String,
    pub hint: String,
    /// The source line (or a window of a long one), for the caret display.
    pub snippet: Option<String>,
    /// The caret's column in `snippet` when it is a window of the line.
    pub snippet_col: Option<usize>,
}

/// Longest source excerpt shown under an error.
pub const SNIPPET_CHARS: usize = 120;

impl Diagnostic {
    /// The same problem, blamed on the `--set` overrides that caused it: the file alone was
    /// valid, so pointing at the line of the value they replaced would mislead.
    pub fn blamed_on_sets(self, sets: &[String]) -> Diagnostic {
        let given: Vec<String> = sets.iter().map(|s| format!("--set {s}")).collect();
        Diagnostic {
            file: "--set".into(),
            line: 0,
            col: 0,
            snippet: None,
            snippet_col: None,
            message: format!("{} (after {})", self.message, given.join(" ")),
            ..self
        }
    }

    pub fn new(file: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_string(),
            line: 0,
            col: 0,
            message: message.into(),
            expected: String::new(),
            hint: String::new(),
            snippet: None,
            snippet_col: None,
        }
    }
    pub fn at(mut self, src: &str, line: usize, col: usize) -> Self {
        self.line = line.max(1);
        self.col = col.max(1);
        self.snippet = src.lines().nth(self.line - 1).map(|l| self.window(l));
        self
    }

    /// At most `SNIPPET_CHARS` characters of a line around the column (a 200 KB line is not
    /// printed whole); the column is moved to stay under the same character.
    fn window(&mut self, line: &str) -> String {
        let line = line.strip_prefix('\u{feff}').unwrap_or(line);
        let n = line.chars().count();
        if n <= SNIPPET_CHARS {
            return line.to_string();
        }
        let start = self.col.saturating_sub(SNIPPET_CHARS / 2).min(n.saturating_sub(SNIPPET_CHARS));
        let body: String = line.chars().skip(start).take(SNIPPET_CHARS).collect();
        let (lead, tail) = (if start > 0 { "…" } else { "" }, if start + SNIPPET_CHARS < n { "…" } else { "" });
        self.snippet_col = Some(self.col - start + lead.chars().count());
        format!("{lead}{body}{tail}")
    }
    pub fn expected(mut self, e: impl Into<String>) -> Self {
        self.expected = e.into();
        self
    }
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = h.into();
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        if self.line > 0 {
            writeln!(f, "  --> {}:{}:{}", self.file, self.line, self.col)?;
            if let Some(s) = &self.snippet {
                let n = self.line.to_string();
                let pad = " ".repeat(n.len());
                writeln!(f, "{pad} |")?;
                writeln!(f, "{n} | {s}")?;
                // Columns count characters; tabs are kept so the caret lines up.
                let col = self.snippet_col.unwrap_or(self.col);
                let lead: String =
                    s.chars().take(col.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
                writeln!(f, "{pad} | {lead}^")?;
            }
        } else {
            writeln!(f, "  --> {}", self.file)?;
        }
        if !self.expected.is_empty() {
            writeln!(f, "  = expected: {}", self.expected)?;
        }
        if !self.hint.is_empty() {
            writeln!(f, "  = hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Find where `key: "value"` (or `key: value`) is written, to point a semantic error at it.
/// Falls back to the first `"value"`, then to the key, then to the top of the file.
pub fn locate(src: &str, key: &str, value: &str) -> (usize, usize) {
    locate_nth(src, key, value, 0)
}

/// Like `locate`, for the `nth` (0-based) place where `key: "value"` is written.
pub fn locate_nth(src: &str, key: &str, value: &str, nth: usize) -> (usize, usize) {
    let (exact, key_only) = search(src, key, value, nth);
    if let Some(at) = exact {
        return at;
    }
    let quoted = format!("\"{value}\"");
    if !value.is_empty() {
        for (i, line) in src.lines().enumerate() {
            if let Some(p) = line.find(&quoted) {
                return (i + 1, line[..p].chars().count() + 1);
            }
        }
    }
    key_only.unwrap_or((1, 1))
}

/// The `nth` place where `key: "value"` (or, with an empty value, `key:`) is written, without
/// `locate`'s fallbacks.
pub fn locate_exact(src: &str, key: &str, value: &str, nth: usize) -> Option<LineCol> {
    search(src, key, value, nth).0
}

/// A 1-based line and column.
type LineCol = (usize, usize);

/// The `nth` exact match, and the first place the key is written with another value.
fn search(src: &str, key: &str, value: &str, mut nth: usize) -> (Option<LineCol>, Option<LineCol>) {
    let quoted = format!("\"{value}\"");
    let mut key_only = None;
    for (i, line) in src.lines().enumerate() {
        let code = line.split("//").next().unwrap_or(line);
        let mut from = 0;
        while let Some(pos) = code[from..].find(key) {
            let k = from + pos;
            from = k + key.len();
            let before_ok = k == 0 || !code.as_bytes()[k - 1].is_ascii_alphanumeric() && code.as_bytes()[k - 1] != b'_';
            let rest = code[k + key.len()..].trim_start();
            if !before_ok || !rest.starts_with(':') {
                continue;
            }
            let after_colon = rest[1..].trim_start();
            // Columns count characters, as the caret display does (and ron's own positions).
            let col_of = |s: &str| code[..code.len() - s.len()].chars().count() + 1;
            if value.is_empty() {
                return (Some((i + 1, col_of(after_colon))), key_only);
            }
            let v = after_colon.strip_prefix("Some(").unwrap_or(after_colon).trim_start();
            // Unquoted, the whole token (`flows: 0` is not `flows: 0x1`), or the same number
            // written another way (an f64 written 1.50 or 1.0 is shown as 1.5 or 1).
            let token = v.split(|c: char| !(c.is_ascii_alphanumeric() || "_.+-".contains(c))).next().unwrap_or("");
            let bare =
                token == value || matches!((token.parse::<f64>(), value.parse::<f64>()), (Ok(a), Ok(b)) if a == b);
            if v.starts_with(&quoted) || bare {
                if nth == 0 {
                    return (Some((i + 1, col_of(v))), key_only);
                }
                nth -= 1;
                continue;
            }
            key_only.get_or_insert((i + 1, code[..k].chars().count() + 1));
        }
    }
    (None, key_only)
}

pub use crate::names::did_you_mean;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_key_value_pairs() {
        let src = "(\n  a: \"x\",\n  to: \"c\", // to: \"d\"\n  b: Some(\"c\"),\n)";
        assert_eq!(locate(src, "to", "c"), (3, 7));
        assert_eq!(locate(src, "b", "c"), (4, 11));
        assert_eq!(locate(src, "zz", "nothing"), (1, 1));
        // Without the fallbacks: a key written with another value, or a bare quoted value, is no match.
        assert_eq!(locate_exact(src, "to", "d", 0), None);
        assert_eq!(locate_exact(src, "a", "c", 0), None);
        assert_eq!(locate(src, "a", "c"), (3, 7), "the first quoted \"c\" stands in");
        assert_eq!(locate_exact(src, "b", "", 0), Some((4, 6)));
        // A bare value matches whole tokens only.
        let src = "(\n  flows: 0x1,\n  flows: 0,\n  rate: 0.5,\n  rate: 1.50,\n)";
        assert_eq!(locate(src, "flows", "0"), (3, 10));
        assert_eq!(locate_exact(src, "rate", "0", 0), None, "0 is not 0.5");
        assert_eq!(locate_exact(src, "rate", "1.5", 0), Some((5, 9)), "1.50 is 1.5");
        assert_eq!(did_you_mean("flwos", ["flows", "from", "to"]), Some("flows"));
        assert_eq!(did_you_mean("qqqqqq", ["flows"]), None);
    }
}
