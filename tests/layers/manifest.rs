//! What cargo compiles, as cargo itself reads the manifests (`cargo metadata`): the library and
//! binaries of the bridge, the core crate and the dependencies of the core.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The crates the checker reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrateKind {
    /// The bridge's library, `src/lib.rs`.
    Lib,
    /// A binary of the bridge, by its target name (`bootstrap`, `policy`, ...).
    Bin(String),
    /// The pure core, `pure/src/lib.rs`.
    Core,
}

/// A dependency of the core: its real package name (a rename does not hide it) and its key.
#[derive(Clone, Debug)]
pub struct CoreDep {
    pub package: String,
    pub key: String,
}

/// The targets and the core's dependencies, paths relative to the workspace.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub crates: Vec<(CrateKind, PathBuf)>,
    /// The name the bridge's binaries give the library (`pagerduty_devin_bridge`).
    pub lib_name: String,
    /// The name the bridge gives the core (`pure`).
    pub core_name: String,
    /// The core's manifest, for the reports.
    pub core_manifest: PathBuf,
    /// The dependencies compiled into the core (normal ones, any target).
    pub core_deps: Vec<CoreDep>,
    /// Whether the core has a build script (code the checker would not see).
    pub core_build_script: bool,
}

impl Manifest {
    /// Asks cargo (no network, no resolution) what the workspace at `root` compiles.
    pub fn read(root: &Path) -> Manifest {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "metadata",
                "--no-deps",
                "--offline",
                "--format-version",
                "1",
            ])
            .arg("--manifest-path")
            .arg(root.join("Cargo.toml"))
            .output()
            .expect("cargo metadata runs");
        assert!(
            out.status.success(),
            "cargo metadata: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata's JSON");
        let root = root.canonicalize().expect("the workspace directory");
        let relative = |p: &str| {
            let p = Path::new(p);
            p.strip_prefix(&root).unwrap_or(p).to_path_buf()
        };
        let packages = meta["packages"].as_array().expect("packages");
        let manifest_of = |p: &Value| relative(p["manifest_path"].as_str().unwrap_or_default());
        let main = packages
            .iter()
            .find(|p| manifest_of(p) == Path::new("Cargo.toml"))
            .expect("the bridge's package at the workspace's top");
        let core = packages
            .iter()
            .find(|p| manifest_of(p) == Path::new("pure/Cargo.toml"))
            .expect("the core's package in pure/");

        let mut crates = Vec::new();
        let mut lib_name = String::new();
        for target in main["targets"].as_array().into_iter().flatten() {
            let kinds = target["kind"].as_array().cloned().unwrap_or_default();
            let name = target["name"].as_str().unwrap_or_default().to_string();
            let src = relative(target["src_path"].as_str().unwrap_or_default());
            if kinds.iter().any(|k| k == "lib") {
                lib_name = name.replace('-', "_");
                crates.push((CrateKind::Lib, src));
            } else if kinds.iter().any(|k| k == "bin") {
                crates.push((CrateKind::Bin(name), src));
            }
        }
        let mut core_build_script = false;
        for target in core["targets"].as_array().into_iter().flatten() {
            let kinds = target["kind"].as_array().cloned().unwrap_or_default();
            let src = relative(target["src_path"].as_str().unwrap_or_default());
            if kinds.iter().any(|k| k == "lib") {
                crates.push((CrateKind::Core, src));
            }
            core_build_script |= kinds.iter().any(|k| k == "custom-build");
        }
        let core_name = main["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["path"].as_str().map(relative).as_deref() == Some(Path::new("pure")))
            .map(|d| key_of(d).replace('-', "_"))
            .unwrap_or_else(|| "pure".into());
        let core_deps = core["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["kind"].is_null())
            .map(|d| CoreDep {
                package: d["name"].as_str().unwrap_or_default().to_string(),
                key: key_of(d),
            })
            .collect();
        Manifest {
            crates,
            lib_name,
            core_name,
            core_manifest: manifest_of(core),
            core_deps,
            core_build_script,
        }
    }
}

/// The name a dependency has in its manifest: its rename, else its package.
fn key_of(dep: &Value) -> String {
    dep["rename"]
        .as_str()
        .or(dep["name"].as_str())
        .unwrap_or_default()
        .to_string()
}
