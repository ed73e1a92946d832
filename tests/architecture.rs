//! The shape docs/DESIGN.md promises, checked on the source tree: each external system lives in its own
//! folder, faces build no protocol client, the simulators are a crate of their own, modules of `app/` and
//! `cli/` do not import each other in circles, and no file or function grows past what a newcomer can read.
//! These are the rules that make "adding an integration" a folder and a registry line; they fail with the
//! offending file and line so the fix is obvious.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 120;

/// Each integration's folder and the words that name it.
const SYSTEMS: &[(&str, &str)] = &[
    ("woocommerce", "woo"),
    ("cartona", "cartona"),
    ("metakocka", "metakocka"),
    ("counterpoint", "counterpoint"),
    ("pos_csv", "pos_csv"),
];

/// Outside its folder a system may be named only by the registry, the config aggregate and the migrations.
const MAY_NAME_SYSTEMS: &[&str] = &[
    "src/integrations/mod.rs",
    "src/config/mod.rs",
    "src/store/schema.rs",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, as (path relative to the repository, text).
fn rust_files(dir: &str) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&root().join(dir), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The lines of a file before its `#[cfg(test)]` module (tests are not held to the size rules).
fn product_lines(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .collect()
}

/// A line with string and char literals and `//` comments blanked, so braces inside them do not count.
fn code_only(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '\'' => {
                // A char literal ('{', '\n'), not a lifetime ('a): skip to its closing quote.
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with('\\') || rest.chars().nth(1) == Some('\'') {
                    for d in chars.by_ref() {
                        if d == '\'' {
                            break;
                        }
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

/// Functions longer than the limit: (line number, first line, length).
fn long_functions(lines: &[&str]) -> Vec<(usize, String, usize)> {
    let is_fn = |l: &str| {
        let t = l.trim_start();
        let t = t
            .strip_prefix("pub(crate) ")
            .or_else(|| t.strip_prefix("pub(super) "))
            .or_else(|| t.strip_prefix("pub "))
            .unwrap_or(t);
        let t = t.strip_prefix("async ").unwrap_or(t);
        let t = t.strip_prefix("const ").unwrap_or(t);
        t.starts_with("fn ")
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !is_fn(lines[i]) {
            i += 1;
            continue;
        }
        let (mut depth, mut opened, mut end) = (0i64, false, None);
        for (j, line) in lines.iter().enumerate().skip(i) {
            let code = code_only(line);
            if !opened && code.contains(';') && !code.contains('{') {
                break; // a declaration without a body (in a trait)
            }
            for c in code.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if opened && depth <= 0 {
                end = Some(j);
                break;
            }
        }
        match end {
            Some(j) => {
                if j - i + 1 > MAX_FN_LINES {
                    found.push((i + 1, lines[i].trim().to_string(), j - i + 1));
                }
                i = j + 1;
            }
            None => i += 1,
        }
    }
    found
}

#[test]
fn no_product_file_or_function_is_too_long_to_read() {
    let mut offenders = Vec::new();
    for (path, text) in rust_files("src") {
        let lines = product_lines(&text);
        if lines.len() > MAX_FILE_LINES {
            offenders.push(format!("{path}: {} lines", lines.len()));
        }
        for (line, head, len) in long_functions(&lines) {
            offenders.push(format!("{path}:{line}: {len}-line function `{head}`"));
        }
    }
    assert!(
        offenders.is_empty(),
        "over {MAX_FILE_LINES} lines per file or {MAX_FN_LINES} per function:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn each_system_is_named_only_in_its_folder_the_registry_the_config_and_the_migrations() {
    let files = rust_files("src");
    let mut offenders = BTreeMap::<&str, Vec<String>>::new();
    for (folder, word) in SYSTEMS {
        let own = format!("src/integrations/{folder}/");
        for (path, text) in &files {
            let exempt = path.starts_with(&own)
                || path.starts_with("src/demo/")
                || MAY_NAME_SYSTEMS.contains(&path.as_str());
            // A unit test may use a real system's data as its example; the code it tests may not.
            let named_at = product_lines(text)
                .iter()
                .position(|l| l.to_lowercase().contains(word));
            if let (false, Some(line)) = (exempt, named_at) {
                offenders
                    .entry(word)
                    .or_default()
                    .push(format!("{path}:{}", line + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "systems named outside their folder (allowed: {MAY_NAME_SYSTEMS:?}):\n{offenders:#?}"
    );
}

#[test]
fn faces_build_no_protocol_client() {
    let mut offenders = Vec::new();
    for face in ["src/cli", "src/server", "src/tui"] {
        for (path, text) in rust_files(face) {
            for (n, line) in text.lines().enumerate() {
                let reaches_a_client = SYSTEMS.iter().any(|(folder, _)| {
                    line.contains(&format!("integrations::{folder}::client"))
                        || line.contains(&format!("integrations::{folder}::flows"))
                });
                if reaches_a_client {
                    offenders.push(format!("{path}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "faces must go through app, not build clients or run flows themselves:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_simulators_are_their_own_crate_and_know_nothing_of_the_product() {
    assert!(
        !root().join("src/sim").exists(),
        "src/sim is back in the product crate"
    );
    let manifest = fs::read_to_string(root().join("sim/Cargo.toml")).unwrap();
    let dependencies = manifest
        .lines()
        .skip_while(|l| !l.starts_with("[dependencies]"))
        .skip(1)
        .take_while(|l| !l.starts_with('['));
    for line in dependencies {
        assert!(
            !line.trim_start().starts_with("syncdesk"),
            "the simulator crate depends on the product: {line}"
        );
    }
    for (path, text) in rust_files("sim/src") {
        assert!(
            !text.contains("syncdesk::"),
            "{path} imports the product: a simulator shares no code with what it witnesses"
        );
    }
}

/// Which sibling modules each module of a folder imports (`super::x`, `crate::<folder>::x`).
fn sibling_imports(folder: &str) -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(&format!("src/{folder}"));
    let module_of = |path: &str| -> Option<String> {
        let rest = path.strip_prefix(&format!("src/{folder}/"))?;
        let first = rest.split('/').next()?;
        let name = first.trim_end_matches(".rs");
        (name != "mod").then(|| name.to_string())
    };
    let modules: BTreeSet<String> = files.iter().filter_map(|(p, _)| module_of(p)).collect();
    let mut graph = BTreeMap::<String, BTreeSet<String>>::new();
    for (path, text) in &files {
        let Some(from) = module_of(path) else {
            continue;
        };
        let nested = path.matches('/').count() > 2;
        for line in product_lines(text) {
            let code = code_only(line);
            let mut targets = Vec::new();
            for prefix in [format!("crate::{folder}::"), "super::".to_string()] {
                let mut rest = code.as_str();
                while let Some(at) = rest.find(&prefix) {
                    rest = &rest[at + prefix.len()..];
                    // In a nested file, `super::` is its own module, not the folder.
                    if prefix == "super::" && nested {
                        continue;
                    }
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    targets.push(name);
                }
            }
            for to in targets {
                if to != from && modules.contains(&to) {
                    graph.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    graph
}

fn a_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn modules_of_app_and_cli_do_not_import_each_other_in_circles() {
    for folder in ["app", "cli"] {
        let graph = sibling_imports(folder);
        if let Some(cycle) = a_cycle(&graph) {
            panic!("{folder}/: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_rules_catch_what_they_guard() {
    let long = format!("fn f() {{\n{}}}\n", "    x();\n".repeat(MAX_FN_LINES));
    let lines: Vec<&str> = long.lines().collect();
    assert_eq!(long_functions(&lines).len(), 1, "a long function is found");
    let braces = "fn g() {\n    let s = \"}}}\"; let c = '}';\n    h();\n}\n";
    let lines: Vec<&str> = braces.lines().collect();
    assert!(long_functions(&lines).is_empty());
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(a_cycle(&graph).unwrap().len(), 3, "a → b → a is a circle");
}
