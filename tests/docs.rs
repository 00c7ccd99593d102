//! The API docs build without a warning: `cargo doc --no-deps` with `RUSTDOCFLAGS="-D warnings"`,
//! so a link to an item that was renamed, made private or removed, or a bare URL, fails the tests
//! (CI runs exactly the README's test command, so this is where the docs are checked).
//!
//! It builds into `target/doc-check`, apart from the tests' own build: the first run there checks
//! the dependencies once (about a minute on two cores); later runs rebuild only this crate's docs.

use std::path::Path;
use std::process::Command;

#[test]
fn api_docs_build_without_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["doc", "--no-deps", "--offline", "--quiet"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .env("CARGO_TARGET_DIR", root.join("target").join("doc-check"))
        // The outer `cargo test`'s settings for its own build are not this build's.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cargo doc --no-deps with RUSTDOCFLAGS=\"-D warnings\" failed:\n{stderr}");
    // A warning rustdoc printed without failing (one -D warnings does not cover) still counts.
    assert!(!stderr.contains("warning:"), "cargo doc printed warnings:\n{stderr}");
    assert!(root.join("target/doc-check/doc/nitrosim/index.html").is_file(), "no docs were written");
}
