//! `vodpipe plugin new`, followed as a plugin author would: a project of each stage is
//! written, built for wasm32-wasip2 (offline, with the SDK's lockfile), put in a bundle,
//! pinned, checked, previewed and run on a real video.

mod common;

use std::path::Path;
use std::process::Command;

use common::{ok, vodpipe};
use serde_json::Value;

fn fails(args: &[&str]) -> String {
    let out = vodpipe(args);
    assert!(!out.status.success(), "vodpipe {args:?} succeeded");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `cargo ARGS` in `project`, as its author would run it, into a target directory the test
/// runs share.
fn cargo(project: &Path, args: &[&str]) {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target");
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(project)
        .args(args)
        .env("CARGO_TARGET_DIR", &target)
        // This test's own build settings are not the author's.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo {args:?} in {} failed:\n{}{}",
        project.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The project formatted and lint-free as written, then built for wasm32-wasip2 (offline,
/// with the lockfile it was given); returns the component's bytes.
fn build(project: &Path, name: &str) -> Vec<u8> {
    cargo(project, &["fmt", "--check"]);
    let wasm32 = ["--offline", "--target", "wasm32-wasip2"];
    cargo(project, &[&["clippy"][..], &wasm32, &["--", "-D", "warnings"]].concat());
    cargo(project, &[&["build", "--release"][..], &wasm32].concat());
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target");
    let wasm = target.join(format!("wasm32-wasip2/release/{}.wasm", name.replace('-', "_")));
    std::fs::read(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()))
}

#[test]
fn a_new_plugin_of_each_stage_builds_and_runs_a_video_through_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("policy");
    let bundle_arg = bundle.to_str().unwrap();
    ok(&["policy", "init", bundle_arg]);

    let manifest = bundle.join("bundle.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    for (name, stage, replaces) in [
        ("my-planner", "planner", "ladder-table"),
        ("my-jobs", "job-builder", "mediaconvert-hls"),
        ("my-post", "post-processor", "post-default"),
    ] {
        let project = dir.path().join(name);
        let printed = ok(&[
            "plugin",
            "new",
            name,
            "--stage",
            stage,
            "--dir",
            project.to_str().unwrap(),
        ]);
        assert!(
            printed.contains("cargo build --release --target wasm32-wasip2"),
            "{printed}"
        );
        for file in ["Cargo.toml", "Cargo.lock", "rust-toolchain.toml", "src/lib.rs"] {
            assert!(project.join(file).is_file(), "{name}: no {file}");
        }
        let wasm = build(&project, name);
        std::fs::write(bundle.join(format!("plugins/{name}.wasm")), wasm).unwrap();
        text = text.replace(&format!("plugins/{replaces}.wasm"), &format!("plugins/{name}.wasm"));
    }
    // The built-in bundle's configs are for its own plugins; the new ones take other keys.
    text = text
        .replace("manifest_name = \"index\"\n", "")
        .replace("delete_source = true\n", "delete_source = false\n");
    std::fs::write(&manifest, text).unwrap();
    let preset = bundle.join("ladders/default.toml");
    let mut ladder = std::fs::read_to_string(&preset).unwrap();
    ladder.push_str("\n[plugin]\nmax_renditions = 2\n");
    std::fs::write(&preset, ladder).unwrap();

    assert!(fails(&["policy", "check", bundle_arg]).contains("sha256 mismatch"));
    let pinned = ok(&["policy", "pin", bundle_arg]);
    assert_eq!(pinned.lines().filter(|l| l.contains(" -> ")).count(), 3, "{pinned}");
    let report = ok(&["policy", "check", bundle_arg]);
    assert!(
        report.contains("planner         my-planner")
            && report.contains("job-builder     my-jobs")
            && report.contains("post-processor  my-post"),
        "{report}"
    );

    // The whole pipeline on a real video, every stage a new plugin.
    let source = dir.path().join("source.mp4");
    vodpipe_embedded::ffmpeg::test_pattern(&source, 1280, 720, 2, true).unwrap();
    let data = dir.path().join("data");
    let out = ok(&[
        "process",
        source.to_str().unwrap(),
        "--policy",
        bundle_arg,
        "--out",
        data.to_str().unwrap(),
        "--json",
    ]);
    let video: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(video["status"], "done", "{video}");
    let sizes: Vec<(u64, u64)> = video["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["width"].as_u64().unwrap(), r["height"].as_u64().unwrap()))
        .collect();
    assert_eq!(sizes, [(1280, 720), (854, 480)], "{video}");
    let master = Path::new(video["master_playlist"].as_str().unwrap());
    assert!(std::fs::read_to_string(master).unwrap().contains("#EXT-X-STREAM-INF"));
}

#[test]
fn the_guide_shows_what_plugin_new_prints() {
    let dir = tempfile::tempdir().unwrap();
    let new = |name: &str, target_dir: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vodpipe"));
        command
            .current_dir(dir.path())
            .args(["plugin", "new", name, "--stage", "planner"]);
        match target_dir {
            Some(target) => command.env("CARGO_TARGET_DIR", target),
            None => command.env_remove("CARGO_TARGET_DIR"),
        };
        let out = command.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let printed = new("my-planner", None);
    let guide = include_str!("../../../docs/plugins.md");
    let shown = format!("$ vodpipe plugin new my-planner --stage planner\n{printed}```");
    assert!(guide.contains(&shown), "docs/plugins.md does not show:\n{shown}");
    assert!(dir.path().join("my-planner/src/lib.rs").is_file());
    // With CARGO_TARGET_DIR set, the build lands there, and that is where it says.
    let printed = new("elsewhere", Some("/builds"));
    assert!(
        printed.contains("it is:     /builds/wasm32-wasip2/release/elsewhere.wasm"),
        "{printed}"
    );
}

#[test]
fn plugin_new_refuses_a_bad_name_and_a_directory_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("mine");
    let project = project.to_str().unwrap();
    let message = fails(&["plugin", "new", "My_Plugin", "--stage", "planner", "--dir", project]);
    assert!(message.contains("`My_Plugin` is not a plugin name"), "{message}");
    ok(&["plugin", "new", "mine", "--stage", "planner", "--dir", project]);
    let message = fails(&["plugin", "new", "mine", "--stage", "planner", "--dir", project]);
    assert!(message.contains("already exists and is not empty"), "{message}");
    // A project is not the SDK, even though it has a Cargo.toml.
    let other = dir.path().join("other");
    let message = fails(&[
        "plugin",
        "new",
        "other",
        "--stage",
        "planner",
        "--dir",
        other.to_str().unwrap(),
        "--sdk",
        project,
    ]);
    assert!(message.contains("is not the plugin SDK"), "{message}");
    assert!(!other.exists());
}
