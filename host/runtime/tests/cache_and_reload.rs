//! The compiled-artifact cache across processes, and hot reload of a bundle directory.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Spec, guest, source};
use vodpipe_core::ports::Policy;
use vodpipe_plugin_artifacts::{builtin_bundle, sha256_hex};
use vodpipe_runtime::reload::{LoadError, Reload};
use vodpipe_runtime::{CacheStats, Limits, PluginRuntime, PolicyHandle};

fn cached_runtime(dir: &Path) -> Arc<PluginRuntime> {
    PluginRuntime::new(Some(dir.to_owned()), Limits::default()).unwrap()
}

fn load_and_plan(runtime: &Arc<PluginRuntime>) -> CacheStats {
    let policy = Spec::default().load(runtime);
    assert_eq!(policy.plan(&source(1280, 720)).unwrap().renditions.len(), 4);
    runtime.cache_stats()
}

#[test]
fn a_cold_runtime_reuses_precompiled_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(load_and_plan(&cached_runtime(dir.path())).compiled, 3);
    let cold = load_and_plan(&cached_runtime(dir.path()));
    assert_eq!((cold.from_disk, cold.compiled), (3, 0));
}

#[test]
fn a_tampered_artifact_is_recompiled_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let first = cached_runtime(dir.path());
    load_and_plan(&first);
    let path = first.artifact_path(&sha256_hex(guest("ladder-table").wasm)).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();

    let second = load_and_plan(&cached_runtime(dir.path()));
    assert_eq!((second.from_disk, second.compiled), (2, 1));
    // The recompiled artifact replaced the tampered one.
    let third = load_and_plan(&cached_runtime(dir.path()));
    assert_eq!((third.from_disk, third.compiled), (3, 0));
}

#[test]
fn an_artifact_of_another_plugin_or_engine_is_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let first = cached_runtime(dir.path());
    load_and_plan(&first);
    let planner_sha = sha256_hex(guest("ladder-table").wasm);
    let planner_path = first.artifact_path(&planner_sha).unwrap();

    // Another plugin's artifact under the planner's name.
    let post_path = first.artifact_path(&sha256_hex(guest("post-default").wasm)).unwrap();
    std::fs::copy(&post_path, &planner_path).unwrap();
    assert_eq!(load_and_plan(&cached_runtime(dir.path())).compiled, 1);

    // An artifact with a well-formed header, compiled by an engine with another configuration
    // (no epoch interruption): wasmtime refuses it, so it is recompiled.
    let foreign_engine = wasmtime::Engine::new(wasmtime::Config::new().wasm_component_model(true)).unwrap();
    let body = foreign_engine.precompile_component(guest("ladder-table").wasm).unwrap();
    let mut file = b"VPCWASM1".to_vec();
    file.extend_from_slice(planner_sha.as_bytes());
    file.extend_from_slice(sha256_hex(&body).as_bytes());
    file.extend_from_slice(&body);
    std::fs::write(&planner_path, file).unwrap();
    assert_eq!(load_and_plan(&cached_runtime(dir.path())).compiled, 1);
}

fn write_bundle(dir: &Path) {
    for (rel, bytes) in builtin_bundle() {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

fn rungs(handle: &PolicyHandle) -> usize {
    handle.current().plan(&source(1920, 1080)).unwrap().renditions.len()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_running_host_picks_up_a_changed_bundle_and_keeps_the_last_good_one() {
    let dir = tempfile::tempdir().unwrap();
    write_bundle(dir.path());
    let handle = PolicyHandle::from_dir(common::runtime(), dir.path()).unwrap();
    let _watch = handle.watch(Duration::from_millis(25));
    assert_eq!(rungs(&handle), 5);

    // A product team drops the 1080p rung: the next plan has four renditions, no restart.
    let ladder = dir.path().join("ladders/default.toml");
    let text = std::fs::read_to_string(&ladder).unwrap();
    let rung_1080 = "[[rungs]]\nname = \"1080p\"\nshort_side = 1080\nvideo_kbps = 5000\nmax_kbps = 7500\nprofile = \"high\"\nlevel = \"auto\"\naudio_kbps = 128\n\n";
    let without_1080 = text.replace(rung_1080, "");
    assert_ne!(without_1080, text);
    std::fs::write(&ladder, &without_1080).unwrap();
    wait_for("the edited preset", || rungs(&handle) == 4);

    // A broken edit is refused and the last good bundle stays active.
    std::fs::write(
        &ladder,
        without_1080.replace("segment_seconds = 6", "segment_seconds = 6\nsegment_lenght = 6"),
    )
    .unwrap();
    match handle.reload() {
        Err(LoadError::Bundle(d)) => assert!(d.to_string().contains("segment_lenght: unknown key"), "{d}"),
        other => panic!("a broken preset was not refused: {other:?}"),
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(rungs(&handle), 4);

    // A plugin swapped without updating its pin is refused too.
    std::fs::write(&ladder, &without_1080).unwrap();
    std::fs::write(
        dir.path().join("plugins/ladder-table.wasm"),
        guest("ladder-per-title").wasm,
    )
    .unwrap();
    assert!(matches!(handle.reload(), Err(LoadError::Bundle(d)) if d.to_string().contains("sha256 mismatch")));
    assert_eq!(rungs(&handle), 4);

    // Restoring it reactivates; an unchanged bundle is not reloaded twice.
    std::fs::write(dir.path().join("plugins/ladder-table.wasm"), guest("ladder-table").wasm).unwrap();
    wait_for("the restored bundle", || {
        rungs(&handle) == 4 && handle.reload().unwrap() == Reload::Unchanged
    });
}
