//! Running the `vodpipe` binary from the CLI's tests.
#![allow(dead_code)] // each test crate uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Where the tests' `vodpipe` runs keep compiled plugins, shared across runs.
pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

pub fn vodpipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vodpipe"))
        .args(args)
        .env("VODPIPE_CACHE_DIR", cache_dir())
        .output()
        .expect("run vodpipe")
}

/// `vodpipe ARGS`' standard output; fails the test with both outputs if it failed.
pub fn ok(args: &[&str]) -> String {
    let out = vodpipe(args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "vodpipe {args:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout.into_owned()
}

/// `vodpipe ARGS`' standard output read as JSON.
pub fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap_or_else(|e| panic!("vodpipe {args:?} printed no JSON: {e}"))
}
