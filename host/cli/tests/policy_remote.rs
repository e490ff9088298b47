//! `vodpipe policy publish|activate|rollback|list` against moto's S3, as a platform engineer
//! or product team runs them: edit a preset, publish, activate, roll back.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vodpipe_test_support::moto::Moto;

struct Bucket {
    moto: Moto,
}

impl Bucket {
    fn new() -> Self {
        let moto = Moto::start();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let config = moto.config().await;
            let s3 = vodpipe_test_support::moto::s3_client(&config);
            s3.create_bucket().bucket("policy").send().await.unwrap();
        });
        Self { moto }
    }

    fn vodpipe(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_vodpipe"))
            .args(args)
            .env("AWS_ENDPOINT_URL", &self.moto.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("VODPIPE_POLICY_BUCKET", "policy")
            .env("VODPIPE_CACHE_DIR", "")
            .output()
            .unwrap()
    }

    fn put(&self, key: &str, body: Vec<u8>) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let s3 = vodpipe_test_support::moto::s3_client(&self.moto.config().await);
            let body = aws_sdk_s3::primitives::ByteStream::from(body);
            s3.put_object()
                .bucket("policy")
                .key(key)
                .body(body)
                .send()
                .await
                .unwrap();
        });
    }

    fn get(&self, key: &str) -> Vec<u8> {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let s3 = vodpipe_test_support::moto::s3_client(&self.moto.config().await);
            let object = s3.get_object().bucket("policy").key(key).send().await.unwrap();
            object.body.collect().await.unwrap().into_bytes().to_vec()
        })
    }

    /// The keys under `prefix` in the policy bucket.
    fn keys(&self, prefix: &str) -> Vec<String> {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let s3 = vodpipe_test_support::moto::s3_client(&self.moto.config().await);
            let listed = s3
                .list_objects_v2()
                .bucket("policy")
                .prefix(prefix)
                .send()
                .await
                .unwrap();
            listed
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect()
        })
    }

    /// The built-in bundle written under `dir` by `vodpipe policy init`, with the default
    /// preset's 720p `video_kbps = 3000` replaced by `replacement`.
    fn edited_bundle(&self, dir: &Path, replacement: &str) -> PathBuf {
        let bundle = dir.join("bundle");
        self.ok(&["policy", "init", bundle.to_str().unwrap()]);
        edit(&bundle.join("ladders/default.toml"), "video_kbps = 3000", replacement);
        bundle
    }

    /// Runs `vodpipe args`, expecting success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.vodpipe(args);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "vodpipe {args:?} failed:\n{stdout}\n{stderr}");
        stdout
    }
}

/// The 64-hex hash `publish` printed.
fn published_hash(stdout: &str) -> String {
    let line = stdout.lines().find(|l| l.starts_with("published ")).unwrap();
    line.split_whitespace().nth(1).unwrap().to_owned()
}

fn active_line(list: &str) -> &str {
    list.lines().find(|l| l.starts_with('*')).unwrap_or_default()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_preset_is_published_activated_and_rolled_back() {
    let bucket = Bucket::new();
    assert!(bucket.ok(&["policy", "list"]).contains("no bundle published"));

    let out = bucket.ok(&["policy", "publish", "--activate"]);
    let builtin = published_hash(&out);
    assert!(out.contains("active: builtin"), "{out}");
    // Its plugins (three stages, two pinned planners) compiled for the Lambda functions,
    // beside it (a cold function loads them: host/lambda/tests/policy.rs).
    assert!(
        out.contains("precompiled plugins for x86_64-unknown-linux-gnu: 5 uploaded, 0 already there"),
        "{out}"
    );
    let artifacts = bucket.keys("policy/precompiled/");
    assert_eq!(artifacts.len(), 5);
    assert!(active_line(&bucket.ok(&["policy", "list"])).contains(&builtin));
    // Something else written under an artifact's name (cut short, or planted) does not stay:
    // the next publish with that plugin puts its own compile back.
    bucket.put(&artifacts[0], b"not an artifact".to_vec());

    // A product team edits the preset, publishes it, then activates it by a hash prefix.
    let dir = tempfile::tempdir().unwrap();
    let bundle = bucket.edited_bundle(dir.path(), "video_kbps = 2800");
    let out = bucket.ok(&["policy", "publish", bundle.to_str().unwrap()]);
    let edited = published_hash(&out);
    assert_ne!(edited, builtin);
    assert!(
        out.contains("1 uploaded, 4 already there"),
        "a preset change reuses the plugins' artifacts, and the odd one is replaced: {out}"
    );
    assert_eq!(bucket.keys("policy/precompiled/").len(), 5);
    assert_ne!(bucket.get(&artifacts[0]), b"not an artifact");
    assert!(out.contains("activate it with"), "not active until asked: {out}");
    // What it changes against the active bundle, shown before it is published.
    assert!(out.contains("plan changes against the active bundle"), "{out}");
    assert!(out.contains("~ 720p     video_bitrate 3000 kb/s -> 2800 kb/s"), "{out}");

    // The same change, from the bucket's active bundle by hash to the edited directory.
    let diff = bucket.ok(&["policy", "diff", &builtin[..12], bundle.to_str().unwrap()]);
    assert!(
        diff.contains("~ 720p     video_bitrate 3000 kb/s -> 2800 kb/s"),
        "{diff}"
    );
    assert!(active_line(&bucket.ok(&["policy", "list"])).contains(&builtin));
    let out = bucket.ok(&["policy", "activate", &edited[..10]]);
    assert!(out.contains(&edited), "{out}");
    let list = bucket.ok(&["policy", "list"]);
    assert!(active_line(&list).contains(&edited), "{list}");
    assert_eq!(list.lines().count(), 2, "{list}");

    let out = bucket.ok(&["policy", "rollback"]);
    assert!(out.contains(&builtin), "{out}");
    assert!(active_line(&bucket.ok(&["policy", "list"])).contains(&builtin));
    let refused = bucket.vodpipe(&["policy", "rollback"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nothing to roll back to"));
}

#[test]
fn a_broken_bundle_is_not_published_and_nothing_changes() {
    let bucket = Bucket::new();
    let builtin = published_hash(&bucket.ok(&["policy", "publish", "--activate"]));
    let dir = tempfile::tempdir().unwrap();
    let bundle = bucket.edited_bundle(dir.path(), "video_kbps = \"fast\"");

    let out = bucket.vodpipe(&["policy", "publish", "--activate", bundle.to_str().unwrap()]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("default.toml") && stdout.contains("video_kbps"),
        "names the file and the field:\n{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not published"));
    let list = bucket.ok(&["policy", "list"]);
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(active_line(&list).contains(&builtin));

    let unknown = bucket.vodpipe(&["policy", "activate", "ffff"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no published bundle starts with `ffff`"));

    let no_bucket = Command::new(env!("CARGO_BIN_EXE_vodpipe"))
        .args(["policy", "list"])
        .env_remove("VODPIPE_POLICY_BUCKET")
        .output()
        .unwrap();
    assert!(!no_bucket.status.success());
    assert!(String::from_utf8_lossy(&no_bucket.stderr).contains("--bucket"));
}
