//! The S3 object store against moto's S3: owner metadata, header-only probing with ranged
//! GETs, deleting sources and media.

use aws_sdk_s3::primitives::ByteStream;
use vodpipe_aws::{Blocking, S3Store};
use vodpipe_core::ports::{ObjectStore, PortError};
use vodpipe_test_support::moto::{Moto, sample_mp4};

struct Setup {
    _moto: Moto,
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_s3::Client,
    store: S3Store,
}

fn setup() -> Setup {
    let moto = Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = runtime.block_on(moto.config());
    let client = vodpipe_test_support::moto::s3_client(&config);
    runtime.block_on(async {
        for bucket in ["uploads", "media"] {
            client.create_bucket().bucket(bucket).send().await.unwrap();
        }
    });
    let store = S3Store::new(
        client.clone(),
        "uploads",
        "media",
        Blocking::new(runtime.handle().clone()),
    );
    Setup {
        _moto: moto,
        runtime,
        client,
        store,
    }
}

impl Setup {
    fn put(&self, bucket: &str, key: &str, body: Vec<u8>, owner: Option<&str>) {
        self.runtime.block_on(async {
            let mut put = self
                .client
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(ByteStream::from(body));
            if let Some(owner) = owner {
                put = put.metadata("user-id", owner);
            }
            put.send().await.unwrap();
        });
    }

    fn keys(&self, bucket: &str) -> Vec<String> {
        self.runtime.block_on(async {
            let listed = self.client.list_objects_v2().bucket(bucket).send().await.unwrap();
            listed
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect()
        })
    }
}

#[test]
fn uploads_carry_their_owner_and_are_probed_from_their_header() {
    let setup = setup();
    let clip = sample_mp4();
    setup.put("uploads", "v1", clip.clone(), Some("alice"));
    setup.put("uploads", "anonymous", b"x".to_vec(), None);

    let meta = setup.store.head("v1").unwrap().unwrap();
    assert_eq!((meta.size, meta.user_id.as_deref()), (clip.len() as u64, Some("alice")));
    assert_eq!(setup.store.head("anonymous").unwrap().unwrap().user_id, None);
    assert_eq!(setup.store.head("missing").unwrap(), None);
    assert_eq!(setup.store.source_uri("v1"), "s3://uploads/v1");
    assert_eq!(setup.store.output_prefix("v1"), "s3://media/v1/");

    let probe = setup.store.probe("v1").unwrap();
    assert_eq!((probe.width, probe.height, probe.rotation), (1280, 720, 0));
    assert!(probe.has_audio);
    assert_eq!(probe.video_codec, "h264");
    assert!((1900..=2100).contains(&probe.duration_ms), "{probe:?}");
    match setup.store.probe("anonymous") {
        Err(PortError::Rejected(why)) => assert!(!why.is_empty()),
        other => panic!("{other:?}"),
    }
    // Gone (its video deleted meanwhile): no verdict on a video, nothing to retry.
    assert!(matches!(setup.store.probe("missing"), Err(PortError::NotFound(_))));

    setup.store.delete_source("v1").unwrap();
    assert_eq!(setup.store.head("v1").unwrap(), None);
    setup.store.delete_source("v1").unwrap();
}

#[test]
fn deleting_media_removes_one_videos_prefix_only() {
    let setup = setup();
    for i in 0..25 {
        setup.put("media", &format!("v1/segment_{i:03}.ts"), vec![0x47; 188], None);
    }
    setup.put("media", "v1/index.m3u8", b"#EXTM3U\n".to_vec(), None);
    setup.put("media", "v10/index.m3u8", b"#EXTM3U\n".to_vec(), None);
    setup.put("media", "v2/index.m3u8", b"#EXTM3U\n".to_vec(), None);
    setup.store.delete_media("v1").unwrap();
    assert_eq!(setup.keys("media"), ["v10/index.m3u8", "v2/index.m3u8"]);
    setup.store.delete_media("nothing-here").unwrap();
}

/// A bucket of the deployment that is gone is `Unavailable`: retried until an operator
/// restores it, never a verdict on a video.
#[test]
fn a_missing_bucket_is_unavailable() {
    let setup = setup();
    let no_media_bucket = S3Store::new(
        setup.client.clone(),
        "uploads",
        "no-such-bucket",
        Blocking::new(setup.runtime.handle().clone()),
    );
    let gone = no_media_bucket.delete_media("v1");
    assert!(
        matches!(&gone, Err(PortError::Unavailable(why)) if why.contains("NoSuchBucket")),
        "{gone:?}"
    );
}
