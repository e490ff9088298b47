//! Probes a video by reading only its container headers, through ranged reads.
//!
//! On AWS Lambda there is no ffprobe and the source sits in S3, so downloading it to probe it would
//! cost as much as the upload. Everything ffprobe reports about a source's shape is in the
//! container's headers, though, so this prober fetches only those: the first 64 KiB, then the
//! header of each top-level box or element it has to step over, then the one metadata box it needs
//! (an MP4 `moov`, Matroska `Info`/`Tracks`) in a single read. Media data is never read: a 100 MB
//! MP4 costs well under 1 MB whether its `moov` is at the start or at the end.
//!
//! Written here rather than on a parser crate on purpose: the MP4 and Matroska crates read from a
//! `Read + Seek` source box by box or element by element, which over S3 is one GET per step and
//! no bound on bytes read; this reader plans its few ranged reads and enforces the read budget
//! ([`MAX_READS`], [`MAX_BYTES_READ`]) that makes probing an upload of any size cost the same.
//!
//! - MP4/MOV (ISO BMFF): `mvhd` for the duration, and per track `tkhd` (display matrix → rotation),
//!   `hdlr`, `mdhd`, `stsd` (codec, coded size), `stts` (frame rate) and `stsz` (bitrate).
//!   Fragmented files add up their `moof`s; when there are too many to walk, the `mehd` duration
//!   or the `mfra` index pointing at the last fragment stands in.
//! - Matroska/WebM: EBML header, then `Info` and `Tracks` (found directly or through the
//!   `SeekHead`), stopping before the first `Cluster`.
//!
//! Results follow ffprobe's conventions (see `vodpipe-embedded`'s ffprobe prober) so that both
//! probers describe a file the same way: container names like `mov,mp4,m4a,3gp,3g2,mj2`, codec
//! names like `h264`, durations and bitrates computed as ffprobe computes them.
//!
//! Sources are untrusted uploads: every length is checked against the file and the read budget
//! ([`MAX_READS`], [`MAX_BYTES_READ`]), all arithmetic is checked or saturating, and anything
//! unreadable is a [`PortError::Rejected`] with a reason a user can act on.

mod mkv;
mod mp4;
mod read;
mod source;

pub use source::{Counted, FileSource, RangeSource};
pub use vodpipe_core::Probe;
pub use vodpipe_core::ports::PortError;

/// Read up front: the signature, and for most files every header needed.
pub const HEAD_BYTES: u64 = 64 * 1024;
/// Largest metadata box (MP4 `moov`, Matroska `Tracks`) the prober reads. A `moov` grows by about
/// 12–20 bytes per frame, so this covers hours of video; larger is not a plausible upload.
pub const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;
/// Most bytes one probe reads from the source, whatever the file.
pub const MAX_BYTES_READ: u64 = MAX_METADATA_BYTES + 8 * 1024 * 1024;
/// Most reads one probe makes. Each is an S3 GET, tens of milliseconds on Lambda.
pub const MAX_READS: u32 = 128;

/// ffprobe's `format_name` for every ISO BMFF flavour.
pub const MP4_CONTAINER: &str = "mov,mp4,m4a,3gp,3g2,mj2";
/// ffprobe's `format_name` for Matroska and WebM alike.
pub const MATROSKA_CONTAINER: &str = "matroska,webm";

/// Probes `source`, reading only its headers.
pub fn probe(source: &dyn RangeSource) -> Result<Probe, PortError> {
    let mut reader = read::Reader::new(source)?;
    let probe = if mp4::sniff(reader.head()) {
        mp4::probe(&mut reader)?
    } else if mkv::sniff(reader.head()) {
        mkv::probe(&mut reader)?
    } else {
        return Err(PortError::Rejected(format!(
            "not an MP4/MOV or Matroska/WebM file: {}",
            describe(reader.head())
        )));
    };
    if probe.width == 0 || probe.height == 0 {
        return Err(PortError::Rejected("the video track has no picture size".into()));
    }
    Ok(probe)
}

/// Names what a file that is not a supported video looks like, so the uploader learns why.
fn describe(head: &[u8]) -> String {
    let known = |what: &str| format!("it starts like {what}");
    let at = |offset: usize, magic: &[u8]| head.get(offset..).is_some_and(|rest| rest.starts_with(magic));
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        known("a JPEG image")
    } else if at(0, b"\x89PNG") {
        known("a PNG image")
    } else if at(0, b"GIF8") {
        known("a GIF image")
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        known("a WebP image")
    } else if at(0, b"RIFF") && at(8, b"AVI ") {
        known("an AVI video, which this prober does not read")
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        known("WAV audio")
    } else if at(0, b"ID3") {
        known("MP3 audio")
    } else if at(0, b"OggS") {
        known("an Ogg file, which this prober does not read")
    } else if at(0, b"fLaC") {
        known("FLAC audio")
    } else if at(0, b"FLV") {
        known("an FLV video, which this prober does not read")
    } else if at(0, &[0x30, 0x26, 0xB2, 0x75]) {
        known("an ASF/WMV video, which this prober does not read")
    } else if at(0, &[0x47]) && at(188, &[0x47]) {
        known("an MPEG transport stream, which this prober does not read")
    } else if at(0, &[0, 0, 1, 0xBA]) {
        known("an MPEG program stream, which this prober does not read")
    } else if at(0, b"%PDF") {
        known("a PDF document")
    } else if at(0, b"PK\x03\x04") {
        known("a ZIP archive")
    } else {
        let start = &head[..head.len().min(8)];
        let hex: Vec<String> = start.iter().map(|b| format!("{b:02x}")).collect();
        let text: String = start
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        format!("starts with {} ({text:?})", hex.join(" "))
    }
}

/// `ticks / timescale` seconds in milliseconds, rounded; 0 when the timescale is 0.
fn ms(ticks: u64, timescale: u64) -> u64 {
    if timescale == 0 {
        return 0;
    }
    let ms = (u128::from(ticks) * 1000 + u128::from(timescale) / 2) / u128::from(timescale);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// `bytes * 8` over `ticks / timescale` seconds, as ffprobe computes bit rates; None when unknown.
fn bitrate(bytes: u64, ticks: u64, timescale: u64) -> Option<u64> {
    if bytes == 0 || ticks == 0 || timescale == 0 {
        return None;
    }
    let bits = u128::from(bytes) * 8;
    let rate = bits.checked_mul(u128::from(timescale))? / u128::from(ticks);
    u64::try_from(rate).ok()
}

/// Snaps a clockwise angle in degrees to a quarter turn, as vodpipe's ffprobe prober does: only
/// quarter turns change the display size.
fn quarter_turns(clockwise: f64) -> u32 {
    if !clockwise.is_finite() {
        return 0;
    }
    let turns = (clockwise / 90.0).round().rem_euclid(4.0);
    // `turns` is one of 0.0..=3.0 (or 4.0 after rounding -0.4 up to -0.0 and back): fold it.
    (turns as u32 % 4) * 90
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_files_are_named() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
        assert!(describe(&jpeg).contains("JPEG"));
        assert_eq!(
            describe(b"<html><body>"),
            r#"starts with 3c 68 74 6d 6c 3e 3c 62 ("<html><b")"#
        );
        assert_eq!(describe(&[0, 1]), r#"starts with 00 01 ("..")"#);
    }

    #[test]
    fn empty_and_tiny_sources_are_not_videos() {
        let err = probe(&Vec::new()).unwrap_err();
        assert_eq!(err.to_string(), "the file is empty");
        let err = probe(&b"hi".to_vec()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("not an MP4/MOV or Matroska/WebM file: starts with 68 69")
        );
    }

    #[test]
    fn arithmetic_helpers_round_and_saturate() {
        assert_eq!(ms(1, 3), 333);
        assert_eq!(ms(2, 3), 667);
        assert_eq!(ms(u64::MAX, 1), u64::MAX);
        assert_eq!(ms(5, 0), 0);
        assert_eq!(bitrate(1000, 2, 1), Some(4000));
        assert_eq!(bitrate(u64::MAX, 1, u64::MAX), None);
        assert_eq!(bitrate(0, 2, 1), None);
        assert_eq!(quarter_turns(-90.0), 270);
        assert_eq!(quarter_turns(-0.1), 0);
        assert_eq!(quarter_turns(179.0), 180);
        assert_eq!(quarter_turns(f64::NAN), 0);
        assert_eq!(quarter_turns(1e300), 0);
    }
}
