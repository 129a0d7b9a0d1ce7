//! Every path a module names, wherever it is written: `use` trees (grouped, nested, renamed,
//! globs), expressions, types, patterns, `<T as Trait>::` and `<T>::` paths, attributes (and
//! the paths serde takes as strings), macro names and the paths in macros' tokens (their
//! bodies included), `extern crate`; with the lines to report them at.

use proc_macro2::TokenStream;
use syn::visit::{self, Visit};
use syn::{Attribute, Item, Meta, Path, QSelf, Stmt, Type};

use crate::resolve::{Resolved, Resolver, Scope};
use crate::syntax::{attrs_of, flatten, line, name, requires_test, use_path, visible};
use crate::tokens::{paths_in, string_path};
use crate::tree::{Tree, UsePath};

/// A path a module names.
pub struct Reference {
    pub module: usize,
    pub file: usize,
    pub line: usize,
    pub text: String,
    pub resolved: Resolved,
    /// A `use` visible outside its module (`pub`, `pub(crate)`, `pub(super)`, `pub(in ..)`).
    pub reexport: bool,
    /// Compiled only for the unit tests.
    pub test: bool,
    pub is_macro: bool,
}

/// What is not a path but matters to the core: `.elapsed()`, an `extern` block, an `include!`
/// the checker cannot read.
pub struct Special {
    pub module: usize,
    pub file: usize,
    pub line: usize,
    pub test: bool,
    pub what: &'static str,
}

pub fn references(tree: &Tree, resolver: &Resolver) -> (Vec<Reference>, Vec<Special>) {
    let mut refs = Vec::new();
    let mut specials = Vec::new();
    for (id, module) in tree.modules.iter().enumerate() {
        for part in &module.parts {
            let mut walker = Walker {
                resolver,
                module: id,
                file: part.file,
                test: module.test,
                scopes: Vec::new(),
                skip: None,
                refs: &mut refs,
                specials: &mut specials,
            };
            for item in &part.items {
                walker.visit_item(item);
            }
        }
    }
    (refs, specials)
}

struct Walker<'a, 't> {
    resolver: &'a Resolver<'t>,
    module: usize,
    file: usize,
    test: bool,
    scopes: Vec<Scope>,
    /// A path written after a `<T>`: recorded with it, not alone.
    skip: Option<*const Path>,
    refs: &'a mut Vec<Reference>,
    specials: &'a mut Vec<Special>,
}

impl Walker<'_, '_> {
    fn record(&mut self, path: UsePath, line: usize, reexport: bool, is_macro: bool) {
        let resolved = self
            .resolver
            .resolve(self.module, &self.scopes, &path, is_macro);
        self.push(path, line, reexport, is_macro, resolved);
    }

    fn push(
        &mut self,
        path: UsePath,
        line: usize,
        reexport: bool,
        is_macro: bool,
        resolved: Resolved,
    ) {
        let lead = if path.leading { "::" } else { "" };
        self.refs.push(Reference {
            module: self.module,
            file: self.file,
            line,
            text: format!(
                "{lead}{}{}",
                path.segs.join("::"),
                if is_macro { "!" } else { "" }
            ),
            resolved,
            reexport,
            test: self.test,
            is_macro,
        });
    }

    fn special(&mut self, line: usize, what: &'static str) {
        self.specials.push(Special {
            module: self.module,
            file: self.file,
            line,
            test: self.test,
            what,
        });
    }

    /// `<T>::f` is `T::f`; `<T as Trait>::f` is `Trait::f`.
    fn qualified(&mut self, qself: &Option<QSelf>, path: &Path) {
        let Some(q) = qself else { return };
        self.skip = Some(path as *const Path);
        let at = path.segments.first().map_or(0, |s| line(s.ident.span()));
        match &*q.ty {
            Type::Path(t) if q.position == 0 && t.qself.is_none() => {
                let mut full = use_path(&t.path);
                full.segs.extend(use_path(path).segs);
                self.record(full, at, false, false);
            }
            _ if q.position > 0 => self.record(use_path(path), at, false, false),
            _ => {}
        }
    }

    fn scan(&mut self, tokens: TokenStream, strings: bool) {
        let mut found = Vec::new();
        paths_in(tokens, strings, &mut found);
        for f in found {
            self.record(f.path, f.line, false, f.is_macro);
        }
    }
}

impl<'ast> Visit<'ast> for Walker<'_, '_> {
    fn visit_item(&mut self, item: &'ast Item) {
        let was = self.test;
        self.test |= requires_test(attrs_of(item));
        match item {
            // What syn leaves unparsed (`Verbatim`) is read as tokens.
            Item::Verbatim(tokens) => self.scan(tokens.clone(), false),
            _ => visit::visit_item(self, item),
        }
        self.test = was;
    }

    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        match e {
            syn::Expr::Verbatim(tokens) => self.scan(tokens.clone(), false),
            _ => visit::visit_expr(self, e),
        }
    }

    fn visit_type(&mut self, t: &'ast Type) {
        match t {
            Type::Verbatim(tokens) => self.scan(tokens.clone(), false),
            _ => visit::visit_type(self, t),
        }
    }

    fn visit_impl_item(&mut self, i: &'ast syn::ImplItem) {
        match i {
            syn::ImplItem::Verbatim(tokens) => self.scan(tokens.clone(), false),
            _ => visit::visit_impl_item(self, i),
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let was = self.test;
        self.test |= requires_test(&f.attrs);
        visit::visit_impl_item_fn(self, f);
        self.test = was;
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        for attr in &m.attrs {
            self.visit_attribute(attr);
        }
        // A module's own items are walked as that module; one inside a function is walked here.
        if let Some((_, items)) = &m.content {
            let stmts: Vec<Stmt> = items.iter().cloned().map(Stmt::Item).collect();
            self.scopes.push(Scope::of(&stmts));
            for item in items {
                self.visit_item(item);
            }
            self.scopes.pop();
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        for attr in &u.attrs {
            self.visit_attribute(attr);
        }
        let mut leaves = Vec::new();
        flatten(
            &u.tree,
            u.leading_colon.is_some(),
            &mut Vec::new(),
            &mut leaves,
        );
        for (_, path, at) in leaves {
            self.record(path, at, visible(&u.vis), false);
        }
    }

    fn visit_item_extern_crate(&mut self, e: &'ast syn::ItemExternCrate) {
        if e.ident != "self" {
            let path = UsePath {
                leading: true,
                segs: vec![name(&e.ident)],
            };
            self.record(path, line(e.ident.span()), visible(&e.vis), false);
        }
    }

    fn visit_block(&mut self, block: &'ast syn::Block) {
        self.scopes.push(Scope::of(&block.stmts));
        visit::visit_block(self, block);
        self.scopes.pop();
    }

    fn visit_path(&mut self, path: &'ast Path) {
        let skipped = self.skip.is_some_and(|p| std::ptr::eq(p, path));
        let at = line(path.segments[0].ident.span());
        if skipped {
        } else if path.segments.len() > 1 || path.leading_colon.is_some() {
            self.record(use_path(path), at, false, false);
        } else {
            // A lone name was brought by a `use`, checked where it is; through a glob, the
            // module it comes from is known only here.
            let resolved = self
                .resolver
                .resolve(self.module, &self.scopes, &use_path(path), false);
            if resolved.defining().is_some_and(|m| m != self.module) {
                self.push(use_path(path), at, false, false, resolved);
            }
        }
        visit::visit_path(self, path);
    }

    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        self.qualified(&e.qself, &e.path);
        visit::visit_expr_path(self, e);
    }

    fn visit_type_path(&mut self, t: &'ast syn::TypePath) {
        self.qualified(&t.qself, &t.path);
        visit::visit_type_path(self, t);
    }

    fn visit_expr_struct(&mut self, e: &'ast syn::ExprStruct) {
        self.qualified(&e.qself, &e.path);
        visit::visit_expr_struct(self, e);
    }

    fn visit_pat_struct(&mut self, p: &'ast syn::PatStruct) {
        self.qualified(&p.qself, &p.path);
        visit::visit_pat_struct(self, p);
    }

    fn visit_pat_tuple_struct(&mut self, p: &'ast syn::PatTupleStruct) {
        self.qualified(&p.qself, &p.path);
        visit::visit_pat_tuple_struct(self, p);
    }

    fn visit_item_macro(&mut self, m: &'ast syn::ItemMacro) {
        for attr in &m.attrs {
            self.visit_attribute(attr);
        }
        // An item-level `include!("file")` is read by the tree, as items of this module.
        if !m.mac.path.is_ident("include") {
            self.visit_macro(&m.mac);
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let path = use_path(&mac.path);
        let at = line(mac.path.segments[0].ident.span());
        if path.segs.last().is_some_and(|s| s == "include") {
            self.special(
                at,
                "an include! the checker cannot read (only item-level include!(\"file\") is read)",
            );
        }
        self.record(path, at, false, true);
        for seg in &mac.path.segments {
            self.visit_path_arguments(&seg.arguments);
        }
        self.scan(mac.tokens.clone(), false);
    }

    fn visit_attribute(&mut self, attr: &'ast Attribute) {
        let path = attr.path();
        if path.is_ident("doc") {
            return;
        }
        if path.segments.len() > 1 || path.leading_colon.is_some() {
            self.record(
                use_path(path),
                line(path.segments[0].ident.span()),
                false,
                false,
            );
        }
        match &attr.meta {
            Meta::List(list) => self.scan(list.tokens.clone(), true),
            Meta::NameValue(nv) => {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &nv.value
                {
                    if let Some(path) = string_path(&s.token().to_string()) {
                        self.record(path, line(s.span()), false, false);
                    }
                } else {
                    self.visit_expr(&nv.value);
                }
            }
            Meta::Path(_) => {}
        }
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if call.method == "elapsed" {
            self.special(line(call.method.span()), "the clock (.elapsed())");
        }
        visit::visit_expr_method_call(self, call);
    }

    fn visit_item_foreign_mod(&mut self, f: &'ast syn::ItemForeignMod) {
        self.special(
            line(f.abi.extern_token.span),
            "foreign code (an extern block)",
        );
        visit::visit_item_foreign_mod(self, f);
    }
}
