//! The core's own rules: its manifest names only plain data crates (by package: a rename does
//! not hide one; for any target) and it has no build script; and what of the system a path
//! into std reaches, which the core's code (its unit tests aside) may not.

use std::path::Path;

use crate::manifest::Manifest;
use crate::Breach;

/// The plain data crates the core may depend on.
const CORE_DEPS: [&str; 10] = [
    "http",
    "serde",
    "serde_json",
    "subtle",
    "hmac",
    "sha2",
    "hex",
    "thiserror",
    "regex-lite",
    "serde_path_to_error",
];

/// The core's manifest names only plain data crates, and it has no build script.
pub fn manifest_breaches(root: &Path, manifest: &Manifest) -> Vec<Breach> {
    let file = manifest.core_manifest.clone();
    let text = std::fs::read_to_string(root.join(&file)).unwrap_or_default();
    let mut out = Vec::new();
    for dep in &manifest.core_deps {
        if !CORE_DEPS.contains(&dep.package.as_str()) {
            let line = text
                .lines()
                .position(|l| names_dep(l, &dep.key))
                .map_or(1, |i| i + 1);
            let rule = format!(
                "the core depends on {}, not a plain data crate",
                dep.package
            );
            out.push(Breach {
                file: file.clone(),
                line,
                rule,
            });
        }
    }
    if manifest.core_build_script {
        let rule = "the core has a build script: code the checker does not read".into();
        out.push(Breach {
            file,
            line: 1,
            rule,
        });
    }
    out
}

/// Whether a manifest line names the dependency `key` (`key = ..`, `[dependencies.key]`, ...).
fn names_dep(line: &str, key: &str) -> bool {
    let line = line.trim();
    let rest = line
        .strip_prefix(key)
        .or_else(|| line.strip_prefix(&format!("\"{key}\"")));
    let keyed = rest.is_some_and(|r| r.trim_start().starts_with(['=', '.']));
    keyed || line.ends_with(&format!(".{key}]"))
}

/// What of the system a path into std reaches, if anything.
pub fn system(path: &[String], is_macro: bool) -> Option<&'static str> {
    const STREAMS: [&str; 12] = [
        "stdin",
        "stdout",
        "stderr",
        "Stdin",
        "Stdout",
        "Stderr",
        "StdinLock",
        "StdoutLock",
        "StderrLock",
        "IsTerminal",
        "_print",
        "_eprint",
    ];
    const PRINTS: [&str; 5] = ["println", "print", "eprintln", "eprint", "dbg"];
    const SOCKETS: [&str; 6] = [
        "TcpStream",
        "TcpListener",
        "UdpSocket",
        "ToSocketAddrs",
        "Incoming",
        "IntoIncoming",
    ];
    let segs: Vec<&str> = path.iter().map(String::as_str).collect();
    let rest = match segs.as_slice() {
        ["std" | "core" | "alloc", rest @ ..] => rest,
        _ => return None,
    };
    match rest {
        ["env"] if is_macro => None,
        ["env", ..] => Some("the environment"),
        ["fs", ..] | ["path", ..] => Some("the files"),
        ["process", ..] => Some("processes"),
        ["thread", ..] => Some("threads"),
        ["os", ..] => Some("the operating system"),
        ["net", s, ..] if SOCKETS.contains(s) => Some("sockets"),
        ["io", s, ..] if STREAMS.contains(s) => Some("the standard streams"),
        [s] if PRINTS.contains(s) => Some("the standard streams"),
        ["time", "Instant" | "SystemTime", "now" | "elapsed", ..] => Some("the clock"),
        [.., "asm" | "global_asm" | "naked_asm"] => Some("machine code (asm!)"),
        _ => None,
    }
}
