//! The module tree as rustc builds it: each crate from its root file, every `mod` to its file
//! (`x.rs`, `x/mod.rs`, `#[path]`, also under `cfg_attr`), inline modules, item-level
//! `include!`, and in each module what it defines and what its `use` items bind.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::{Item, ItemMod, Type};

use crate::manifest::CrateKind;
use crate::syntax::{flatten, line, name, normalize, path_attrs, requires_test, use_path};
use crate::Breach;

pub struct Tree {
    pub root: PathBuf,
    /// Each file read, relative to the workspace (as reported).
    pub files: Vec<PathBuf>,
    pub modules: Vec<Module>,
    pub crates: Vec<(CrateKind, usize)>,
    /// Files that cannot be read, parsed or found.
    pub problems: Vec<Breach>,
    /// Every file read, by its normalized path.
    pub reached: BTreeSet<PathBuf>,
}

pub struct Module {
    pub krate: usize,
    pub path: Vec<String>,
    pub parent: Option<usize>,
    pub children: BTreeMap<String, usize>,
    pub defined: BTreeMap<String, Def>,
    pub uses: BTreeMap<String, Vec<Binding>>,
    pub globs: Vec<Binding>,
    /// Compiled only for the unit tests (`#[cfg(test)]` on it or an ancestor).
    pub test: bool,
    /// Its items, by the file that holds them.
    pub parts: Vec<Part>,
}

pub struct Part {
    pub file: usize,
    pub items: Vec<Item>,
}

/// What a module defines under a name.
#[derive(Clone)]
pub enum Def {
    Item,
    /// `macro_rules! name`.
    Macro,
    /// `type X = some::path;`: a name that stands for another.
    Alias(UsePath),
}

#[derive(Clone, Debug, Default)]
pub struct UsePath {
    pub leading: bool,
    pub segs: Vec<String>,
}

/// A name bound by `use` (or `extern crate`, or `#[macro_export]`).
#[derive(Clone)]
pub struct Binding {
    pub path: UsePath,
    /// The module the path is read from.
    pub at: usize,
    /// A macro exported to the crate's root stands for the module that defines it.
    pub direct: Option<usize>,
}

/// Where a module's `mod x;` and `#[path]` look for files.
struct Place {
    child_dir: PathBuf,
    path_base: PathBuf,
}

impl Tree {
    pub fn load(root: &Path, crates: &[(CrateKind, PathBuf)]) -> Tree {
        let mut tree = Tree {
            root: root.to_path_buf(),
            files: Vec::new(),
            modules: Vec::new(),
            crates: Vec::new(),
            problems: Vec::new(),
            reached: BTreeSet::new(),
        };
        for (kind, src) in crates {
            let krate = tree.crates.len();
            let Some((file, items)) = tree.read(&root.join(src), None) else {
                continue;
            };
            let id = tree.new_module(krate, Vec::new(), None, false);
            tree.crates.push((kind.clone(), id));
            let dir = root.join(src).parent().unwrap().to_path_buf();
            let place = Place {
                child_dir: dir.clone(),
                path_base: dir,
            };
            tree.fill(id, file, items, &place, false);
        }
        tree
    }

    pub fn crate_root(&self, module: usize) -> usize {
        self.crates[self.modules[module].krate].1
    }

    pub fn kind(&self, module: usize) -> &CrateKind {
        &self.crates[self.modules[module].krate].0
    }

    pub fn name(&self, module: usize) -> String {
        let m = &self.modules[module];
        let krate = match self.kind(module) {
            CrateKind::Lib => "crate".to_string(),
            CrateKind::Core => "pure".to_string(),
            CrateKind::Bin(name) => format!("bin {name}"),
        };
        std::iter::once(krate)
            .chain(m.path.iter().cloned())
            .collect::<Vec<_>>()
            .join("::")
    }

    fn problem(&mut self, at: Option<(usize, usize)>, rule: String) {
        let (file, line) = at.map_or((PathBuf::new(), 0), |(f, l)| (self.files[f].clone(), l));
        self.problems.push(Breach { file, line, rule });
    }

    fn read(&mut self, path: &Path, from: Option<(usize, usize)>) -> Option<(usize, Vec<Item>)> {
        let path = normalize(path);
        let shown = path.strip_prefix(&self.root).unwrap_or(&path).to_path_buf();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                let rule = format!("cannot read {}: {e}", shown.display());
                self.problem(from, rule);
                return None;
            }
        };
        self.reached.insert(path);
        self.files.push(shown);
        let file = self.files.len() - 1;
        match syn::parse_file(&text) {
            Ok(ast) => Some((file, ast.items)),
            Err(e) => {
                self.problem(Some((file, line(e.span()))), format!("does not parse: {e}"));
                None
            }
        }
    }

    fn new_module(
        &mut self,
        krate: usize,
        path: Vec<String>,
        parent: Option<usize>,
        test: bool,
    ) -> usize {
        self.modules.push(Module {
            krate,
            path,
            parent,
            children: BTreeMap::new(),
            defined: BTreeMap::new(),
            uses: BTreeMap::new(),
            globs: Vec::new(),
            test,
            parts: Vec::new(),
        });
        self.modules.len() - 1
    }

    /// Takes a module's items: names, bindings, child modules and included files.
    fn fill(&mut self, id: usize, file: usize, items: Vec<Item>, place: &Place, test: bool) {
        let mut kept = Vec::new();
        for item in items {
            match item {
                Item::Mod(mut m) => {
                    let content = m.content.take();
                    self.child(id, file, &m, content.map(|c| c.1), place, test);
                    kept.push(Item::Mod(m));
                    continue;
                }
                Item::Macro(ref m) if m.mac.path.is_ident("include") => {
                    let at = Some((file, line(m.mac.path.segments[0].ident.span())));
                    let lit = m.mac.parse_body::<syn::LitStr>();
                    let dir = self.root.join(&self.files[file]);
                    match lit {
                        Ok(lit) => {
                            let path = dir.parent().unwrap().join(lit.value());
                            if let Some((inc, items)) = self.read(&path, at) {
                                self.fill(id, inc, items, place, test);
                            }
                        }
                        Err(_) => {
                            self.problem(at, "include! of a file the checker cannot name".into())
                        }
                    }
                }
                _ => {}
            }
            self.bind(id, &item);
            kept.push(item);
        }
        self.modules[id].parts.push(Part { file, items: kept });
    }

    fn bind(&mut self, id: usize, item: &Item) {
        let ident = |i: &syn::Ident| Some((name(i), Def::Item));
        let def = match item {
            Item::Use(u) => {
                let mut leaves = Vec::new();
                flatten(
                    &u.tree,
                    u.leading_colon.is_some(),
                    &mut Vec::new(),
                    &mut leaves,
                );
                for (name, path, _) in leaves {
                    self.add_binding(id, name, path, None);
                }
                None
            }
            Item::ExternCrate(e) => {
                let alias = name(e.rename.as_ref().map_or(&e.ident, |r| &r.1));
                let (leading, first) = match e.ident == "self" {
                    true => (false, "crate".to_string()),
                    false => (true, name(&e.ident)),
                };
                let path = UsePath {
                    leading,
                    segs: vec![first],
                };
                self.add_binding(id, Some(alias), path, None);
                None
            }
            Item::Macro(m) => match (&m.ident, m.mac.path.is_ident("macro_rules")) {
                (Some(ident), true) => {
                    if m.attrs.iter().any(|a| a.path().is_ident("macro_export")) {
                        let root = self.crate_root(id);
                        self.add_binding(root, Some(name(ident)), UsePath::default(), Some(id));
                    }
                    Some((name(ident), Def::Macro))
                }
                _ => None,
            },
            Item::Type(t) => match &*t.ty {
                Type::Path(p) if p.qself.is_none() => {
                    Some((name(&t.ident), Def::Alias(use_path(&p.path))))
                }
                _ => ident(&t.ident),
            },
            Item::Const(i) => ident(&i.ident),
            Item::Enum(i) => ident(&i.ident),
            Item::Fn(i) => ident(&i.sig.ident),
            Item::Static(i) => ident(&i.ident),
            Item::Struct(i) => ident(&i.ident),
            Item::Trait(i) => ident(&i.ident),
            Item::TraitAlias(i) => ident(&i.ident),
            Item::Union(i) => ident(&i.ident),
            _ => None,
        };
        if let Some((name, def)) = def {
            self.modules[id].defined.insert(name, def);
        }
    }

    fn add_binding(
        &mut self,
        id: usize,
        name: Option<String>,
        path: UsePath,
        direct: Option<usize>,
    ) {
        let binding = Binding {
            path,
            at: id,
            direct,
        };
        match name {
            Some(name) => self.modules[id].uses.entry(name).or_default().push(binding),
            None => self.modules[id].globs.push(binding),
        }
    }

    /// `mod name;` or `mod name { .. }` in module `parent`, declared in `file`.
    fn child(
        &mut self,
        parent: usize,
        file: usize,
        m: &ItemMod,
        content: Option<Vec<Item>>,
        place: &Place,
        test: bool,
    ) {
        let test = test || requires_test(&m.attrs);
        let name = crate::syntax::name(&m.ident);
        let at = Some((file, line(m.ident.span())));
        let mut path = self.modules[parent].path.clone();
        path.push(name.clone());
        let id = self.new_module(self.modules[parent].krate, path, Some(parent), test);
        self.modules[parent].children.insert(name.clone(), id);
        let (direct, conditional) = path_attrs(&m.attrs);
        if let Some(items) = content {
            let dir = match direct.first() {
                Some(p) => place.path_base.join(p),
                None => place.child_dir.join(&name),
            };
            let place = Place {
                child_dir: dir.clone(),
                path_base: dir,
            };
            return self.fill(id, file, items, &place, test);
        }
        let mut files: Vec<(PathBuf, bool)> = Vec::new();
        for p in direct.iter().chain(&conditional) {
            files.push((place.path_base.join(p), true));
        }
        if direct.is_empty() {
            let flat = place.child_dir.join(format!("{name}.rs"));
            let nested = place.child_dir.join(&name).join("mod.rs");
            match (flat.exists(), nested.exists()) {
                (true, false) => files.push((flat, false)),
                (false, true) => files.push((nested, true)),
                (true, true) => self.problem(at, format!("both {name}.rs and {name}/mod.rs exist")),
                (false, false) if conditional.is_empty() => {
                    self.problem(at, format!("no file for mod {name}"))
                }
                (false, false) => {}
            }
        }
        for (path, mod_rs) in files {
            let Some((f, items)) = self.read(&path, at) else {
                continue;
            };
            let dir = normalize(path.parent().unwrap());
            let place = Place {
                child_dir: if mod_rs { dir.clone() } else { dir.join(&name) },
                path_base: dir,
            };
            self.fill(id, f, items, &place, test);
        }
    }
}
