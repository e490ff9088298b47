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
/// descriptors 3 (reference) and 4 (distorted), on one picture in `subsample` of what it
/// reads (VIF and ADM; motion on every one), writing JSON to `output`.
pub fn arguments(width: u32, height: u32, subsample: u32, output: &Path) -> Vec<String> {
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
        "--subsample",
        &subsample.to_string(),
        // Two: the largest rendition's scorer is the slowest, and the others wait on it.
        "--threads",
        "2",
        "--json",
        "--output",
        &output.display().to_string(),
        "--quiet",
    ]
    .map(String::from)
    .to_vec()
}

/// What one `vmaf` run scored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// Pooled mean VMAF.
    pub vmaf: f64,
    /// Pictures scored (one in the subsampling).
    pub pictures: u64,
}

/// The mean VMAF over the pictures scored, and their count, from the tool's JSON report.
///
/// The mean is taken here from the per-picture scores: with `--subsample N`, libvmaf 2.3.1's
/// own `pooled_metrics` averages the picture numbers 0 to (pictures scored - 1) (output.c
/// passes a count of scored pictures as the last index), which is only the first 1/N of the
/// clip, and scores nothing of the rest.
pub fn scores(report: &Value) -> Result<Scored, String> {
    let frames = report
        .get("frames")
        .and_then(Value::as_array)
        .ok_or("the vmaf report has no frames")?;
    let mut sum = 0.0;
    for frame in frames {
        sum += frame.pointer("/metrics/vmaf").and_then(Value::as_f64).ok_or_else(|| {
            let number = frame.get("frameNum").map_or("?".to_owned(), Value::to_string);
            format!("the vmaf report's picture {number} has no vmaf score")
        })?;
    }
    if frames.is_empty() {
        return Err("the vmaf report scored no pictures".into());
    }
    Ok(Scored {
        vmaf: sum / frames.len() as f64,
        pictures: frames.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_is_taken_over_every_picture_scored() {
        // As libvmaf writes it with --subsample 2: its pooled mean covers pictures 0 and 1
        // (only picture 0 is scored among them), not the whole clip.
        let report = serde_json::json!({
            "version": "2.3.1",
            "frames": [
                {"frameNum": 0, "metrics": {"vmaf": 90.0}},
                {"frameNum": 2, "metrics": {"vmaf": 60.0}}
            ],
            "pooled_metrics": {"vmaf": {"min": 90.0, "max": 90.0, "mean": 90.0, "harmonic_mean": 90.0}}
        });
        let scored = scores(&report).unwrap();
        assert_eq!((scored.vmaf, scored.pictures), (75.0, 2));
        let error = scores(&serde_json::json!({})).unwrap_err();
        assert!(error.contains("has no frames"), "{error}");
        let error = scores(&serde_json::json!({"frames": []})).unwrap_err();
        assert!(error.contains("scored no pictures"), "{error}");
        let error = scores(&serde_json::json!({"frames": [{"frameNum": 4, "metrics": {}}]})).unwrap_err();
        assert!(error.contains("picture 4 has no vmaf score"), "{error}");
    }

    #[test]
    fn a_vmaf_setting_that_does_not_run_says_so() {
        let error = runs(Path::new("/nonexistent/vmaf")).unwrap_err();
        assert!(error.contains("No such file"), "{error}");
    }
}
