//! Hostile plugins: each misbehaviour is stopped, reported as a typed error naming plugin,
//! stage and cause, and the same runtime goes on serving good plugins.

mod common;

use std::time::{Duration, Instant};

use common::{Spec, runtime, source};
use vodpipe_core::ports::Policy;
use vodpipe_core::{JobContext, PluginError, PluginFailure, Stage};
use vodpipe_plugin_artifacts::sha256_hex;
use vodpipe_runtime::reload::{LoadError, load};

fn hostile_planner(mode: &str) -> Spec<'static> {
    let extra: &'static str = Box::leak(format!("\n[plugin]\nmode = \"{mode}\"\n").into_boxed_str());
    Spec {
        planner: "hostile-planner",
        preset_extra: extra,
        ..Default::default()
    }
}

/// A source the hostile planner misbehaves on (it behaves for the activation dry run).
fn trigger() -> vodpipe_core::Probe {
    let mut source = source(1280, 720);
    source.video_codec = "trigger".into();
    source
}

fn plan_error(mode: &str) -> PluginError {
    let runtime = runtime();
    let policy = hostile_planner(mode).load(&runtime);
    let started = Instant::now();
    let error = policy.plan(&trigger()).expect_err(mode);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{mode} took {:?}",
        started.elapsed()
    );
    assert_eq!(
        (error.plugin.as_str(), error.stage),
        ("hostile-planner", Stage::Planner),
        "{error}"
    );
    // The host goes on: a good policy on the same runtime still plans.
    let good = Spec::default().load(&runtime);
    assert_eq!(good.plan(&source(1280, 720)).unwrap().renditions.len(), 4);
    error
}

#[test]
fn infinite_loop_is_stopped_at_the_deadline() {
    let error = plan_error("loop");
    assert_eq!(error.failure, PluginFailure::Timeout(500), "{error}");
    assert_eq!(
        error.to_string(),
        "plugin `hostile-planner` (planner): ran past its 500 ms deadline and was stopped"
    );
}

#[test]
fn memory_bomb_is_stopped_at_the_memory_limit() {
    let error = plan_error("memory");
    assert_eq!(error.failure, PluginFailure::MemoryLimit(64 << 20), "{error}");
}

/// `src/lib.rs:LINE:` of the hostile planner's line that holds `text`, as a panic there reports it.
fn hostile_planner_line(text: &str) -> String {
    let source = include_str!("../../../plugins/tests/hostile-planner/src/lib.rs");
    let line = source
        .lines()
        .position(|l| l.contains(text))
        .expect("the line is in the source")
        + 1;
    format!("src/lib.rs:{line}:")
}

#[test]
fn a_panic_is_reported_with_its_message_and_line() {
    let error = plan_error("trap");
    let PluginFailure::Trap(cause) = &error.failure else {
        panic!("not a trap: {error}");
    };
    assert!(cause.starts_with("panicked at "), "{error}");
    assert!(cause.contains(&hostile_planner_line("panics on purpose\")")), "{error}");
    assert!(cause.ends_with(": the hostile planner panics on purpose"), "{error}");
    // The panic is the cause; the trap it ends in is not repeated.
    assert!(!error.to_string().contains("unreachable"), "{error}");
}

#[test]
fn a_trap_that_is_not_a_panic_is_reported_once_with_its_frames() {
    let error = plan_error("raw-trap");
    let PluginFailure::Trap(cause) = &error.failure else {
        panic!("not a trap: {error}");
    };
    assert_eq!(cause.matches("unreachable").count(), 1, "{error}");
    assert!(cause.contains("wasm backtrace"), "{error}");
}

#[test]
fn a_panic_after_the_log_limit_is_still_reported() {
    let error = plan_error("log-flood-then-panic");
    let PluginFailure::Trap(cause) = &error.failure else {
        panic!("not a trap: {error}");
    };
    assert!(cause.contains(&hostile_planner_line("after 300 log lines")), "{error}");
    assert!(
        cause.ends_with("the hostile planner panics after 300 log lines"),
        "{error}"
    );
}

#[test]
fn odd_sizes_are_invalid_output() {
    let error = plan_error("odd-size");
    assert!(
        matches!(&error.failure, PluginFailure::InvalidOutput(m) if m.contains("641x359 is not even")),
        "{error}"
    );
}

#[test]
fn upscaling_is_invalid_output_when_the_preset_forbids_it() {
    let error = plan_error("upscale");
    assert!(
        matches!(&error.failure, PluginFailure::InvalidOutput(m) if m.contains("upscales a 1280x720 source")),
        "{error}"
    );
}

#[test]
fn duplicate_rendition_names_are_invalid_output() {
    let error = plan_error("duplicate-names");
    assert!(
        matches!(&error.failure, PluginFailure::InvalidOutput(m) if m.contains("name is used twice")),
        "{error}"
    );
}

#[test]
fn oversized_answer_is_refused() {
    let error = plan_error("huge-output");
    assert_eq!(error.failure, PluginFailure::OutputTooLarge(1 << 20), "{error}");
}

#[test]
fn log_flood_is_capped_and_the_answer_still_counts() {
    let runtime = runtime();
    let policy = hostile_planner("log-flood").load(&runtime);
    assert_eq!(policy.plan(&trigger()).unwrap().renditions.len(), 1);
}

#[test]
fn a_plugin_that_hangs_in_validate_config_is_not_activated() {
    let runtime = runtime();
    let Err(LoadError::Plugins(errors)) = load(&runtime, &hostile_planner("loop-in-validate").files(), None) else {
        panic!("a plugin that hangs was activated");
    };
    assert_eq!(errors[0].failure, PluginFailure::Timeout(500));
}

fn job_error(mode: &str) -> PluginError {
    let runtime = runtime();
    let config: &'static str = Box::leak(format!("{{ mode = \"{mode}\" }}").into_boxed_str());
    let policy = Spec {
        job_builder: "hostile-job-builder",
        job_builder_config: config,
        ..Default::default()
    }
    .load(&runtime);
    let plan = policy.plan(&source(1280, 720)).unwrap();
    let context = JobContext {
        video_id: "trigger".into(),
        input_uri: "s3://u/v".into(),
        output_prefix: "s3://m/v/".into(),
        role: String::new(),
        queue: None,
    };
    let error = policy.build_job(&plan, &context).expect_err(mode);
    assert_eq!(
        (error.plugin.as_str(), error.stage),
        ("hostile-job-builder", Stage::JobBuilder)
    );
    error
}

#[test]
fn garbage_job_documents_are_refused() {
    assert!(matches!(job_error("not-json").failure, PluginFailure::InvalidOutput(m) if m.contains("not valid JSON")));
    assert!(
        matches!(job_error("no-output-groups").failure, PluginFailure::InvalidOutput(m) if m.contains("OutputGroups"))
    );
    assert_eq!(job_error("huge").failure, PluginFailure::OutputTooLarge(1 << 20));
    assert!(matches!(job_error("other").failure, PluginFailure::Refused(m) if m.contains("unknown mode")));
}

#[test]
fn a_plugin_that_misbehaves_on_every_video_is_refused_at_activation() {
    // The activation dry run plans a reference video: a planner that hangs on it never
    // becomes the active policy.
    let runtime = runtime();
    let Err(LoadError::Plugins(errors)) = load(&runtime, &hostile_planner("always-loop").files(), None) else {
        panic!("activated a planner that hangs");
    };
    let PluginFailure::DryRun { sample, failure } = &errors[0].failure else {
        panic!("not said to be the dry run: {}", errors[0]);
    };
    assert!(sample.starts_with("reference video 1920x1080"), "{}", errors[0]);
    assert_eq!(**failure, PluginFailure::Timeout(500), "{}", errors[0]);
}

#[test]
fn a_config_the_plugin_cannot_read_is_refused_whole_at_the_call() {
    // The hostile planner's own validate-config accepts anything, so only the SDK's reading
    // of the config before `plan` stands between a bad config and the plugin: every problem
    // is named, and the plugin never runs on half of it.
    let runtime = runtime();
    let spec = Spec {
        planner: "hostile-planner",
        preset_extra: "\n[plugin]\nmode = 5\nextra = 1\n",
        ..Default::default()
    };
    let Err(LoadError::Plugins(errors)) = load(&runtime, &spec.files(), None) else {
        panic!("loaded")
    };
    let PluginFailure::DryRun { failure, .. } = &errors[0].failure else {
        panic!("not the dry run: {}", errors[0]);
    };
    assert_eq!(
        **failure,
        PluginFailure::Refused(
            "invalid config: mode: expected a string, found a number; extra: unknown key (expected one of: mode)"
                .into()
        )
    );
}

#[test]
fn a_plugin_in_the_wrong_stage_is_not_loaded() {
    let runtime = runtime();
    let spec = Spec {
        planner: "mediaconvert-hls",
        ..Default::default()
    };
    let Err(LoadError::Plugins(errors)) = load(&runtime, &spec.files(), None) else {
        panic!("loaded")
    };
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].to_string().contains("does not export the `planner` world"),
        "{}",
        errors[0]
    );
}

#[test]
fn bytes_that_are_not_a_component_are_not_loaded() {
    let runtime = runtime();
    let mut files = Spec::default().files();
    let garbage = b"\0asm but not really a component".to_vec();
    let manifest = String::from_utf8(files.files["bundle.toml"].clone())
        .unwrap()
        .replace(&sha256_hex(common::guest("ladder-table").wasm), &sha256_hex(&garbage));
    files.files.insert("bundle.toml".into(), manifest.into_bytes());
    files.files.insert("plugins/ladder-table.wasm".into(), garbage);
    let Err(LoadError::Plugins(errors)) = load(&runtime, &files, None) else {
        panic!("loaded")
    };
    assert!(
        matches!(&errors[0].failure, PluginFailure::Load(m) if m.contains("not a valid plugin component")),
        "{errors:?}"
    );
}

#[test]
fn the_sandbox_grants_no_filesystem_environment_or_network() {
    // The hostile planner tries each door and reports what it found as its refusal.
    let error = plan_error("escape");
    let PluginFailure::Refused(found) = &error.failure else {
        panic!("{error}")
    };
    assert!(found.contains("files: denied"), "{found}");
    assert!(found.contains("environment: 0 variables"), "{found}");
    assert!(found.contains("arguments: 0"), "{found}");
    assert!(found.contains("network: denied"), "{found}");
}
