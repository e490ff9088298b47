//! Ladder presets and policy bundles (the `policy_bundle` target). Also replayed by
//! `host/policy/tests/fuzz_corpus.rs`.
//!
//! An input is a bundle: its `bundle.toml`, then any other files, each introduced by a line
//! `#=> RELATIVE/PATH`. The three plugins of the `good` snapshot bundle are always present, so a
//! manifest pinning their sha256 gets past the plugin checks.

use std::collections::BTreeMap;

use vodpipe_policy::{Bundle, Diagnostics, MemoryFiles, parse_ladder};

pub const FILE_MARKER: &str = "#=> ";

const PLUGINS: [(&str, &[u8]); 3] = [
    (
        "plugins/planner.wasm",
        include_bytes!("../../policy/tests/ui/bundles/good/plugins/planner.wasm"),
    ),
    (
        "plugins/job-builder.wasm",
        include_bytes!("../../policy/tests/ui/bundles/good/plugins/job-builder.wasm"),
    ),
    (
        "plugins/post.wasm",
        include_bytes!("../../policy/tests/ui/bundles/good/plugins/post.wasm"),
    ),
];

/// The bundle files `input` describes.
pub fn files(input: &str) -> MemoryFiles {
    let mut files: BTreeMap<String, Vec<u8>> = PLUGINS
        .iter()
        .map(|(path, bytes)| ((*path).to_owned(), bytes.to_vec()))
        .collect();
    let mut path = "bundle.toml".to_owned();
    let mut text = String::new();
    for line in input.split_inclusive('\n') {
        if let Some(next) = line.strip_prefix(FILE_MARKER) {
            files.insert(std::mem::take(&mut path), std::mem::take(&mut text).into_bytes());
            path = next.trim_end().to_owned();
        } else {
            text.push_str(line);
        }
    }
    files.insert(path, text.into_bytes());
    MemoryFiles {
        label: "fuzz".to_owned(),
        files,
    }
}

/// Loads the bundle `data` describes, and parses each of its presets on its own, checking that
/// nothing panics and that every refusal says where and what.
pub fn check(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let files = files(input);
    for (path, bytes) in &files.files {
        let (Some(stem), Ok(text)) = (
            path.strip_prefix("ladders/")
                .and_then(|name| name.strip_suffix(".toml")),
            std::str::from_utf8(bytes),
        ) else {
            continue;
        };
        match parse_ladder(path, text, Some(stem)) {
            Ok(preset) => assert_eq!(preset.name, stem, "a preset named unlike its file"),
            Err(diagnostics) => check_diagnostics(&diagnostics, text),
        }
    }
    if let Err(diagnostics) = Bundle::load(&files, None) {
        assert!(!diagnostics.is_empty(), "a refusal without a diagnostic");
        for diagnostic in &diagnostics.0 {
            assert!(!diagnostic.message.is_empty(), "{diagnostic:?}");
        }
    }
}

/// Every diagnostic has a message, and a position inside its file's text.
fn check_diagnostics(diagnostics: &Diagnostics, text: &str) {
    assert!(!diagnostics.is_empty(), "a refusal without a diagnostic");
    let lines = text.split('\n').count();
    for diagnostic in &diagnostics.0 {
        assert!(!diagnostic.message.is_empty(), "{diagnostic:?}");
        assert!(diagnostic.line <= lines, "{diagnostic:?} is past the last line {lines}");
        assert!(
            (diagnostic.line == 0) == (diagnostic.column == 0),
            "half a position: {diagnostic:?}"
        );
    }
}
