//! Policy bundles in moto's S3: publish (idempotent, checked), activate, rollback, list; the
//! pointer's conditional writes and conditional reads; tampered or broken bundles refused.

use aws_sdk_s3::primitives::ByteStream;
use vodpipe_aws::S3PolicyStore;
use vodpipe_aws::policy::{PolicyStoreError, Poll};
use vodpipe_policy::MemoryFiles;
use vodpipe_test_support::moto::Moto;

struct Setup {
    _moto: Moto,
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_s3::Client,
    store: S3PolicyStore,
}

fn setup() -> Setup {
    let moto = Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = runtime.block_on(moto.config());
    let client = vodpipe_test_support::moto::s3_client(&config);
    runtime
        .block_on(client.create_bucket().bucket("policy").send())
        .unwrap();
    let store = S3PolicyStore::new(client.clone(), "policy", "/vodpipe/policy/");
    Setup {
        _moto: moto,
        runtime,
        client,
        store,
    }
}

/// The built-in bundle with another active preset: another content hash.
fn mobile_first() -> MemoryFiles {
    let mut files = vodpipe_plugin_artifacts::builtin_files();
    let manifest = String::from_utf8(files.files["bundle.toml"].clone()).unwrap();
    let changed = manifest
        .replace("preset = \"default\"", "preset = \"mobile-first\"")
        .replace("name = \"builtin\"", "name = \"mobile\"");
    assert_ne!(manifest, changed);
    files.files.insert("bundle.toml".into(), changed.into_bytes());
    files
}

#[test]
fn publish_activate_rollback_and_list() {
    let s = setup();
    let rt = &s.runtime;
    assert_eq!(rt.block_on(s.store.poll(None)).unwrap(), Poll::NothingActive);
    let err = rt.block_on(s.store.rollback()).unwrap_err();
    assert!(matches!(err, PolicyStoreError::NoHistory(_)), "{err}");

    let builtin = rt
        .block_on(s.store.publish(&vodpipe_plugin_artifacts::builtin_files()))
        .unwrap();
    assert_eq!(builtin.len(), 64);
    let again = rt
        .block_on(s.store.publish(&vodpipe_plugin_artifacts::builtin_files()))
        .unwrap();
    assert_eq!(again, builtin, "publishing is idempotent");
    let keys: Vec<String> = rt
        .block_on(
            s.client
                .list_objects_v2()
                .bucket("policy")
                .prefix("vodpipe/policy/")
                .send(),
        )
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert!(
        keys.contains(&format!("vodpipe/policy/bundles/{builtin}/bundle.toml")),
        "{keys:?}"
    );
    assert!(keys.contains(&format!("vodpipe/policy/bundles/{builtin}/ladders/mobile-first.toml")));
    assert_eq!(
        keys.iter().filter(|k| k.ends_with(".wasm")).count(),
        5,
        "the plugins the manifest names: three stages, two pinned planners"
    );
    assert!(
        keys.contains(&format!("vodpipe/policy/bundles/{builtin}/pricing/aws.toml")),
        "the cost model the manifest names: {keys:?}"
    );
    let downloaded = rt.block_on(s.store.download(&builtin)).unwrap();
    assert_eq!(
        downloaded.cost_model_file.as_deref(),
        Some("pricing/aws.toml"),
        "the downloaded bundle has its cost model"
    );
    assert!(downloaded.cost_model.is_some());

    let first = rt.block_on(s.store.activate(&builtin)).unwrap();
    assert_eq!((first.name.as_str(), first.history.len()), ("builtin", 0));
    let Poll::Changed { pointer, etag } = rt.block_on(s.store.poll(None)).unwrap() else {
        panic!("the pointer is there")
    };
    assert_eq!(pointer, first);
    assert_eq!(rt.block_on(s.store.poll(Some(&etag))).unwrap(), Poll::Unchanged);

    let mobile = rt.block_on(s.store.publish(&mobile_first())).unwrap();
    assert_ne!(mobile, builtin);
    let second = rt.block_on(s.store.activate(&mobile)).unwrap();
    assert_eq!(second.history, std::slice::from_ref(&builtin));
    assert!(matches!(
        rt.block_on(s.store.poll(Some(&etag))).unwrap(),
        Poll::Changed { .. }
    ));

    let listed = rt.block_on(s.store.list()).unwrap();
    assert_eq!(listed.len(), 2);
    let active: Vec<_> = listed.iter().filter(|b| b.active).map(|b| b.name.as_str()).collect();
    assert_eq!(active, ["mobile"]);

    let back = rt.block_on(s.store.rollback()).unwrap();
    assert_eq!((back.bundle.as_str(), back.history.len()), (builtin.as_str(), 0));
    let err = rt.block_on(s.store.rollback()).unwrap_err();
    assert!(matches!(err, PolicyStoreError::NoHistory(_)), "{err}");

    let err = rt.block_on(s.store.activate(&"0".repeat(64))).unwrap_err();
    assert!(matches!(err, PolicyStoreError::UnknownBundle(_)), "{err}");
    assert_eq!(
        rt.block_on(s.store.active()).unwrap().unwrap().0.bundle,
        builtin,
        "a refused activation changes nothing"
    );
}

#[test]
fn an_activation_based_on_a_stale_pointer_is_refused() {
    let s = setup();
    let rt = &s.runtime;
    let builtin = rt
        .block_on(s.store.publish(&vodpipe_plugin_artifacts::builtin_files()))
        .unwrap();
    let mobile = rt.block_on(s.store.publish(&mobile_first())).unwrap();
    rt.block_on(s.store.activate(&builtin)).unwrap();
    let (_, stale_etag) = rt.block_on(s.store.active()).unwrap().unwrap();
    rt.block_on(s.store.activate(&mobile)).unwrap();
    // A second writer that read the pointer before the activation above: its write must not
    // land (it would drop `mobile` from the history).
    let put = rt.block_on(
        s.client
            .put_object()
            .bucket("policy")
            .key("vodpipe/policy/active.json")
            .if_match(stale_etag)
            .body(ByteStream::from_static(b"{}"))
            .send(),
    );
    assert_eq!(put.unwrap_err().raw_response().unwrap().status().as_u16(), 412);
    // Nor a first activation (`If-None-Match: *`) racing one that already landed.
    let put = rt.block_on(
        s.client
            .put_object()
            .bucket("policy")
            .key("vodpipe/policy/active.json")
            .if_none_match("*")
            .body(ByteStream::from_static(b"{}"))
            .send(),
    );
    assert_eq!(put.unwrap_err().raw_response().unwrap().status().as_u16(), 412);
    let (pointer, _) = rt.block_on(s.store.active()).unwrap().unwrap();
    assert_eq!((pointer.bundle, pointer.history), (mobile, vec![builtin]));
}

#[test]
fn tampered_and_broken_bundles_are_refused() {
    let s = setup();
    let rt = &s.runtime;
    let hash = rt
        .block_on(s.store.publish(&vodpipe_plugin_artifacts::builtin_files()))
        .unwrap();

    // A preset changed in place after publishing: the download no longer hashes to its name.
    let key = format!("vodpipe/policy/bundles/{hash}/ladders/default.toml");
    let text =
        String::from_utf8(vodpipe_plugin_artifacts::builtin_files().files["ladders/default.toml"].clone()).unwrap();
    rt.block_on(
        s.client
            .put_object()
            .bucket("policy")
            .key(&key)
            .body(ByteStream::from(
                text.replace("video_kbps = 5000", "video_kbps = 5001").into_bytes(),
            ))
            .send(),
    )
    .unwrap();
    let err = rt.block_on(s.store.download(&hash)).unwrap_err();
    assert!(err.to_string().contains("changed after publishing"), "{err}");
    let err = rt.block_on(s.store.activate(&hash)).unwrap_err();
    assert!(err.to_string().contains("changed after publishing"), "{err}");
    assert_eq!(rt.block_on(s.store.poll(None)).unwrap(), Poll::NothingActive);

    // A bundle whose manifest pins another plugin hash is not published at all.
    let mut broken = vodpipe_plugin_artifacts::builtin_files();
    let manifest = String::from_utf8(broken.files["bundle.toml"].clone()).unwrap();
    let pinned = manifest.split("sha256 = \"").nth(1).unwrap()[..64].to_owned();
    broken.files.insert(
        "bundle.toml".into(),
        manifest.replace(&pinned, &"a".repeat(64)).into_bytes(),
    );
    let err = rt.block_on(s.store.publish(&broken)).unwrap_err();
    assert!(matches!(err, PolicyStoreError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("bundle.toml"), "names the file: {err}");
}
