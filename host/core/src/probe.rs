use serde::{Deserialize, Serialize};

/// What a prober learned about an uploaded source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// Picture size in square pixels, before `rotation` is applied: the coded size, with the
    /// width stretched to the display aspect ratio when the pixels are not square
    /// (anamorphic sources, e.g. 720x576 at 64:45 is 1024x576).
    pub width: u32,
    pub height: u32,
    /// Display rotation, degrees clockwise: 0, 90, 180 or 270.
    pub rotation: u32,
    pub duration_ms: u64,
    /// Average frame rate; 0.0 when unknown.
    pub frame_rate: f64,
    pub video_bitrate: Option<u64>,
    pub total_bitrate: Option<u64>,
    pub has_audio: bool,
    pub container: String,
    pub video_codec: String,
    /// What the content analysis measured, when the preset asked for one.
    #[serde(default, skip_serializing_if = "Analysis::is_not_run")]
    pub analysis: Analysis,
}

/// The content analysis before planning: how many bits this source's pictures need at a
/// few constant qualities, measured on sampled windows encoded at a small size.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Analysis {
    /// Not asked for, or not done in this mode.
    #[default]
    NotRun,
    /// Asked for and failed: the planner plans without it.
    Failed {
        reason: String,
    },
    Measured(ContentAnalysis),
}

impl Analysis {
    pub fn is_not_run(&self) -> bool {
        matches!(self, Self::NotRun)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentAnalysis {
    pub frame_rate: f64,
    /// Length of the windows together.
    pub sampled_ms: u64,
    /// The windows encoded at one or two sizes, smallest first.
    pub samples: Vec<SizeSample>,
}

/// What the windows cost at one size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeSample {
    /// Display orientation (rotation applied).
    pub width: u32,
    pub height: u32,
    /// Average bitrate at each x264 CRF, lowest CRF first.
    pub points: Vec<RatePoint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatePoint {
    pub crf: f64,
    pub bitrate: u64,
}

impl Probe {
    /// A probe that knows only the picture size, for `vodpipe plan --width W --height H`.
    pub fn from_size(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            rotation: 0,
            duration_ms: 0,
            frame_rate: 0.0,
            video_bitrate: None,
            total_bitrate: None,
            has_audio: true,
            container: String::new(),
            video_codec: String::new(),
            analysis: Analysis::NotRun,
        }
    }

    /// Bits per pixel per frame of the video stream (of the whole file when the video's own
    /// bitrate is unknown); `None` when no bitrate, the size or the frame rate is known.
    pub fn bits_per_pixel(&self) -> Option<f64> {
        let pixels_per_second = f64::from(self.width) * f64::from(self.height) * self.frame_rate;
        let bitrate = self.video_bitrate.or(self.total_bitrate)? as f64;
        (pixels_per_second > 0.0).then(|| bitrate / pixels_per_second)
    }

    /// Size as the viewer sees it, rotation applied.
    pub fn display_size(&self) -> (u32, u32) {
        if self.rotation % 180 == 90 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_per_pixel_take_the_videos_bitrate_else_the_files() {
        let mut probe = Probe::from_size(1280, 720);
        probe.frame_rate = 25.0;
        assert_eq!(probe.bits_per_pixel(), None, "no bitrate");
        probe.total_bitrate = Some(4_608_000);
        assert_eq!(probe.bits_per_pixel(), Some(0.2));
        probe.video_bitrate = Some(2_304_000);
        assert_eq!(probe.bits_per_pixel(), Some(0.1));
        probe.frame_rate = 0.0;
        assert_eq!(probe.bits_per_pixel(), None, "no frame rate");
    }
}
