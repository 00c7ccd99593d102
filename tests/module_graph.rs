//! The module graph has no cycle, and the lower layers import nothing from the upper ones.
//!
//! Every `src/**/*.rs` is read for paths that name a module: `use` trees (braces expanded) and
//! inline paths starting with `crate::`, `super::`, `self::` (and `nitrosim::` in the binary).
//! Comments, strings and character literals are skipped. Two graphs are checked:
//!
//! - between top-level modules (`model`, `report`, `sweep` ...; the binary is `cli`);
//! - inside each folder module, between its children (`model/apps.rs` and `model/failover.rs`
//!   are siblings; a child naming its folder's `mod.rs` items is not an edge).
//!
//! A violation listed in `PENDING_OTHER_BRANCHES` is printed as a warning instead of failing:
//! those belong to other branches of issue #16 and the list is emptied once they are merged.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

/// Layers that simulate; they must not know how a scenario is read, reported, swept or run.
const LOWER: &[&str] = &["model", "ec2", "net", "transport", "workload", "engine"];
/// Layers above the simulation.
const UPPER: &[&str] = &["scenario", "report", "sweep", "validate", "import", "run", "cli"];

/// Violations this branch knows of that other branches of issue #16 remove (the runtime model
/// freed of the scenario schema, the workload layer). Printed as warnings. The lead empties
/// this list after merging those branches; a new violation fails at once.
const PENDING_OTHER_BRANCHES: &[&str] = &[];

/// A module path: `["model", "apps"]`; the library root is `[]`, the binary's root `["cli"]`.
type ModPath = Vec<String>;

struct SourceFile {
    rel: PathBuf,
    module: ModPath,
    /// Whether the file belongs to the binary (`main.rs`, `src/cli/`): there `crate::` is the
    /// binary and `nitrosim::` the library.
    in_binary: bool,
    text: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("src is readable").map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn module_of(rel: &Path) -> (ModPath, bool) {
    let mut parts: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs").to_string();
    let in_binary = (parts.is_empty() && stem == "main") || parts.first().is_some_and(|p| p == "cli");
    match stem.as_str() {
        "lib" if parts.is_empty() => (vec![], false),
        "main" if parts.is_empty() => (vec!["cli".into()], true),
        "mod" => (parts, in_binary),
        _ => {
            parts.push(stem);
            (parts, in_binary)
        }
    }
}

/// The text with comments, strings and character literals blanked (newlines kept, so byte
/// offsets still give line numbers).
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, s: &[u8]| out.extend(s.iter().map(|&c| if c == b'\n' { b'\n' } else { b' ' }));
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            let mut j = 0;
            while j < rest.len() {
                if rest[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &rest[..j]);
            i += j;
        } else if (rest.starts_with(b"r\"") || rest.starts_with(b"r#") || rest.starts_with(b"br"))
            && (i == 0 || !is_ident(b[i - 1]))
            && raw_string_len(rest).is_some()
        {
            let n = raw_string_len(rest).expect("checked");
            blank(&mut out, &rest[..n]);
            i += n;
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let n = (j + 1).min(rest.len());
            blank(&mut out, &rest[..n]);
            i += n;
        } else if rest[0] == b'\'' {
            // A character literal ('a', '\n', '\u{1F600}', '"'); otherwise a lifetime.
            let n = if rest.len() > 2 && rest[1] == b'\\' {
                rest.iter().skip(2).position(|&c| c == b'\'').map(|p| p + 3)
            } else {
                let ch_len = std::str::from_utf8(&rest[1..]).ok().and_then(|s| s.chars().next()).map(char::len_utf8);
                ch_len.filter(|l| rest.get(1 + l) == Some(&b'\'')).map(|l| l + 2)
            };
            match n {
                Some(n) => {
                    blank(&mut out, &rest[..n]);
                    i += n;
                }
                None => {
                    out.push(b'\'');
                    i += 1;
                }
            }
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8 (only ASCII replaced by spaces, whole literals)")
}

fn raw_string_len(s: &[u8]) -> Option<usize> {
    let mut j = if s.starts_with(b"br") { 2 } else { 1 };
    let hashes = s[j..].iter().take_while(|&&c| c == b'#').count();
    j += hashes;
    if s.get(j) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    let body = &s[j + 1..];
    let end = body.windows(close.len()).position(|w| w == close.as_slice())?;
    Some(j + 1 + end + close.len())
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn ident(&mut self) -> Option<String> {
        self.skip_ws();
        let start = self.i;
        if self.b.get(self.i) == Some(&b'*') {
            self.i += 1;
            return Some("*".into());
        }
        while self.i < self.b.len() && is_ident(self.b[self.i]) {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.b[start..self.i]).into_owned())
    }
    fn eat(&mut self, s: &[u8]) -> bool {
        self.skip_ws();
        if self.b[self.i..].starts_with(s) {
            self.i += s.len();
            true
        } else {
            false
        }
    }
    /// A path or use tree after `prefix::`: every full path it names.
    fn tree(&mut self, prefix: &[String], out: &mut Vec<Vec<String>>) {
        if self.eat(b"{") {
            loop {
                if self.eat(b"}") {
                    return;
                }
                self.tree(prefix, out);
                if !self.eat(b",") {
                    self.eat(b"}");
                    return;
                }
            }
        }
        let Some(name) = self.ident() else {
            out.push(prefix.to_vec());
            return;
        };
        let mut path = prefix.to_vec();
        path.push(name);
        if self.eat(b"::") {
            self.tree(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every module-naming path in a file, resolved to an absolute module path, with its line.
fn references(f: &SourceFile) -> Vec<(ModPath, usize)> {
    let code = code_only(&f.text);
    let b = code.as_bytes();
    let mut out = Vec::new();
    let heads: &[&str] =
        if f.in_binary { &["crate", "super", "self", "nitrosim"] } else { &["crate", "super", "self"] };
    let mut i = 0;
    while i < b.len() {
        if !is_ident(b[i]) || (i > 0 && (is_ident(b[i - 1]) || b[i - 1] == b'$')) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        let word = &code[start..i];
        if !heads.contains(&word) {
            continue;
        }
        let mut p = Parser { b, i };
        if !p.eat(b"::") {
            continue;
        }
        let mut paths = Vec::new();
        p.tree(&[word.to_string()], &mut paths);
        let line = code[..start].matches('\n').count() + 1;
        for raw in paths {
            if let Some(abs) = resolve(f, &raw) {
                out.push((abs, line));
            }
        }
        i = p.i.max(i);
    }
    out
}

fn resolve(f: &SourceFile, raw: &[String]) -> Option<ModPath> {
    let mut base: ModPath = match raw[0].as_str() {
        "crate" if f.in_binary => vec!["cli".into()],
        "crate" | "nitrosim" => vec![],
        "self" => f.module.clone(),
        "super" => {
            let mut m = f.module.clone();
            m.pop()?;
            m
        }
        _ => return None,
    };
    let mut rest = raw[1..].iter().peekable();
    while rest.peek().is_some_and(|s| *s == "super") {
        rest.next();
        base.pop()?;
    }
    base.extend(rest.filter(|s| *s != "self" && *s != "*").cloned());
    Some(base)
}

/// Strongly connected components with more than one node (Tarjan, iterative enough for our sizes).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.keys().chain(edges.values().flatten()).collect();
    let reach = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for m in edges.get(&n).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    todo.push(m.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> = nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for n in &nodes {
        if done.contains(*n) || !reachable[n].contains(*n) {
            continue;
        }
        let scc: Vec<String> = nodes
            .iter()
            .filter(|m| reachable[n].contains(**m) && reachable[*m].contains(*n))
            .map(|m| (*m).clone())
            .collect();
        done.extend(scc.iter().cloned());
        out.push(scc);
    }
    out
}

/// One concrete cycle through `start` (shortest), for the message.
fn cycle_through(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Vec<String> {
    let mut prev: BTreeMap<String, String> = BTreeMap::new();
    let mut todo = VecDeque::from([start.to_string()]);
    while let Some(n) = todo.pop_front() {
        for m in edges.get(&n).into_iter().flatten() {
            if m == start {
                let mut path = vec![start.to_string()];
                let mut at = n.clone();
                while at != start {
                    path.push(at.clone());
                    at = prev[&at].clone();
                }
                path.push(start.to_string());
                let last = path.len() - 1;
                path[1..last].reverse();
                return path;
            }
            if !prev.contains_key(m) {
                prev.insert(m.clone(), n.clone());
                todo.push_back(m.clone());
            }
        }
    }
    vec![]
}

#[test]
fn no_module_cycles_and_lower_layers_stay_below() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&root, &mut paths);
    let files: Vec<SourceFile> = paths
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).expect("under src").to_path_buf();
            let (module, in_binary) = module_of(&rel);
            SourceFile { text: std::fs::read_to_string(p).expect("readable"), rel, module, in_binary }
        })
        .collect();
    // Every module that is a file or folder (inline `mod x {}` blocks are part of their file).
    let modules: BTreeSet<ModPath> =
        files.iter().flat_map(|f| (1..=f.module.len()).map(|n| f.module[..n].to_vec())).collect();
    let top: BTreeSet<&str> = modules.iter().map(|m| m[0].as_str()).collect();
    assert!(top.contains("model") && top.contains("report") && top.contains("cli"), "module scan found {top:?}");

    // Edges with one example site each: (graph, from, to) -> "file:line".
    let mut site: BTreeMap<(ModPath, String, String), String> = BTreeMap::new();
    let mut refs_seen = 0;
    for f in &files {
        for (target, line) in references(f) {
            refs_seen += 1;
            let here = format!("src/{}:{line}", f.rel.display());
            // Top level: from the file's top module to the target's, when both are modules.
            let from_top = f.module.first().cloned().unwrap_or_else(|| "lib".into());
            if let Some(to_top) = target.first().filter(|t| top.contains(t.as_str()))
                && *to_top != from_top
            {
                site.entry((vec![], from_top.clone(), to_top.clone())).or_insert(here.clone());
            }
            // Inside each folder module: between its children that are modules.
            let common = f.module.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common < f.module.len() && common < target.len() {
                let parent = f.module[..common].to_vec();
                let child_to = [parent.clone(), vec![target[common].clone()]].concat();
                if !parent.is_empty() && modules.contains(&child_to) {
                    site.entry((parent, f.module[common].clone(), target[common].clone())).or_insert(here);
                }
            }
        }
    }
    assert!(refs_seen > 500, "only {refs_seen} module references found: the scan is broken");

    let mut graphs: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (g, a, b) in site.keys() {
        graphs.entry(g.clone()).or_default().entry(a.clone()).or_default().insert(b.clone());
    }
    let mut violations: Vec<(String, String)> = Vec::new();
    for (g, edges) in &graphs {
        let name = if g.is_empty() { "top level".to_string() } else { g.join("::") };
        for scc in cycles(edges) {
            let path = cycle_through(edges, &scc[0]);
            let how: Vec<String> = path
                .windows(2)
                .map(|w| format!("    {} -> {} ({})", w[0], w[1], site[&(g.clone(), w[0].clone(), w[1].clone())]))
                .collect();
            violations.push((format!("cycle in {name}: {}", scc.join(", ")), how.join("\n")));
        }
    }
    let top_edges = graphs.get(&vec![]).cloned().unwrap_or_default();
    for low in LOWER {
        for up in UPPER {
            if top_edges.get(*low).is_some_and(|t| t.contains(*up)) {
                let at = &site[&(vec![], low.to_string(), up.to_string())];
                violations.push((format!("layer: {low} -> {up}"), format!("    e.g. {at}")));
            }
        }
    }

    let mut failures = Vec::new();
    for (key, how) in &violations {
        if PENDING_OTHER_BRANCHES.contains(&key.as_str()) {
            eprintln!("warning (pending other branches of #16): {key}\n{how}");
        } else {
            failures.push(format!("{key}\n{how}"));
        }
    }
    for p in PENDING_OTHER_BRANCHES {
        if !violations.iter().any(|(k, _)| k == p) {
            eprintln!("note: PENDING_OTHER_BRANCHES entry {p:?} no longer occurs: remove it");
        }
    }
    assert!(failures.is_empty(), "module graph violations:\n{}", failures.join("\n"));
}

#[test]
fn the_scanner_reads_use_trees_and_skips_comments_and_strings() {
    let f = SourceFile {
        rel: "model/apps.rs".into(),
        module: vec!["model".into(), "apps".into()],
        in_binary: false,
        text: "use crate::{net::{Packet, port::Port}, units};\n// crate::report::x\nlet s = \"crate::sweep\";\n\
               let c = '\"'; let l: &'a str = x;\nsuper::failover::run(); self::inner::f(); $crate::engine::x;\n"
            .into(),
    };
    let got: Vec<String> = references(&f).into_iter().map(|(p, l)| format!("{}@{l}", p.join("::"))).collect();
    assert_eq!(
        got,
        ["net::Packet@1", "net::port::Port@1", "units@1", "model::failover::run@5", "model::apps::inner::f@5"],
        "the scanner's view of a sample file"
    );
}
