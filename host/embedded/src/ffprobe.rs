//! The prober port over ffprobe's JSON output.

use std::path::Path;

use serde_json::Value;
use vodpipe_core::Probe;
use vodpipe_core::ports::{PortError, Prober};

/// Runs `ffprobe` (from PATH, or the given binary).
pub struct FfprobeProber {
    pub binary: String,
}

impl Default for FfprobeProber {
    fn default() -> Self {
        Self {
            binary: "ffprobe".into(),
        }
    }
}

impl Prober for FfprobeProber {
    fn probe(&self, source: &Path) -> Result<Probe, PortError> {
        if let Ok(false) = source.try_exists() {
            return Err(PortError::NotFound(format!("{} does not exist", source.display())));
        }
        let output = crate::child::command(&self.binary)
            .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
            .arg(source)
            .output()
            .map_err(|e| PortError::Unavailable(format!("cannot run `{}`: {e}", self.binary)))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let why = stderr.lines().last().unwrap_or("").trim();
            let why = why.rsplit(": ").next().unwrap_or(why);
            // A file that is not a video is refused, and its upload deleted: only a verdict on
            // the file's content may say so. ffprobe killed, or stopped by the machine (no
            // memory, no file handles, a failing disk), says nothing about the file: try again.
            if output.status.code().is_none() {
                return Err(PortError::Unavailable(format!(
                    "`{}` was stopped by a signal ({})",
                    self.binary, output.status
                )));
            }
            if let Some(error) = crate::child::machine_error(&stderr) {
                return Err(PortError::Unavailable(format!(
                    "`{}` could not read the file: {error}",
                    self.binary
                )));
            }
            return Err(PortError::Rejected(format!(
                "the file could not be read as a video ({why})"
            )));
        }
        let json: Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| PortError::Unavailable(format!("ffprobe printed something that is not JSON: {e}")))?;
        parse(&json)
    }
}

/// Reads ffprobe's `-show_format -show_streams` JSON.
pub fn parse(json: &Value) -> Result<Probe, PortError> {
    let streams = json["streams"].as_array().map(Vec::as_slice).unwrap_or_default();
    let has_audio = streams.iter().any(|s| s["codec_type"] == "audio");
    let format = &json["format"];
    // An album cover or a poster frame is a "video" stream marked as an attached picture.
    let video = streams
        .iter()
        .find(|s| s["codec_type"] == "video" && s["disposition"]["attached_pic"] != 1)
        .ok_or_else(|| {
            let cover = streams.iter().any(|s| s["disposition"]["attached_pic"] == 1);
            PortError::Rejected(match (has_audio, cover) {
                (true, true) => "the file has no video stream (it holds only audio and a cover picture)".into(),
                (true, false) => "the file has no video stream (it holds only audio)".into(),
                (false, _) => "the file has no video stream".into(),
            })
        })?;
    if let Some(image) = still_image(format) {
        return Err(PortError::Rejected(format!(
            "the file is not a video: it is a still image ({image})"
        )));
    }
    let (coded_width, coded_height) = (
        video["width"].as_u64().unwrap_or(0) as u32,
        video["height"].as_u64().unwrap_or(0) as u32,
    );
    if coded_width == 0 || coded_height == 0 {
        return Err(PortError::Rejected("the video stream has no picture size".into()));
    }
    let (width, height) = square_pixels(coded_width, coded_height, video["sample_aspect_ratio"].as_str());
    let duration = number(&format["duration"])
        .or_else(|| number(&video["duration"]))
        .unwrap_or(0.0);
    Ok(Probe {
        width,
        height,
        rotation: rotation(video),
        duration_ms: (duration * 1000.0).round() as u64,
        frame_rate: video["avg_frame_rate"]
            .as_str()
            .and_then(ratio)
            .or_else(|| video["r_frame_rate"].as_str().and_then(ratio))
            .unwrap_or(0.0),
        video_bitrate: number(&video["bit_rate"]).map(|b| b as u64),
        total_bitrate: number(&format["bit_rate"]).map(|b| b as u64),
        has_audio,
        container: format["format_name"].as_str().unwrap_or_default().to_owned(),
        video_codec: video["codec_name"].as_str().unwrap_or_default().to_owned(),
        analysis: Default::default(),
    })
}

/// The image format of a file that holds one picture, not a video: ffprobe reads JPEG, PNG,
/// WebP and the like through its image demuxers (`jpeg_pipe`, `png_pipe`, `image2`, …),
/// whatever the file is called.
fn still_image(format: &Value) -> Option<&str> {
    let name = format["format_name"].as_str()?;
    if name == "image2" {
        return Some("image");
    }
    name.strip_suffix("_pipe")
}

/// The picture size in square pixels. Anamorphic sources store pixels that are displayed
/// wider or narrower than tall, for example PAL widescreen: 720x576 with a sample aspect
/// ratio of 64:45 is shown as 1024x576. The width is stretched (or squeezed) to the display
/// aspect ratio, to the nearest even pixel; an unknown or 1:1 ratio keeps the coded size.
fn square_pixels(width: u32, height: u32, sample_aspect_ratio: Option<&str>) -> (u32, u32) {
    let ratio = sample_aspect_ratio
        .and_then(|r| r.split_once(':'))
        .and_then(|(n, d)| Some((n.parse::<u64>().ok()?, d.parse::<u64>().ok()?)))
        .filter(|&(n, d)| n > 0 && d > 0 && n != d);
    match ratio {
        Some((n, d)) => {
            let stretched = (u64::from(width) * n) as f64 / d as f64;
            let even = ((stretched / 2.0).round() as u64 * 2).clamp(2, u64::from(u32::MAX));
            (even as u32, height)
        }
        None => (width, height),
    }
}

/// Clockwise display rotation. ffprobe reports the display matrix counter-clockwise
/// (`side_data_list[].rotation`, e.g. -90) and older files carry a `rotate` tag (e.g. "90").
fn rotation(video: &Value) -> u32 {
    let from_matrix = video["side_data_list"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|d| d["rotation"].as_f64())
        .map(|ccw| -ccw);
    let from_tag = video["tags"]["rotate"].as_str().and_then(|r| r.parse::<f64>().ok());
    // Only quarter turns change the display size; snap anything else to the nearest one.
    let quarter_turns = (from_matrix.or(from_tag).unwrap_or(0.0) / 90.0).round() as i64;
    (quarter_turns.rem_euclid(4) * 90) as u32
}

/// ffprobe prints most numbers as strings.
fn number(value: &Value) -> Option<f64> {
    value
        .as_f64()
        .or_else(|| value.as_str()?.parse().ok())
        .filter(|n: &f64| n.is_finite())
}

fn ratio(text: &str) -> Option<f64> {
    let (n, d) = text.split_once('/')?;
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (d > 0.0 && n > 0.0).then(|| n / d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn phone_video_rotation_comes_from_the_display_matrix() {
        let probe = parse(&json!({
            "streams": [{"codec_type": "video", "width": 1280, "height": 720, "avg_frame_rate": "30000/1001",
                         "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]},
                        {"codec_type": "audio"}],
            "format": {"duration": "12.5", "bit_rate": "2000000", "format_name": "mov,mp4"}
        }))
        .unwrap();
        assert_eq!((probe.rotation, probe.display_size()), (90, (720, 1280)));
        assert_eq!(probe.duration_ms, 12_500);
        assert!((probe.frame_rate - 29.97).abs() < 0.01 && probe.has_audio);
    }

    #[test]
    fn a_failure_of_the_machine_is_not_a_verdict_on_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = FfprobeProber::default().probe(&dir.path().join("gone.mp4"));
        assert!(
            matches!(&missing, Err(PortError::NotFound(why)) if why.contains("gone.mp4")),
            "{missing:?}"
        );

        // An ffprobe killed mid-run (by the OOM killer, say).
        let killed = dir.path().join("ffprobe");
        std::fs::write(&killed, "#!/bin/sh\nkill -KILL $$\n").unwrap();
        std::fs::set_permissions(&killed, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let noise = dir.path().join("noise.mp4");
        std::fs::write(&noise, [0u8; 64]).unwrap();
        let prober = FfprobeProber {
            binary: killed.display().to_string(),
        };
        let result = prober.probe(&noise);
        assert!(
            matches!(&result, Err(PortError::Unavailable(why)) if why.contains("signal")),
            "{result:?}"
        );

        // The same bytes read by a working ffprobe: a verdict on the file.
        let verdict = FfprobeProber::default().probe(&noise);
        assert!(matches!(verdict, Err(PortError::Rejected(_))), "{verdict:?}");
    }

    #[test]
    fn audio_only_file_is_not_a_video() {
        let err = parse(&json!({"streams": [{"codec_type": "audio"}], "format": {}})).unwrap_err();
        assert_eq!(err.to_string(), "the file has no video stream (it holds only audio)");
        let err = parse(&json!({"streams": [], "format": {}})).unwrap_err();
        assert_eq!(err.to_string(), "the file has no video stream");
    }

    #[test]
    fn a_cover_picture_is_not_a_video_stream() {
        let err = parse(&json!({
            "streams": [{"codec_type": "audio", "codec_name": "mp3"},
                        {"codec_type": "video", "codec_name": "png", "width": 300, "height": 300,
                         "disposition": {"attached_pic": 1}}],
            "format": {"format_name": "mp3", "duration": "2.0"}
        }))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file has no video stream (it holds only audio and a cover picture)"
        );
    }

    #[test]
    fn a_still_image_is_not_a_video_whatever_its_name() {
        let image = |format_name: &str| {
            parse(&json!({
                "streams": [{"codec_type": "video", "codec_name": "mjpeg", "width": 640, "height": 480}],
                "format": {"format_name": format_name}
            }))
        };
        assert_eq!(
            image("jpeg_pipe").unwrap_err().to_string(),
            "the file is not a video: it is a still image (jpeg)"
        );
        assert!(image("image2").unwrap_err().to_string().contains("still image"));
        assert!(
            image("mov,mp4,m4a,3gp,3g2,mj2").is_ok(),
            "a motion JPEG movie is a video"
        );
    }

    #[test]
    fn anamorphic_pixels_are_made_square_for_planning() {
        let probe = |sar: &str| {
            parse(&json!({
                "streams": [{"codec_type": "video", "width": 720, "height": 576, "sample_aspect_ratio": sar}],
                "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2"}
            }))
            .unwrap()
        };
        // PAL widescreen and PAL 4:3.
        assert_eq!(probe("64:45").display_size(), (1024, 576));
        assert_eq!(probe("16:15").display_size(), (768, 576));
        // Square or unknown (ffprobe prints 0:1) keep the coded size.
        assert_eq!(probe("1:1").display_size(), (720, 576));
        assert_eq!(probe("0:1").display_size(), (720, 576));
        assert_eq!(square_pixels(1279, 719, None), (1279, 719));
    }
}
