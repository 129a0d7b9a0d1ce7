//! The documentation holds to the repository: every relative link in the README, CONTRIBUTING.md
//! and `docs/` leads to a file that exists (and to a heading of it, for a link with an anchor),
//! and `docs/settings.md` names every setting the code reads and nothing the code and the
//! template lack. In process, reading files only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::repo_path;

/// The pages whose links are checked: the README, CONTRIBUTING.md and every page of `docs/`.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![repo_path("README.md"), repo_path("CONTRIBUTING.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo_path("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The lines of a Markdown page outside fenced code blocks, with their line numbers.
fn prose(markdown: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut lines = Vec::new();
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match fence {
            Some(marker) if trimmed.starts_with(marker) => fence = None,
            Some(_) => {}
            None if trimmed.starts_with("```") => fence = Some("```"),
            None if trimmed.starts_with("~~~") => fence = Some("~~~"),
            None => lines.push((i + 1, line)),
        }
    }
    lines
}

/// A line with its code spans blanked out: what they hold is code, not links.
fn without_code(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].len() - rest[start..].trim_start_matches('`').len();
        let delimiter = &rest[start..start + ticks];
        let after = &rest[start + ticks..];
        match after.find(delimiter) {
            Some(end) => {
                out.push_str("code");
                rest = &after[end + ticks..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The targets of a line's inline links and images (`[text](target)`, `![alt](target "title")`)
/// and of a reference definition (`[label]: target`).
fn link_targets(line: &str) -> Vec<String> {
    let line = without_code(line);
    let mut targets = Vec::new();
    let indent = line.len() - line.trim_start_matches(' ').len();
    if let (0..=3, Some(label)) = (indent, line.trim_start().strip_prefix('[')) {
        if let Some((_, target)) = label.split_once("]:") {
            let target = target.split_whitespace().next().unwrap_or_default();
            targets.push(target.trim_matches(['<', '>']).to_owned());
        }
    }
    let mut rest = line.as_str();
    while let Some(start) = rest.find("](") {
        let after = &rest[start + 2..];
        let mut depth = 0;
        let end = after
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' if depth == 0 => return true,
                    ')' => depth -= 1,
                    _ => {}
                }
                false
            })
            .map_or(after.len(), |(i, _)| i);
        let inside = &after[..end];
        let target = match inside.strip_prefix('<') {
            Some(bracketed) => bracketed.split('>').next(),
            None => inside.split_whitespace().next(),
        };
        targets.push(target.unwrap_or_default().to_owned());
        rest = &after[end..];
    }
    targets
}

/// Text with its links (`[text](target)`) as their text.
fn links_as_text(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let inside = &rest[open + 1..];
        let Some((label, after)) = inside.split_once("](") else {
            break;
        };
        let Some(close) = after.find(')').filter(|_| !label.contains('[')) else {
            out.push_str(&rest[..=open]);
            rest = inside;
            continue;
        };
        out.push_str(rest[..open].trim_end_matches('!'));
        out.push_str(label);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// GitHub's anchor for a heading: its text as shown (links as their text, no code ticks or
/// emphasis), lower case, every character but letters, digits, `-`, `_` and spaces dropped,
/// spaces made `-`; a repeated anchor gets `-1`, `-2`, ...
fn heading_anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = BTreeSet::new();
    for (_, line) in prose(markdown) {
        let hashes = line.len() - line.trim_start_matches('#').len();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let text = line[hashes..].trim().trim_end_matches('#').trim();
        let text = links_as_text(text);
        let slug: String = text
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let count = seen.entry(slug.clone()).or_insert(0);
        anchors.insert(match *count {
            0 => slug.clone(),
            n => format!("{slug}-{n}"),
        });
        *count += 1;
    }
    anchors
}

/// What is wrong with a relative link `target` of `page`, if anything.
fn broken(page: &Path, target: &str) -> Option<String> {
    if target.is_empty() {
        return Some("an empty link".into());
    }
    let scheme = target.split_once(':').map(|(scheme, _)| scheme);
    if scheme.is_some_and(|scheme| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
    }) {
        return None;
    }
    let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
    let file = if path.is_empty() {
        page.to_path_buf()
    } else {
        page.parent().unwrap().join(path)
    };
    let Ok(resolved) = file.canonicalize() else {
        return Some(format!("{} does not exist", file.display()));
    };
    let root = repo_path("").canonicalize().unwrap();
    if !resolved.starts_with(&root) {
        return Some("leads out of the repository".into());
    }
    if anchor.is_empty() {
        return None;
    }
    if resolved.extension().is_none_or(|ext| ext != "md") {
        return Some("an anchor into a file that is not Markdown".into());
    }
    let anchors = heading_anchors(&std::fs::read_to_string(&resolved).unwrap());
    (!anchors.contains(anchor)).then(|| {
        format!(
            "no heading of {} has the anchor #{anchor}",
            resolved.display()
        )
    })
}

#[test]
fn every_relative_link_of_the_docs_resolves() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let markdown = std::fs::read_to_string(&page).unwrap();
        for (number, line) in prose(&markdown) {
            for target in link_targets(line) {
                checked += 1;
                if let Some(problem) = broken(&page, &target) {
                    let name = page.strip_prefix(repo_path("")).unwrap_or(&page);
                    problems.push(format!(
                        "{}:{number}: ({target}): {problem}",
                        name.display()
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
    assert!(
        checked > 50,
        "only {checked} links found: is the parser blind?"
    );
}

#[test]
fn the_link_checker_finds_links_and_anchors_as_github_does() {
    assert_eq!(
        link_targets(
            "See [a](docs/a.md#x), ![b](b.png \"t\"), `[c](not/a/link)` and [d](<e f.md>)."
        ),
        ["docs/a.md#x", "b.png", "e f.md"]
    );
    assert_eq!(link_targets("[ref]: ../x.md#y"), ["../x.md#y"]);
    let anchors = heading_anchors(
        "# Title\n## 2. The Devin key\n```\n## not a heading\n```\n### Matchers (`when`)\n\
         ## Policy tests: `cargo policy`\n## The incident's life\n## [Linked](x.md) heading\n\
         ## Title\n#not a heading\n",
    );
    let expected = [
        "2-the-devin-key",
        "linked-heading",
        "matchers-when",
        "policy-tests-cargo-policy",
        "the-incidents-life",
        "title",
        "title-1",
    ];
    assert_eq!(anchors, expected.into_iter().map(String::from).collect());
    let readme = repo_path("README.md");
    assert!(broken(&readme, "docs/policy.md#every-field").is_none());
    assert!(broken(&readme, "docs/policy.md#no-such-heading").is_some());
    assert!(broken(&readme, "docs/no-such-page.md").is_some());
    assert!(broken(&readme, "../outside.md").is_some());
    assert!(broken(&readme, "https://example.com/#anything").is_none());
}

/// Every `.rs` file under `dir`, recursively (none when `dir` does not exist).
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// A source file's own code: up to its unit tests.
fn own_code(file: &Path) -> String {
    let source = std::fs::read_to_string(file).unwrap();
    match source.find("#[cfg(test)]") {
        Some(tests) => source[..tests].to_owned(),
        None => source,
    }
}

/// The Rust sources of the bridge and of its core crate, wherever the core lives.
fn all_sources() -> Vec<PathBuf> {
    let mut files = rust_files(&repo_path("src"));
    files.extend(rust_files(&repo_path("pure/src")));
    files
}

/// Each `"NAME"` in `code` (capitals, digits and underscores, at least one underscore), with
/// the code before it.
fn quoted_names(code: &str) -> Vec<(&str, String)> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices('"') {
        let rest = &code[at + 1..];
        let length = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..length];
        let shaped = name.starts_with(|c: char| c.is_ascii_uppercase())
            && name.contains('_')
            && name.split('_').all(|part| !part.is_empty());
        if shaped && rest[length..].starts_with('"') {
            found.push((&code[..at], name.to_owned()));
        }
    }
    found
}

/// The variables and secret keys the code reads: every such name at cold start (`src/startup/`,
/// compile-time `env!` aside), every one read through an `env`/`var` lookup anywhere, and the
/// secret's keys (string constants named as they read).
fn names_the_code_reads() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for file in rust_files(&repo_path("src/startup")) {
        let code = own_code(&file);
        for (before, name) in quoted_names(&code) {
            if !before.ends_with("env!(") {
                names.insert(name);
            }
        }
    }
    for file in all_sources() {
        let code = own_code(&file);
        for (before, name) in quoted_names(&code) {
            let line = before.rsplit('\n').next().unwrap_or_default().trim_start();
            let lookup = ["env(", "var(", "var_os("].iter().any(|call| {
                before
                    .strip_suffix(call)
                    .is_some_and(|head| !head.ends_with(|c: char| c.is_alphanumeric() || c == '_'))
            });
            let key = line.trim_start_matches("pub ").starts_with("const ")
                && line.ends_with(": &str = ");
            if lookup || key {
                names.insert(name);
            }
        }
    }
    names
}

/// The template's parameters, and the variables it sets in the functions' environment.
fn template_names() -> (BTreeSet<String>, BTreeSet<String>) {
    let template = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
    let mut parameters = BTreeSet::new();
    let mut variables = BTreeSet::new();
    let mut section = "";
    let mut variables_indent: Option<usize> = None;
    for line in template.lines() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let Some((name, _)) = line[indent..].split_once(':') else {
            continue;
        };
        let named = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !named {
            continue;
        }
        let name = name.to_owned();
        if indent == 0 {
            section = if name == "Parameters" {
                "parameters"
            } else {
                ""
            };
            continue;
        }
        if section == "parameters" && indent == 2 {
            parameters.insert(name.clone());
        }
        match variables_indent {
            Some(inside) if indent > inside => {
                variables.insert(name);
                continue;
            }
            _ => variables_indent = None,
        }
        if name == "Variables" {
            variables_indent = Some(indent);
        }
    }
    (parameters, variables)
}

/// The names `docs/settings.md` documents: the code-quoted names of the first cell of each row of
/// its tables.
fn documented_settings() -> BTreeSet<String> {
    let page = std::fs::read_to_string(repo_path("docs/settings.md")).unwrap();
    prose(&page)
        .into_iter()
        .filter_map(|(_, line)| line.strip_prefix('|'))
        .filter_map(|row| row.split('|').next())
        .flat_map(|cell| {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_settings_page_names_every_setting_and_nothing_else() {
    let documented = documented_settings();
    let read = names_the_code_reads();
    let (parameters, variables) = template_names();
    assert!(
        read.contains("DEVIN_ORG_ID") && read.contains("DEVIN_API_KEY"),
        "{read:?}"
    );
    assert!(parameters.contains("DevinOrgId") && variables.contains("LEDGER_TABLE"));

    let undocumented: BTreeSet<&String> = read
        .iter()
        .chain(&parameters)
        .chain(&variables)
        .filter(|name| !documented.contains(*name))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/settings.md lacks {undocumented:?}"
    );

    let sources: String = all_sources().iter().map(|file| own_code(file)).collect();
    let unknown: Vec<&String> = documented
        .iter()
        .filter(|name| {
            !parameters.contains(*name)
                && !variables.contains(*name)
                && !sources.contains(&format!("\"{name}\""))
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/settings.md documents what neither the code nor the template has: {unknown:?}"
    );
}
