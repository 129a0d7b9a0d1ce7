//! The paths in a token stream (a macro's input, a `macro_rules!` body, an attribute's
//! arguments), which syn leaves unparsed: `a::b`, `::a`, `crate::..`, `$crate::..`, `name!`, and
//! in attributes the paths written as strings (`#[serde(with = "crate::x")]`).

use proc_macro2::{Spacing, TokenStream, TokenTree};

use crate::syntax::{line, name, use_path};
use crate::tree::UsePath;

/// A path found in tokens, its line, and whether it names a macro (`name!`).
pub struct Found {
    pub path: UsePath,
    pub line: usize,
    pub is_macro: bool,
}

/// The paths in `tokens` that may name another module: more than one segment, or a leading
/// `crate`, `self`, `super`, `$crate` or `::`, or a macro's name; with `strings`, string
/// literals that read as such paths too.
pub fn paths_in(tokens: TokenStream, strings: bool, out: &mut Vec<Found>) {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < tts.len() {
        match &tts[i] {
            TokenTree::Group(g) => {
                paths_in(g.stream(), strings, out);
                i += 1;
            }
            TokenTree::Literal(l) => {
                if let Some(path) = strings.then(|| string_path(&l.to_string())).flatten() {
                    let line = line(l.span());
                    out.push(Found {
                        path,
                        line,
                        is_macro: false,
                    });
                }
                i += 1;
            }
            // A macro's metavariable (`$x`), not a path.
            TokenTree::Punct(p) if p.as_char() == '$' && !is_dollar_crate(&tts, i) => i += 2,
            _ => match path_at(&tts, i) {
                Some((path, next, is_macro, line)) => {
                    if names_a_module(&path) || is_macro {
                        out.push(Found {
                            path,
                            line,
                            is_macro,
                        });
                    }
                    i = next;
                }
                None => i += 1,
            },
        }
    }
}

/// A string literal (as written, quotes and all) that reads as a path naming a module.
pub fn string_path(literal: &str) -> Option<UsePath> {
    let lit = syn::parse_str::<syn::LitStr>(literal).ok()?;
    let path = use_path(&syn::parse_str::<syn::Path>(&lit.value()).ok()?);
    names_a_module(&path).then_some(path)
}

fn names_a_module(path: &UsePath) -> bool {
    let head = path.segs[0].as_str();
    path.segs.len() > 1 || path.leading || matches!(head, "crate" | "self" | "super" | "$crate")
}

fn is_dollar_crate(tts: &[TokenTree], i: usize) -> bool {
    matches!(tts.get(i + 1), Some(TokenTree::Ident(id)) if id == "crate")
}

fn colons(tts: &[TokenTree], i: usize) -> bool {
    let colon = |t: Option<&TokenTree>, joint: bool| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == ':' && (!joint || p.spacing() == Spacing::Joint));
    colon(tts.get(i), true) && colon(tts.get(i + 1), false)
}

/// A path's segment at `i`: an identifier, or `$crate`.
fn seg_at(tts: &[TokenTree], i: usize) -> Option<(String, usize, usize)> {
    match tts.get(i)? {
        TokenTree::Ident(id) => Some((name(id), i + 1, line(id.span()))),
        TokenTree::Punct(p) if p.as_char() == '$' && is_dollar_crate(tts, i) => {
            Some(("$crate".into(), i + 2, line(p.span())))
        }
        _ => None,
    }
}

/// The path that starts at `i`, the index after it, whether a `!` follows, its line.
fn path_at(tts: &[TokenTree], i: usize) -> Option<(UsePath, usize, bool, usize)> {
    let leading = colons(tts, i);
    let mut j = if leading { i + 2 } else { i };
    let (seg, next, at) = seg_at(tts, j)?;
    let mut segs = vec![seg];
    j = next;
    while colons(tts, j) {
        let Some((seg, next, _)) = seg_at(tts, j + 2) else {
            break;
        };
        segs.push(seg);
        j = next;
    }
    let bang = match (tts.get(j), tts.get(j + 1)) {
        (Some(TokenTree::Punct(p)), next) if p.as_char() == '!' => {
            !matches!(next, Some(TokenTree::Punct(q)) if q.as_char() == '=' && p.spacing() == Spacing::Joint)
        }
        _ => false,
    };
    Some((UsePath { leading, segs }, j, bang, at))
}
