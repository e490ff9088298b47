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
        }
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
