//! A path to what it names, as rustc's name resolution would: `crate::`, `$crate::`, `self::`,
//! `super::` (chained), names bound by `use` in the module or in a block (followed to their
//! definition through every re-export), globs, `extern crate` aliases, type aliases, macros by
//! their textual scope or `#[macro_export]`, the library's name in a binary, and extern crates.

use std::collections::{BTreeMap, BTreeSet};

use crate::manifest::CrateKind;
use syn::{Item, Stmt};

use crate::syntax::{flatten, name};
use crate::tree::{Def, Tree, UsePath};

#[derive(Clone, Debug, Default)]
pub enum Target {
    /// A module of a crate the checker reads.
    Module(usize),
    /// An item defined in that module (what follows are its associated items or variants).
    Item(usize),
    /// A path into another crate (`pure`, `std`, `serde`, ...), re-exports and aliases replaced.
    Extern(Vec<String>),
    /// A generic parameter, `Self`, or a name of the preludes.
    #[default]
    Unknown,
}

#[derive(Clone, Debug, Default)]
pub struct Resolved {
    pub target: Target,
    /// The modules whose `use` (or alias) the path went through.
    pub via: Vec<usize>,
    /// What a glob of an extern module may give the name (`use std::time::*; Instant::now`).
    pub maybe: Vec<Vec<String>>,
    seen: BTreeSet<(usize, String)>,
}

impl Resolved {
    /// The module that defines what the path names.
    pub fn defining(&self) -> Option<usize> {
        match self.target {
            Target::Module(m) | Target::Item(m) => Some(m),
            _ => None,
        }
    }
}

/// What a block binds: its `use` items and the items it defines.
#[derive(Clone, Default)]
pub struct Scope {
    pub uses: BTreeMap<String, UsePath>,
    pub globs: Vec<UsePath>,
    pub defined: BTreeSet<String>,
}

impl Scope {
    /// What a block's items bind.
    pub fn of(stmts: &[Stmt]) -> Scope {
        let mut scope = Scope::default();
        for stmt in stmts {
            let Stmt::Item(item) = stmt else { continue };
            match item {
                Item::Use(u) => {
                    let mut leaves = Vec::new();
                    flatten(
                        &u.tree,
                        u.leading_colon.is_some(),
                        &mut Vec::new(),
                        &mut leaves,
                    );
                    for (name, path, _) in leaves {
                        match name {
                            Some(name) => drop(scope.uses.insert(name, path)),
                            None => scope.globs.push(path),
                        }
                    }
                }
                Item::Fn(f) => drop(scope.defined.insert(name(&f.sig.ident))),
                Item::Struct(s) => drop(scope.defined.insert(name(&s.ident))),
                Item::Enum(e) => drop(scope.defined.insert(name(&e.ident))),
                Item::Const(c) => drop(scope.defined.insert(name(&c.ident))),
                Item::Static(s) => drop(scope.defined.insert(name(&s.ident))),
                Item::Trait(t) => drop(scope.defined.insert(name(&t.ident))),
                Item::Type(t) => drop(scope.defined.insert(name(&t.ident))),
                Item::Mod(m) => drop(scope.defined.insert(name(&m.ident))),
                Item::Macro(m) => {
                    if let Some(ident) = &m.ident {
                        scope.defined.insert(name(ident));
                    }
                }
                _ => {}
            }
        }
        scope
    }
}

pub struct Resolver<'t> {
    pub tree: &'t Tree,
    /// The library's name in the binaries.
    pub lib_name: String,
}

const DEPTH: usize = 32;

impl Resolver<'_> {
    pub fn resolve(
        &self,
        module: usize,
        scopes: &[Scope],
        path: &UsePath,
        is_macro: bool,
    ) -> Resolved {
        let mut r = Resolved::default();
        r.target = self.walk(module, scopes, path, is_macro, &mut r, 0);
        r
    }

    fn walk(
        &self,
        module: usize,
        scopes: &[Scope],
        path: &UsePath,
        is_macro: bool,
        r: &mut Resolved,
        depth: usize,
    ) -> Target {
        let Some(first) = path.segs.first() else {
            return Target::Unknown;
        };
        if depth > DEPTH {
            return Target::Unknown;
        }
        let fresh = r.maybe.len();
        let mut cur = if path.leading {
            self.external(module, first)
        } else {
            match first.as_str() {
                "crate" | "$crate" => Target::Module(self.tree.crate_root(module)),
                "self" => Target::Module(module),
                "super" => match self.tree.modules[module].parent {
                    Some(p) => Target::Module(p),
                    None => return Target::Unknown,
                },
                "Self" => return Target::Unknown,
                name => {
                    let lone_macro = is_macro && path.segs.len() == 1;
                    self.first(module, scopes, name, lone_macro, r, depth)
                }
            }
        };
        for seg in &path.segs[1..] {
            cur = match cur {
                Target::Module(m) if seg == "super" => match self.tree.modules[m].parent {
                    Some(p) => Target::Module(p),
                    None => return Target::Unknown,
                },
                Target::Module(m) if seg == "self" => Target::Module(m),
                // A name rustc would find but the checker does not (made by a macro): the module.
                Target::Module(m) => self.lookup(m, seg, r, depth).unwrap_or(Target::Item(m)),
                Target::Extern(mut p) => {
                    p.push(seg.clone());
                    Target::Extern(p)
                }
                done => return done,
            };
        }
        let rest = &path.segs[1..];
        for m in &mut r.maybe[fresh..] {
            m.extend(rest.iter().cloned());
        }
        cur
    }

    /// A path's first name: the blocks, then the module, then the macros, then the crates.
    fn first(
        &self,
        module: usize,
        scopes: &[Scope],
        name: &str,
        lone_macro: bool,
        r: &mut Resolved,
        depth: usize,
    ) -> Target {
        for (i, scope) in scopes.iter().enumerate().rev() {
            if scope.defined.contains(name) {
                return Target::Item(module);
            }
            if let Some(path) = scope.uses.get(name) {
                return self.walk(module, &scopes[..i], path, false, r, depth + 1);
            }
            for glob in &scope.globs {
                let mut scratch = Resolved::default();
                match self.walk(module, &scopes[..i], glob, false, &mut scratch, depth + 1) {
                    Target::Module(g) => {
                        if let Some(t) = self.lookup(g, name, r, depth + 1) {
                            return t;
                        }
                    }
                    Target::Extern(mut p) => {
                        p.push(name.to_string());
                        r.maybe.push(p);
                    }
                    _ => {}
                }
            }
        }
        if let Some(t) = self.lookup(module, name, r, depth) {
            return t;
        }
        if lone_macro {
            return self.macro_named(module, name);
        }
        self.external(module, name)
    }

    /// A name in a module: its child modules, its items, its `use` bindings, its globs.
    fn lookup(&self, m: usize, name: &str, r: &mut Resolved, depth: usize) -> Option<Target> {
        if depth > DEPTH || !r.seen.insert((m, name.to_string())) {
            return None;
        }
        let module = &self.tree.modules[m];
        if let Some(&c) = module.children.get(name) {
            return Some(Target::Module(c));
        }
        match module.defined.get(name) {
            Some(Def::Item | Def::Macro) => return Some(Target::Item(m)),
            Some(Def::Alias(path)) => {
                r.via.push(m);
                return Some(self.walk(m, &[], path, false, r, depth + 1));
            }
            None => {}
        }
        if let Some(bindings) = module.uses.get(name) {
            r.via.push(m);
            let b = &bindings[0];
            return Some(match b.direct {
                Some(d) => Target::Item(d),
                None => self.walk(b.at, &[], &b.path, false, r, depth + 1),
            });
        }
        for glob in &module.globs {
            let mut scratch = Resolved::default();
            match self.walk(glob.at, &[], &glob.path, false, &mut scratch, depth + 1) {
                Target::Module(g) => {
                    if let Some(t) = self.lookup(g, name, r, depth + 1) {
                        r.via.push(m);
                        return Some(t);
                    }
                }
                Target::Extern(mut p) => {
                    p.push(name.to_string());
                    r.maybe.push(p);
                }
                _ => {}
            }
        }
        None
    }

    /// A macro by its bare name: `macro_rules!` in this module or an ancestor, then anywhere in
    /// the crate (`#[macro_use]`), then the standard library's.
    fn macro_named(&self, module: usize, name: &str) -> Target {
        let is_macro =
            |m: usize| matches!(self.tree.modules[m].defined.get(name), Some(Def::Macro));
        let mut at = Some(module);
        while let Some(m) = at {
            if is_macro(m) {
                return Target::Item(m);
            }
            at = self.tree.modules[m].parent;
        }
        let krate = self.tree.modules[module].krate;
        let anywhere = (0..self.tree.modules.len())
            .find(|&m| self.tree.modules[m].krate == krate && is_macro(m));
        match anywhere {
            Some(m) => Target::Item(m),
            None => Target::Extern(vec!["std".into(), name.into()]),
        }
    }

    /// A crate's name: the library from a binary, else a crate the checker does not read.
    fn external(&self, module: usize, name: &str) -> Target {
        if matches!(self.tree.kind(module), CrateKind::Bin(_)) && name == self.lib_name {
            if let Some(&(_, root)) = self.tree.crates.iter().find(|(k, _)| *k == CrateKind::Lib) {
                return Target::Module(root);
            }
        }
        Target::Extern(vec![name.to_string()])
    }
}
