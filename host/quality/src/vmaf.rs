//! libvmaf's `vmaf` command-line tool: where it is, how it is run, what it answers.
//!
//! Debian's ffmpeg is built without libvmaf, so VMAF comes from the tool itself, built from
//! libvmaf's own source by `scripts/setup.sh` (`ensure_vmaf`). Where it cannot be found,
//! VMAF is `null` in every report, with the reason, never an invented figure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The model every rendition is scored with: libvmaf's default, built into the tool.
pub const MODEL: &str = "vmaf_v0.6.1";

/// Where the `vmaf` tool is: `VODPIPE_VMAF`, else `vmaf` on the `PATH`, else the newest one
/// the set-up built in vodpipe's cache. `Err` says why VMAF cannot be measured.
pub fn find() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("VODPIPE_VMAF").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return runs(&path)
            .map(|()| path.clone())
            .map_err(|e| format!("VODPIPE_VMAF={}: {e}", path.display()));
    }
    if runs(Path::new("vmaf")).is_ok() {
        return Ok("vmaf".into());
    }
    let mut built: Vec<PathBuf> = cache_dir()
        .and_then(|dir| std::fs::read_dir(dir).ok())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("vmaf-"))
        .map(|e| e.path().join("bin/vmaf"))
        .filter(|p| runs(p).is_ok())
        .collect();
    built.sort();
    built.pop().ok_or_else(|| {
        "libvmaf's vmaf tool was not found (set VODPIPE_VMAF, or run ./scripts/run once to build it)".to_owned()
    })
}

fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("vodpipe"))
}

fn runs(path: &Path) -> Result<(), String> {
    match Command::new(path)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("`{} --version` ended with {status}", path.display())),
        Err(e) => Err(e.to_string()),
    }
}

/// The arguments that score raw 8-bit 4:2:0 pictures of `width`x`height` read from file
/// descriptors 3 (reference) and 4 (distorted), writing JSON to `output`.
pub fn arguments(width: u32, height: u32, output: &Path) -> Vec<String> {
    [
        "--reference",
        "/dev/fd/3",
        "--distorted",
        "/dev/fd/4",
        "--width",
        &width.to_string(),
        "--height",
        &height.to_string(),
        "--pixel_format",
        "420",
        "--bitdepth",
        "8",
        "--model",
        &format!("version={MODEL}"),
        "--threads",
        "1",
        "--json",
        "--output",
        &output.display().to_string(),
        "--quiet",
    ]
    .map(String::from)
    .to_vec()
}

/// The pooled mean VMAF and the number of frames scored, from the tool's JSON report.
pub fn mean(report: &Value) -> Result<(f64, u64), String> {
    let mean = report
        .pointer("/pooled_metrics/vmaf/mean")
        .and_then(Value::as_f64)
        .ok_or("the vmaf report has no pooled_metrics.vmaf.mean")?;
    let frames = report.get("frames").and_then(Value::as_array).map_or(0, Vec::len) as u64;
    Ok((mean, frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pooled_mean_is_read_from_the_report() {
        let report = serde_json::json!({
            "version": "3.0.0",
            "frames": [{"frameNum": 0, "metrics": {"vmaf": 90.0}}, {"frameNum": 1, "metrics": {"vmaf": 92.0}}],
            "pooled_metrics": {"vmaf": {"min": 90.0, "max": 92.0, "mean": 91.0, "harmonic_mean": 90.99}}
        });
        assert_eq!(mean(&report).unwrap(), (91.0, 2));
        assert!(
            mean(&serde_json::json!({}))
                .unwrap_err()
                .contains("pooled_metrics.vmaf.mean")
        );
    }

    #[test]
    fn a_vmaf_setting_that_does_not_run_says_so() {
        let error = runs(Path::new("/nonexistent/vmaf")).unwrap_err();
        assert!(error.contains("No such file"), "{error}");
    }
}
