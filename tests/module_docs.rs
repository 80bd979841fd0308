//! Every module says what it owns in a `//!` line at its top (ARCHITECTURE.md's code map relies
//! on it).

#[test]
fn every_source_file_starts_with_a_module_doc() {
    let mut missing = Vec::new();
    let mut seen = 0;
    let mut stack = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                seen += 1;
                let text = std::fs::read_to_string(&path).unwrap();
                if !text.starts_with("//! ") {
                    missing.push(path.display().to_string());
                }
            }
        }
    }
    assert!(seen >= 20, "found only {seen} source files");
    assert!(missing.is_empty(), "files without a `//!` first line: {missing:?}");
}
