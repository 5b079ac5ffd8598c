//! The layering rule of docs/ARCHITECTURE.md, checked: no dependency cycle between the
//! top-level modules of any crate. A top-level module is a file `src/<m>.rs` or a folder
//! `src/<m>/` with everything in it; a dependency is a `crate::<name>` path, where `<name>` is
//! the module or any module inside its folder (re-exported at the crate root).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    // Top-level modules: `src/<m>.rs`, and folders `src/<m>/` (with everything below them). A
    // module re-exported from a folder (`crate::gate` for `write/gate.rs`) belongs to the folder.
    let mut text: BTreeMap<String, String> = BTreeMap::new();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let (module, files) = if entry.path().is_dir() {
            let mut files = Vec::new();
            let mut stack = vec![entry.path()];
            while let Some(dir) = stack.pop() {
                for e in std::fs::read_dir(&dir).unwrap().flatten() {
                    if e.path().is_dir() {
                        stack.push(e.path());
                    } else if e.path().extension().is_some_and(|x| x == "rs") {
                        files.push(e.path());
                    }
                }
            }
            (name, files)
        } else {
            match name.strip_suffix(".rs") {
                Some("lib" | "main") | None => continue,
                Some(m) => (m.to_string(), vec![entry.path()]),
            }
        };
        for f in &files {
            let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
            if stem != "mod" && stem != "tests" {
                owner.insert(stem, module.clone());
            }
            text.entry(module.clone()).or_default().push_str(&std::fs::read_to_string(f).unwrap());
        }
        owner.insert(module.clone(), module);
    }
    text.iter()
        .map(|(m, t)| {
            let deps = t
                .split("crate::")
                .skip(1)
                .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>())
                .filter_map(|d| owner.get(&d).cloned())
                .filter(|d| d != m)
                .collect();
            (m.clone(), deps)
        })
        .collect()
}

/// A cycle through `start`, if any (depth-first).
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(graph: &BTreeMap<String, BTreeSet<String>>, at: &str, start: &str, path: &mut Vec<String>, seen: &mut BTreeSet<String>) -> bool {
        for next in &graph[at] {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, next, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(graph, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn no_crate_has_a_dependency_cycle_between_its_top_level_modules() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for krate in ["registry", "lsp-bridge", "daemon", "bench"] {
        let graph = module_graph(&repo.join(krate).join("src"));
        assert!(graph.len() > 3, "{krate}: modules found");
        for m in graph.keys() {
            if let Some(cycle) = cycle_from(&graph, m) {
                panic!("{krate}: dependency cycle {} → {m}", cycle.join(" → "));
            }
        }
    }
}

#[test]
fn the_check_finds_a_cycle_when_there_is_one() {
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec!["a"])].into_iter().map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect())).collect();
    assert_eq!(cycle_from(&graph, "a").unwrap(), ["a", "b", "c"]);
    assert!(cycle_from(&graph, "d").is_none());
}
