//! The handlers' policy from S3 (moto): nothing active is a clear, retryable error; an
//! activation is picked up by the next message; an unchanged pointer costs no download; a
//! bundle that does not load, or S3 not answering, keeps the last good policy.

use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use vodpipe_aws::{Blocking, S3PolicyStore};
use vodpipe_core::ports::PortError;
use vodpipe_lambda::{PolicySource, S3Policy};
use vodpipe_runtime::{LAMBDA_TARGET, Limits, PluginRuntime};
use vodpipe_test_support::moto::Moto;

/// The built-in bundle with another active preset.
fn mobile_first() -> vodpipe_policy::MemoryFiles {
    let mut files = vodpipe_plugin_artifacts::builtin_files();
    let manifest = String::from_utf8(files.files["bundle.toml"].clone()).unwrap();
    files.files.insert(
        "bundle.toml".into(),
        manifest
            .replace("preset = \"default\"", "preset = \"mobile-first\"")
            .into_bytes(),
    );
    files
}

/// moto's S3 with a `policy` bucket, and the policy store over its `policy/` prefix.
fn policy_bucket() -> (Moto, tokio::runtime::Runtime, aws_sdk_s3::Client, S3PolicyStore) {
    let moto = Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = runtime.block_on(moto.config());
    let s3 = vodpipe_test_support::moto::s3_client(&config);
    runtime.block_on(s3.create_bucket().bucket("policy").send()).unwrap();
    let store = S3PolicyStore::new(s3.clone(), "policy", "policy");
    (moto, runtime, s3, store)
}

#[test]
fn the_policy_follows_the_pointer_and_keeps_the_last_good_bundle() {
    let (moto, runtime, s3, store) = policy_bucket();
    let cache = tempfile::tempdir().unwrap();
    let plugins = PluginRuntime::new(Some(cache.path().to_owned()), Limits::default()).unwrap();
    let source = Arc::new(S3Policy::new(
        store.clone(),
        plugins.clone(),
        Blocking::new(runtime.handle().clone()),
    ));
    // The handlers ask from the blocking pool, never from an async task.
    let current = || {
        let source = source.clone();
        std::thread::spawn(move || source.current()).join().unwrap()
    };

    let err = current().err().expect("nothing is active yet");
    // Retried until a bundle is published, not a refusal that fails the video.
    assert!(
        matches!(&err, PortError::Unavailable(why) if why.contains("no policy bundle is active at s3://policy/policy/")),
        "{err:?}"
    );

    let builtin = runtime
        .block_on(store.publish(&vodpipe_plugin_artifacts::builtin_files()))
        .unwrap();
    runtime.block_on(store.activate(&builtin)).unwrap();
    let first = current().unwrap();
    assert_eq!(first.preset().name, "default");
    assert!(
        std::fs::read_dir(cache.path()).unwrap().count() > 0,
        "compiled plugins are cached on disk"
    );
    assert!(
        Arc::ptr_eq(&first, &current().unwrap()),
        "an unchanged pointer: the same policy"
    );

    let mobile = runtime.block_on(store.publish(&mobile_first())).unwrap();
    runtime.block_on(store.activate(&mobile)).unwrap();
    assert_eq!(
        current().unwrap().preset().name,
        "mobile-first",
        "the next message uses it"
    );

    // The pointer moves back to the first bundle, whose planner was replaced after
    // publishing: refused, the last good bundle stays.
    let broken = builtin;
    let planner = format!("policy/bundles/{broken}/plugins/ladder-table.wasm");
    runtime
        .block_on(
            s3.put_object()
                .bucket("policy")
                .key(&planner)
                .body(ByteStream::from_static(b"\0asm not really"))
                .send(),
        )
        .unwrap();
    let pointer = format!(r#"{{"bundle":"{broken}","name":"builtin","activated_at_ms":1,"history":[]}}"#);
    runtime
        .block_on(
            s3.put_object()
                .bucket("policy")
                .key("policy/active.json")
                .body(ByteStream::from(pointer.into_bytes()))
                .send(),
        )
        .unwrap();
    assert_eq!(current().unwrap().preset().name, "mobile-first");
    assert_eq!(current().unwrap().preset().name, "mobile-first", "refused once, kept");

    // S3 stops answering: the last good policy still runs the jobs.
    drop(moto);
    assert_eq!(current().unwrap().preset().name, "mobile-first");
}

/// A cold instance (empty plugin cache) with a bundle published with precompiled plugins
/// runs no Cranelift; an artifact that is not what it claims, or does not fit the engine, is
/// never run: the plugin is compiled instead and the policy works.
#[test]
fn a_cold_instance_loads_published_artifacts_and_compiles_only_what_does_not_fit() {
    let (_moto, runtime, s3, store) = policy_bucket();
    let hash = runtime
        .block_on(store.publish(&vodpipe_plugin_artifacts::builtin_files()))
        .unwrap();
    let bundle = runtime.block_on(store.download(&hash)).unwrap();
    // What `vodpipe policy publish` uploads, compiled by another runtime (another machine).
    let publisher = PluginRuntime::for_target(None, Limits::default(), LAMBDA_TARGET).unwrap();
    let mut artifacts = publisher.precompile_bundle(&bundle);
    assert_eq!(artifacts.len(), 5, "the three stages and the two pinned planners");
    // A cold instance of the active preset loads the three stages.
    artifacts.truncate(3);
    runtime.block_on(store.activate(&hash)).unwrap();

    let cold = |cache: &std::path::Path, load_precompiled: bool| {
        let plugins = PluginRuntime::for_target(Some(cache.to_owned()), Limits::default(), LAMBDA_TARGET).unwrap();
        let source = S3Policy::new(store.clone(), plugins.clone(), Blocking::new(runtime.handle().clone()))
            .load_precompiled(load_precompiled);
        let policy = std::thread::scope(|s| s.spawn(|| source.current()).join().unwrap()).unwrap();
        assert_eq!(policy.preset().name, "default");
        plugins.cache_stats()
    };

    // Nothing published beside the bundle: every plugin is compiled, as before.
    let stats = cold(tempfile::tempdir().unwrap().path(), true);
    assert_eq!((stats.from_disk, stats.compiled), (0, 3), "{stats:?}");

    // One artifact lies about its plugin (another plugin's artifact under its name), one is
    // cut short; the third is good.
    let [(good_name, good), (liar_name, _), (short_name, short)] = artifacts.try_into().unwrap();
    let liar = publisher
        .precompile(&bundle.stages()[0].wasm, &bundle.stages()[0].sha256)
        .unwrap();
    let short = short.unwrap();
    for (name, bytes) in [
        (&good_name, good.unwrap()),
        (&liar_name, liar),
        (&short_name, short[..short.len() / 2].to_vec()),
    ] {
        assert!(runtime.block_on(store.put_precompiled(name, bytes)).unwrap());
    }
    let stats = cold(tempfile::tempdir().unwrap().path(), true);
    assert_eq!((stats.from_disk, stats.compiled), (1, 2), "{stats:?}");

    // All three good (what the publisher uploads): a cold instance compiles nothing.
    let store_all = |artifacts: Vec<(String, Result<Vec<u8>, String>)>| {
        for (name, bytes) in artifacts {
            let key = format!("policy/precompiled/{name}");
            runtime
                .block_on(
                    s3.put_object()
                        .bucket("policy")
                        .key(key)
                        .body(ByteStream::from(bytes.unwrap()))
                        .send(),
                )
                .unwrap();
        }
    };
    store_all(publisher.precompile_bundle(&bundle));
    let stats = cold(tempfile::tempdir().unwrap().path(), true);
    assert_eq!((stats.from_disk, stats.compiled), (3, 0), "{stats:?}");

    // Deployed not to load native code from the bucket: it compiles, artifacts or not.
    let stats = cold(tempfile::tempdir().unwrap().path(), false);
    assert_eq!((stats.from_disk, stats.compiled), (0, 3), "{stats:?}");
}
