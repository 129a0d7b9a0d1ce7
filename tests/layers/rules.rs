//! The rule (see tests/layers.sh), checked on what the sources name once resolved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::core_rules;
use crate::manifest::{CrateKind, Manifest};
use crate::resolve::{Resolver, Target};
use crate::syntax::normalize;
use crate::tree::Tree;
use crate::walk::{references, Reference, Special};
use crate::Breach;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Layer {
    /// `src/lib.rs`: it declares the layers and imports none of them.
    Root,
    Edge,
    Delivery,
    FollowUp,
    Startup,
    Connect,
    PolicyTool,
    /// A top-level module the rule does not name.
    Other,
    Bin,
    Core,
    Extern,
}

/// The library's top-level modules, each its own layer, and its folder under src/.
const LAYERS: [(&str, Layer); 6] = [
    ("edge", Layer::Edge),
    ("delivery", Layer::Delivery),
    ("follow_up", Layer::FollowUp),
    ("startup", Layer::Startup),
    ("connect", Layer::Connect),
    ("policy_tool", Layer::PolicyTool),
];

/// Each operator's command and the one binary that may import it.
const OWNERS: [(Layer, &str); 2] = [
    (Layer::Connect, "connect-pagerduty"),
    (Layer::PolicyTool, "policy"),
];

/// Why `from` may not import `to` (`bin`: the binary `from` is), if it may not.
fn forbidden(from: Layer, bin: Option<&str>, to: Layer) -> Option<&'static str> {
    use Layer::*;
    if from == to || matches!(to, Root | Core | Extern) || from == Other || to == Other {
        return None;
    }
    if let Some(&(_, owner)) = OWNERS.iter().find(|(command, _)| *command == to) {
        return (bin != Some(owner))
            .then_some("only their binaries import the operator's commands");
    }
    match (from, to) {
        (Bin, _) => None,
        (Root, _) => Some("the crate root declares the layers and imports none of them"),
        (Edge, _) => Some("an edge imports an outer layer"),
        (Delivery, FollowUp | Startup) => Some("the delivery imports an outer layer"),
        (FollowUp, Startup) => Some("the follow-up imports startup"),
        (Connect | PolicyTool, _) => Some("an operator's command imports more than the core"),
        _ => None,
    }
}

struct Check<'t> {
    tree: &'t Tree,
    manifest: &'t Manifest,
    out: Vec<Breach>,
}

pub fn check(root: &Path, manifest: &Manifest) -> Vec<Breach> {
    let tree = Tree::load(root, &manifest.crates);
    let resolver = Resolver {
        tree: &tree,
        lib_name: manifest.lib_name.clone(),
    };
    let (refs, specials) = references(&tree, &resolver);
    let mut check = Check {
        tree: &tree,
        manifest,
        out: tree.problems.clone(),
    };
    check
        .out
        .extend(core_rules::manifest_breaches(root, manifest));
    check.placement();
    check.unread(root);
    check.imports(&refs);
    check.cycles(&refs);
    check.core_system(&refs, &specials);
    let mut out = check.out;
    out.sort_by(|a, b| (&a.file, a.line, &a.rule).cmp(&(&b.file, b.line, &b.rule)));
    out.dedup_by(|a, b| (&a.file, a.line, &a.rule) == (&b.file, b.line, &b.rule));
    out
}

impl Check<'_> {
    fn breach(&mut self, file: &Path, line: usize, rule: String) {
        let file = file.to_path_buf();
        self.out.push(Breach { file, line, rule });
    }

    fn layer(&self, module: usize) -> Layer {
        match self.tree.kind(module) {
            CrateKind::Bin(_) => Layer::Bin,
            CrateKind::Core => Layer::Core,
            CrateKind::Lib => match self.tree.modules[module].path.first() {
                None => Layer::Root,
                Some(top) => LAYERS
                    .iter()
                    .find(|(name, _)| name == top)
                    .map_or(Layer::Other, |l| l.1),
            },
        }
    }

    /// The layers a reference reaches: every module it goes through, and what it names.
    fn reached(&self, r: &Reference) -> Vec<Layer> {
        let mut layers: Vec<Layer> = r.resolved.via.iter().map(|&m| self.layer(m)).collect();
        match &r.resolved.target {
            Target::Module(m) | Target::Item(m) => layers.push(self.layer(*m)),
            Target::Extern(p) if p[0] == self.manifest.core_name => layers.push(Layer::Core),
            _ => {}
        }
        layers
    }

    /// The layer rule and the re-exports, for the library and the binaries.
    fn imports(&mut self, refs: &[Reference]) {
        for r in refs {
            let (from, bin) = match self.tree.kind(r.module) {
                CrateKind::Core => continue,
                CrateKind::Bin(name) => (Layer::Bin, Some(name.as_str())),
                CrateKind::Lib => (self.layer(r.module), None),
            };
            let file = self.tree.files[r.file].clone();
            for to in self.reached(r) {
                if let Some(rule) = forbidden(from, bin, to) {
                    self.breach(&file, r.line, format!("{rule}: {}", r.text));
                }
                if r.reexport && from != Layer::Bin && to != from && to != Layer::Extern {
                    let rule = "a layer re-exports another's item (a layer is reached only through itself)";
                    self.breach(&file, r.line, format!("{rule}: {}", r.text));
                }
            }
        }
    }

    /// No two modules import each other: what one names is defined in the other, both ways.
    fn cycles(&mut self, refs: &[Reference]) {
        let mut edges: BTreeMap<(usize, usize), (PathBuf, usize)> = BTreeMap::new();
        for r in refs {
            let Some(to) = r.resolved.defining() else {
                continue;
            };
            let same_crate = self.tree.modules[to].krate == self.tree.modules[r.module].krate;
            if to != r.module && same_crate && to != self.tree.crate_root(to) {
                let at = (self.tree.files[r.file].clone(), r.line);
                edges.entry((r.module, to)).or_insert(at);
            }
        }
        for (&(a, b), (file, line)) in &edges {
            let (name_a, name_b) = (self.tree.name(a), self.tree.name(b));
            // A module and the submodules it declares are one: the rule is between the others.
            // Across layers, one way is already a breach of the layers, reported as such.
            let nested = self.holds(a, b) || self.holds(b, a);
            let same_layer = self.layer(a) == self.layer(b);
            if name_a < name_b && !nested && same_layer {
                if let Some((back_file, back_line)) = edges.get(&(b, a)) {
                    let rule = format!(
                        "{name_a} and {name_b} import each other (the other way: {}:{back_line})",
                        back_file.display()
                    );
                    self.breach(file, *line, rule);
                }
            }
        }
    }

    /// Whether module `outer` is `inner` or one of its ancestors.
    fn holds(&self, outer: usize, inner: usize) -> bool {
        let mut at = Some(inner);
        while let Some(m) = at {
            if m == outer {
                return true;
            }
            at = self.tree.modules[m].parent;
        }
        false
    }

    /// A layer's files lie in its folder: no `#[path]` or `include!` takes another's.
    fn placement(&mut self) {
        let lib_src = self
            .manifest
            .crates
            .iter()
            .find(|(k, _)| *k == CrateKind::Lib)
            .map(|c| c.1.clone());
        // Once per file: its inline modules are compiled where it is.
        let mut seen = std::collections::BTreeSet::new();
        for (id, module) in self.tree.modules.iter().enumerate() {
            let layer = self.layer(id);
            for part in &module.parts {
                if !seen.insert(part.file) {
                    continue;
                }
                let file = &self.tree.files[part.file];
                let dir = match layer {
                    Layer::Root => {
                        if Some(file) != lib_src.as_ref() {
                            let rule = format!("{} is compiled as the crate root", file.display());
                            self.breach(file, 1, rule);
                        }
                        continue;
                    }
                    Layer::Other => {
                        let rule = format!(
                            "{} is in no layer of the rule (tests/layers/rules.rs)",
                            self.tree.name(id)
                        );
                        self.breach(file, 1, rule);
                        continue;
                    }
                    Layer::Bin => {
                        let layers = LAYERS.iter().map(|(dir, _)| Path::new("src").join(dir));
                        let in_a_layer = layers.chain(lib_src.clone()).any(|d| file.starts_with(d));
                        if in_a_layer {
                            let name = self.tree.name(id);
                            let rule = format!(
                                "compiled as {name}: a layer's file is compiled in its layer only"
                            );
                            self.breach(file, 1, rule);
                        }
                        continue;
                    }
                    Layer::Extern => continue,
                    Layer::Core => PathBuf::from("pure/src"),
                    _ => Path::new("src").join(&module.path[0]),
                };
                if !file.starts_with(&dir) {
                    let rule = format!(
                        "compiled as {}: a layer's code lies in {}/",
                        self.tree.name(id),
                        dir.display()
                    );
                    self.breach(file, 1, rule);
                }
            }
        }
    }

    /// Every source file under src/ and pure/src/ is compiled, so read: none left aside.
    fn unread(&mut self, root: &Path) {
        let mut stack = vec![root.join("src"), root.join("pure/src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !self.tree.reached.contains(&normalize(&path))
                {
                    let shown = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                    self.breach(
                        &shown,
                        1,
                        "no crate compiles this file (no mod names it), so nothing checks it"
                            .into(),
                    );
                }
            }
        }
    }

    /// Outside its unit tests, the core reads no clock, environment, files, processes, threads,
    /// sockets or standard streams, and calls no foreign code.
    fn core_system(&mut self, refs: &[Reference], specials: &[Special]) {
        let core = |c: &Self, module: usize, test: bool| !test && c.layer(module) == Layer::Core;
        for r in refs.iter() {
            if !core(self, r.module, r.test) {
                continue;
            }
            let mut paths = r.resolved.maybe.clone();
            if let Target::Extern(p) = &r.resolved.target {
                paths.push(p.clone());
            }
            if let Some(what) = paths.iter().find_map(|p| core_rules::system(p, r.is_macro)) {
                let file = self.tree.files[r.file].clone();
                self.breach(
                    &file,
                    r.line,
                    format!("the pure core reaches {what}: {}", r.text),
                );
            }
        }
        for s in specials.iter() {
            if !core(self, s.module, s.test) {
                continue;
            }
            let file = self.tree.files[s.file].clone();
            self.breach(&file, s.line, format!("the pure core reaches {}", s.what));
        }
        for s in specials
            .iter()
            .filter(|s| s.what.starts_with("an include!"))
        {
            let file = self.tree.files[s.file].clone();
            self.breach(&file, s.line, s.what.to_string());
        }
    }
}
