//! Snapshot tests over good and bad policy files: every `ui/ladders/*.toml`, every
//! `ui/pricing/*.toml` (cost models) and every `ui/bundles/<case>/` is loaded; a good one must
//! match its `.json` snapshot, a bad one its `.err` snapshot (every diagnostic with
//! file:line:column and key path). A good ladder with warnings must also match its `.warn`
//! snapshot. `BLESS=1` rewrites the snapshots.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;
use vodpipe_policy::{Bundle, DirFiles, check_ladder, parse_cost_model, parse_ladder};

fn ui_dir() -> PathBuf {
    // Relative, so snapshots name files the same way on every machine.
    PathBuf::from("tests/ui")
}

fn compare(snapshot: &Path, actual: &str, failures: &mut Vec<String>) {
    // A good case has no `.err`, a bad one no `.json`.
    let other = match snapshot.extension().unwrap().to_str().unwrap() {
        "json" => Some(snapshot.with_extension("err")),
        "err" => Some(snapshot.with_extension("json")),
        _ => None,
    };
    if std::env::var_os("BLESS").is_some() {
        fs::write(snapshot, actual).unwrap();
        if let Some(other) = other {
            let _ = fs::remove_file(other);
        }
        return;
    }
    match fs::read_to_string(snapshot) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => failures.push(format!(
            "{} differs (BLESS=1 to accept)\n--- expected\n{expected}\n--- actual\n{actual}",
            snapshot.display()
        )),
        Err(_) => failures.push(format!(
            "{} is missing (BLESS=1 to create); actual:\n{actual}",
            snapshot.display()
        )),
    }
}

#[test]
fn ladders() {
    let mut failures = Vec::new();
    let mut seen = 0;
    let mut entries: Vec<_> = fs::read_dir(ui_dir().join("ladders"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
        seen += 1;
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let text = fs::read_to_string(path).unwrap();
        let warnings = path.with_extension("warn");
        let (snapshot, actual) = match check_ladder(&path.display().to_string(), &text, Some(stem)) {
            Ok(checked) => {
                if !checked.warnings.is_empty() || warnings.exists() {
                    let lines: Vec<String> = checked.warnings.0.iter().map(|w| format!("{w}\n")).collect();
                    compare(&warnings, &lines.concat(), &mut failures);
                }
                (
                    path.with_extension("json"),
                    serde_json::to_string_pretty(&checked.preset).unwrap() + "\n",
                )
            }
            Err(d) => (path.with_extension("err"), format!("{d}\n")),
        };
        compare(&snapshot, &actual, &mut failures);
    }
    assert!(seen >= 9, "expected the ladder examples, found {seen}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn cost_models() {
    let mut failures = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(ui_dir().join("pricing"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    let mut seen = 0;
    for path in entries.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
        seen += 1;
        let text = fs::read_to_string(path).unwrap();
        let (snapshot, actual) = match parse_cost_model(&path.display().to_string(), &text) {
            Ok(model) => (
                path.with_extension("json"),
                serde_json::to_string_pretty(&model).unwrap() + "\n",
            ),
            Err(d) => (path.with_extension("err"), format!("{d}\n")),
        };
        compare(&snapshot, &actual, &mut failures);
    }
    assert!(seen >= 7, "expected the cost model examples, found {seen}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn bundles() {
    let mut failures = Vec::new();
    let mut cases: Vec<_> = fs::read_dir(ui_dir().join("bundles"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    for case in cases.iter().filter(|p| p.is_dir()) {
        let (snapshot, actual) = match Bundle::load(&DirFiles(case.clone()), None) {
            Ok(bundle) => {
                let summary = json!({
                    "name": bundle.name,
                    "preset": bundle.preset.name,
                    "presets": bundle.presets,
                    "cost_model": bundle.cost_model_file.as_ref().map(|file| json!({
                        "file": file,
                        "region": bundle.cost_model.as_ref().map(|m| &m.region),
                    })),
                    "stages": bundle.stages().map(|s| json!({
                        "stage": s.stage, "plugin": s.path, "name": s.name(), "sha256": s.sha256, "config": s.config,
                    })),
                });
                (
                    case.join("expected.json"),
                    serde_json::to_string_pretty(&summary).unwrap() + "\n",
                )
            }
            Err(d) => (case.join("expected.err"), format!("{d}\n")),
        };
        compare(&snapshot, &actual, &mut failures);
    }
    assert!(cases.len() >= 9, "expected the bundle examples");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The presets the repository ships are all valid.
#[test]
fn shipped_ladders_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ladders");
    let mut names = Vec::new();
    // `ladders/pricing/` holds the cost model, not presets.
    for entry in fs::read_dir(&dir).unwrap().flatten().filter(|e| e.path().is_file()) {
        let path = entry.path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = fs::read_to_string(&path).unwrap();
        let checked =
            check_ladder(&format!("ladders/{stem}.toml"), &text, Some(&stem)).unwrap_or_else(|d| panic!("{d}"));
        assert!(!checked.preset.rungs.is_empty());
        assert!(checked.warnings.is_empty(), "{stem}: {:?}", checked.warnings);
        // "auto" everywhere: every rendition gets the lowest conformant level for its video.
        assert!(checked.preset.rungs.iter().all(|r| r.level == "auto"), "{stem}");
        names.push(stem);
    }
    names.sort();
    assert_eq!(
        names,
        [
            "av1",
            "cmaf",
            "content-aware",
            "default",
            "high-quality",
            "mobile-first",
            "per-title"
        ]
    );
}

#[test]
fn default_ladder_is_the_original_rule() {
    let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ladders/default.toml")).unwrap();
    let preset = parse_ladder("ladders/default.toml", &text, Some("default")).unwrap();
    let sides: Vec<u32> = preset.rungs.iter().map(|r| r.short_side).collect();
    assert_eq!(sides, [1080, 720, 480, 360, 240]);
    assert!(!preset.allow_upscale);
}
