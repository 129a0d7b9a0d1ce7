//! The layer rule of the bridge (tests/layers.sh has it in words), checked by parsing what cargo
//! compiles as rustc reads it, not by grepping: the library from src/lib.rs, every binary, and
//! the core from pure/src/lib.rs, each `mod` to its file (`#[path]` too), and every path in
//! them (`use` trees grouped, nested, renamed or globbed; `super::super::`; paths in
//! expressions, types, patterns, attributes and macros, over any number of lines) resolved to
//! the module that defines what it names, through every re-export.
//!
//! `the_bridge_keeps_its_layers` checks the tree; `fixtures` checks the checker: a small tree
//! it accepts, and one breach of each rule and each way around it that a grep would miss.

mod core_rules;
mod fixtures;
mod manifest;
mod resolve;
mod rules;
mod syntax;
mod tokens;
mod tree;
mod walk;

use std::fmt;
use std::path::{Path, PathBuf};

/// A breach of the rule, at the line that makes it.
#[derive(Clone, Debug)]
pub struct Breach {
    pub file: PathBuf,
    pub line: usize,
    pub rule: String,
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.rule)
    }
}

/// Every breach in the workspace at `root`.
pub fn check(root: &Path) -> Vec<Breach> {
    rules::check(root, &manifest::Manifest::read(root))
}

/// The breaches the tree has today, each to fix and then to strike from here: the test fails
/// when one is gone, so the list only shrinks.
const KNOWN: [&str; 0] = [];

#[test]
fn the_bridge_keeps_its_layers() {
    let breaches = check(Path::new(env!("CARGO_MANIFEST_DIR")));
    let known = |b: &Breach| KNOWN.iter().any(|k| b.rule.contains(k));
    for breach in breaches.iter().filter(|b| known(b)) {
        println!("layers: known, to fix: {breach}");
    }
    let new: Vec<_> = breaches.iter().filter(|b| !known(b)).collect();
    for breach in &new {
        println!("layers: {breach}");
    }
    let gone: Vec<_> = KNOWN
        .iter()
        .filter(|k| !breaches.iter().any(|b| b.rule.contains(*k)))
        .collect();
    assert!(
        new.is_empty(),
        "{} breach(es) of the layer rule, above",
        new.len()
    );
    assert!(
        gone.is_empty(),
        "fixed, strike from KNOWN (tests/layers/main.rs): {gone:?}"
    );
    println!(
        "layers: pure (a crate) <- edge <- delivery <- follow_up <- startup, the operator's \
         commands on pure alone, no module pair imports each other"
    );
}
