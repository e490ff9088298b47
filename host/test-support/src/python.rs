//! Python tools the tests run (moto, openapi-spec-validator), pinned, each in its own venv.

use std::path::PathBuf;
use std::process::Command;

/// The venv `name` with `pins` installed, made once per target directory (a file lock
/// serialises concurrent test binaries): `<target>/tmp/<name>`, cargo's
/// `CARGO_TARGET_TMPDIR`, found from the running test binary (`<target>/<profile>/deps/<test>`).
pub fn venv(name: &str, pins: &[&str]) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("a test binary lives in <target>/<profile>/deps");
    let root = target.join("tmp").join(name);
    std::fs::create_dir_all(&root).unwrap();
    let lock = std::fs::File::create(root.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    let marker = root.join(".installed");
    let wanted = pins.join(" ");
    if std::fs::read_to_string(&marker).ok() != Some(wanted.clone()) {
        let status = Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&root)
            .status()
            .unwrap();
        assert!(status.success(), "python3 -m venv failed");
        let status = Command::new(root.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(pins)
            .status()
            .unwrap();
        assert!(status.success(), "pip install {wanted} failed");
        std::fs::write(&marker, &wanted).unwrap();
    }
    root
}

/// Schemathesis, to hold a live server to its own document.
pub const SCHEMATHESIS: &[&str] = &["schemathesis==4.32.5"];

/// Runs Schemathesis with every check against the API whose document is at `document_url`,
/// signed in with `token`, from a fixed seed; `Err` has its report's last lines.
pub fn schemathesis(document_url: &str, token: &str) -> Result<(), String> {
    let root = venv("schemathesis-venv", SCHEMATHESIS);
    // It keeps a Hypothesis database and reports in its working directory.
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(root.join("bin/schemathesis"))
        .current_dir(dir.path())
        .args(["run", document_url, "--checks", "all", "--seed", "1", "--header"])
        .arg(format!("Authorization: Bearer {token}"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run schemathesis");
    if output.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().collect();
    Err(format!(
        "{}\n{}",
        lines[lines.len().saturating_sub(80)..].join("\n"),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// openapi-spec-validator, to check the API's own document.
pub const OPENAPI_SPEC_VALIDATOR: &[&str] = &["openapi-spec-validator==0.9.0"];

/// Checks an OpenAPI document with openapi-spec-validator; `Err` has its report.
pub fn validate_openapi(document: &serde_json::Value) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, document.to_string()).unwrap();
    let root = venv("openapi-venv", OPENAPI_SPEC_VALIDATOR);
    let output = Command::new(root.join("bin/openapi-spec-validator"))
        .args(["--subschema-errors", "all"])
        .arg(&path)
        .output()
        .expect("run openapi-spec-validator");
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
