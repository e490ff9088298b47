//! Media made by ffmpeg at test time, from its own sources (`testsrc2`, `sine`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs ffmpeg with `args`, writing `out`; panics with ffmpeg's message if it fails.
pub fn ffmpeg(args: &[&str], out: &Path) {
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .arg(out)
        .output()
        .expect("ffmpeg on PATH (scripts/setup.sh installs it)");
    assert!(
        output.status.success(),
        "ffmpeg {args:?} {}: {}",
        out.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The moving test pattern at a size, rate and length (`rate` as ffmpeg takes it, e.g.
/// `24000/1001`).
pub fn pattern(size: &str, rate: &str, seconds: &str) -> String {
    format!("testsrc2=size={size}:rate={rate}:duration={seconds}")
}

/// A tone of `seconds` in a channel layout (`stereo`, `5.1`, …).
pub fn tone(frequency: u32, layout: &str, seconds: &str) -> String {
    format!("sine=frequency={frequency}:duration={seconds},aformat=channel_layouts={layout}")
}

/// H.264 as fast as x264 makes it, 8-bit 4:2:0.
pub const H264: [&str; 6] = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];

/// The test pattern with a 440 Hz stereo tone, H.264 and AAC in MP4, at `dir/name`.
pub fn clip(dir: &Path, name: &str, size: &str, rate: &str, seconds: &str) -> PathBuf {
    let path = dir.join(name);
    let (video, audio) = (pattern(size, rate, seconds), tone(440, "stereo", seconds));
    let mut args = vec!["-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &audio];
    args.extend(H264);
    args.extend(["-c:a", "aac"]);
    ffmpeg(&args, &path);
    path
}
