//! What the checker reads off syn's syntax tree: lines, `use` trees as paths, whether an item
//! is compiled only for the unit tests, `#[path]` values, and paths without `..`.

use std::path::{Component, Path, PathBuf};

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, Item, Lit, Meta, Token, UseTree, Visibility};

use crate::tree::UsePath;

/// An identifier as name resolution sees it: `r#edge` is `edge`.
pub fn name(ident: &Ident) -> String {
    ident.unraw().to_string()
}

pub fn line(span: Span) -> usize {
    span.start().line
}

/// Each leaf of a `use` tree: the name it binds (`None` for a glob), its path, its line.
pub fn flatten(
    tree: &UseTree,
    leading: bool,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Option<String>, UsePath, usize)>,
) {
    let path = |segs: Vec<String>| UsePath { leading, segs };
    match tree {
        UseTree::Path(p) => {
            prefix.push(name(&p.ident));
            flatten(&p.tree, leading, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) if n.ident == "self" => {
            let name = prefix.last().cloned();
            out.push((name, path(prefix.clone()), line(n.ident.span())));
        }
        UseTree::Name(n) => {
            let mut segs = prefix.clone();
            segs.push(name(&n.ident));
            out.push((Some(name(&n.ident)), path(segs), line(n.ident.span())));
        }
        UseTree::Rename(r) => {
            let mut segs = prefix.clone();
            if r.ident != "self" {
                segs.push(name(&r.ident));
            }
            out.push((Some(name(&r.rename)), path(segs), line(r.ident.span())));
        }
        UseTree::Glob(g) => out.push((None, path(prefix.clone()), line(g.star_token.span))),
        UseTree::Group(g) => {
            for tree in &g.items {
                flatten(tree, leading, prefix, out);
            }
        }
    }
}

pub fn use_path(path: &syn::Path) -> UsePath {
    UsePath {
        leading: path.leading_colon.is_some(),
        segs: path.segments.iter().map(|s| name(&s.ident)).collect(),
    }
}

/// Whether the attributes compile the item only with `cfg(test)`.
pub fn requires_test(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .filter_map(|a| a.parse_args::<Meta>().ok())
        .any(|m| needs_test(&m))
}

fn needs_test(meta: &Meta) -> bool {
    let nested = |m: &Meta| match m {
        Meta::List(l) => l
            .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .map(|p| p.into_iter().collect::<Vec<_>>())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    match meta {
        Meta::Path(p) => p.is_ident("test"),
        Meta::List(l) if l.path.is_ident("all") => nested(meta).iter().any(needs_test),
        Meta::List(l) if l.path.is_ident("any") => {
            let all = nested(meta);
            !all.is_empty() && all.iter().all(needs_test)
        }
        _ => false,
    }
}

/// `#[path = ".."]` values, and those under `#[cfg_attr(.., path = "..")]`.
pub fn path_attrs(attrs: &[Attribute]) -> (Vec<String>, Vec<String>) {
    let value = |m: &Meta| match m {
        Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            Expr::Lit(l) => match &l.lit {
                Lit::Str(s) => Some(s.value()),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    };
    let mut direct = Vec::new();
    let mut conditional = Vec::new();
    for attr in attrs {
        if let Some(v) = value(&attr.meta) {
            direct.push(v);
        } else if attr.path().is_ident("cfg_attr") {
            let parsed = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated);
            conditional.extend(
                parsed
                    .into_iter()
                    .flatten()
                    .skip(1)
                    .filter_map(|m| value(&m)),
            );
        }
    }
    (direct, conditional)
}

/// `a/./b/../c` as `a/c`, without asking the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// An item's attributes.
pub fn attrs_of(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// Whether a `use` is seen outside its module (`pub(self)` is not).
pub fn visible(vis: &Visibility) -> bool {
    match vis {
        Visibility::Inherited => false,
        Visibility::Restricted(r) => !r.path.is_ident("self"),
        Visibility::Public(_) => true,
    }
}
