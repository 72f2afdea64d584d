//! Every top-level public item of every member crate (a `pub fn`, `struct`,
//! `enum` or `trait` at the start of a line in `crates/*/src`) has a code
//! example in its doc comment. The examples themselves are compiled and run
//! by `cargo test --doc`; this test keeps new public items from arriving
//! without one (issue 11: "every public API has a doc example that
//! compiles").
//!
//! Methods are covered by their type's example; items inside `#[cfg(test)]`
//! modules and test files are not public API and are skipped.

use std::path::{Path, PathBuf};

/// `(file, line, item)` of each top-level public item without a ```` ``` ````
/// block in the doc comment right above it (attributes in between allowed).
fn items_without_examples(file: &Path, text: &str) -> Vec<(PathBuf, usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        // A test module is the end of a file's public items in this
        // workspace (`#[cfg(test)] mod tests;` or an inline one).
        if line.starts_with("#[cfg(test)]")
            && lines
                .get(i + 1)
                .is_some_and(|next| next.starts_with("mod "))
        {
            break;
        }
        let Some(rest) = ["pub fn ", "pub struct ", "pub enum ", "pub trait "]
            .iter()
            .find_map(|p| line.strip_prefix(p))
        else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !doc_above(&lines[..i]).iter().any(|l| l.contains("```")) {
            found.push((file.to_path_buf(), i + 1, name));
        }
    }
    found
}

/// The `///` lines of the doc comment that ends just above an item, across
/// any attributes in between (one-line or spread over several lines, such
/// as a long `#[derive(...)]`).
fn doc_above<'a>(above: &[&'a str]) -> Vec<&'a str> {
    let mut doc = Vec::new();
    for line in above.iter().rev().map(|l| l.trim()) {
        if line.starts_with("///") {
            doc.push(line);
        } else if !doc.is_empty()
            || line.is_empty()
            || line.ends_with('}')
            || line.ends_with(';')
            || line.starts_with("//")
        {
            // Past the doc comment, or the end of the previous item: an
            // item without docs.
            break;
        }
        // Otherwise an attribute line, or the inside of one.
    }
    doc
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_none_or(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

#[test]
fn the_checker_finds_a_missing_example_and_accepts_a_present_one() {
    let text = "/// Adds.\n///\n/// ```\n/// assert_eq!(add(1, 2), 3);\n/// ```\n\
                #[must_use]\npub fn add(a: u8, b: u8) -> u8 { a + b }\n\
                /// No example.\npub struct Bare;\n\
                pub(crate) fn hidden() {}\n\
                #[cfg(test)]\nmod tests {\npub fn helper() {}\n}\n";
    let found = items_without_examples(Path::new("x.rs"), text);
    assert_eq!(found, [(PathBuf::from("x.rs"), 9, "Bare".to_string())]);
    // A derive spread over lines between the docs and the item.
    let spread = "/// Counts.\n///\n/// ```\n/// let _ = 1;\n/// ```\n#[derive(\n    Debug,\n    Clone,\n)]\npub struct Counted;\n";
    assert!(items_without_examples(Path::new("y.rs"), spread).is_empty());
}

#[test]
fn every_public_item_of_every_crate_has_a_doc_example() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let mut files = Vec::new();
    rust_files(&crates, &mut files);
    let files: Vec<_> = files
        .into_iter()
        .filter(|f| f.components().any(|c| c.as_os_str() == "src"))
        .collect();
    assert!(files.len() > 50, "only {} source files found", files.len());
    let missing: Vec<String> = files
        .iter()
        .flat_map(|f| items_without_examples(f, &std::fs::read_to_string(f).unwrap()))
        .map(|(f, line, name)| {
            let f = f.strip_prefix(&crates).unwrap_or(&f).display().to_string();
            format!("{f}:{line} {name}")
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{} public items have no doc example:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
