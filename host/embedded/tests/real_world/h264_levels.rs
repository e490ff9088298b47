//! H.264 level conformance of an encoded stream, as a strict player checks it: the stream's
//! own profile, size and frame rate (read back by ffprobe) and the peak bitrate it was given,
//! against the level its SPS names. The limits are ITU-T H.264 Annex A's, from the one table
//! vodpipe has (`vodpipe_job_document::h264`, whose unit tests pin the textbook levels).

use vodpipe_job_document::h264::{self, Level, Profile};

/// What a level is checked against: the stream as encoded and the bitrate cap it was given.
#[derive(Debug, Clone, Copy)]
pub struct Stream {
    pub profile_idc: u32,
    pub width: u32,
    pub height: u32,
    pub frames_per_second: f64,
    /// The encoder's peak rate (its VBV maximum), bits per second.
    pub max_bitrate: u64,
}

impl Stream {
    fn as_h264(self) -> h264::Stream {
        let profile = match self.profile_idc {
            66 => Profile::Baseline,
            77 => Profile::Main,
            100 => Profile::High,
            other => panic!("profile_idc {other}: not one vodpipe encodes (Baseline 66, Main 77, High 100)"),
        };
        h264::Stream {
            width: self.width,
            height: self.height,
            frame_rate: self.frames_per_second,
            max_bitrate: self.max_bitrate,
            profile,
        }
    }
}

/// Why `level_idc` does not fit `stream`, or `Ok` when it does.
pub fn check(level_idc: u32, stream: Stream) -> Result<(), String> {
    let level = u8::try_from(level_idc)
        .ok()
        .and_then(Level::from_idc)
        .ok_or_else(|| format!("level_idc {level_idc} is not in Table A-1"))?;
    let exceeded = h264::exceeded(level, &stream.as_h264());
    if exceeded.is_empty() {
        Ok(())
    } else {
        Err(format!("level {level}: {}", exceeded.join("; ")))
    }
}

/// The smallest level `stream` conforms to, for the failure messages.
pub fn smallest(stream: Stream) -> Option<String> {
    h264::lowest_conformant(&stream.as_h264()).map(|level| level.to_string())
}

/// `31` → `3.1`.
pub fn display(level_idc: u32) -> String {
    format!("{}.{}", level_idc / 10, level_idc % 10)
}
