//! Where a MPEG-TS segment's first video frame lies, for the byte range of an HLS I-frame
//! playlist: from the segment's start (its PAT and PMT, so the range plays on its own) to
//! where the next video frame's PES packet starts.
//!
//! Only what that needs is read (ISO/IEC 13818-1): 188-byte packets, the PAT's first program,
//! its PMT's first video stream, and the `payload_unit_start_indicator` and
//! `random_access_indicator` of that stream's packets.

/// What a segment says of its first video frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstFrame {
    /// Byte offset just past the frame: the next video PES's first packet, or the end of the
    /// segment when the frame is its only one.
    pub end: u64,
    /// Whether the frame's first packet is flagged a random access point (an IDR).
    pub random_access: bool,
}

const PACKET: usize = 188;
const SYNC: u8 = 0x47;

/// Finds the first video frame of a segment that starts with its PAT and PMT.
pub fn first_video_frame(bytes: &[u8]) -> Result<FirstFrame, String> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(PACKET) {
        return Err(format!(
            "{} bytes is not a whole number of 188-byte packets",
            bytes.len()
        ));
    }
    let (mut pmt_pid, mut video_pid) = (None, None);
    let mut first: Option<bool> = None;
    for (index, packet) in bytes.chunks_exact(PACKET).enumerate() {
        let at = index * PACKET;
        if packet[0] != SYNC {
            return Err(format!("packet at {at}: no sync byte"));
        }
        let pid = (u16::from(packet[1] & 0x1f) << 8) | u16::from(packet[2]);
        let unit_start = packet[1] & 0x40 != 0;
        let adaptation = (packet[3] >> 4) & 0x3;
        let (payload, random_access) = match adaptation {
            0b01 => (&packet[4..], false),
            0b11 => {
                let length = usize::from(packet[4]);
                if 5 + length > PACKET {
                    return Err(format!("packet at {at}: adaptation field runs past the packet"));
                }
                let flags = if length > 0 { packet[5] } else { 0 };
                (&packet[5 + length..], flags & 0x40 != 0)
            }
            _ => (&[][..], false),
        };
        if pid == 0 && unit_start && pmt_pid.is_none() {
            pmt_pid = Some(first_program_pid(section(payload, at)?, at)?);
        } else if Some(pid) == pmt_pid && unit_start && video_pid.is_none() {
            video_pid = Some(first_video_pid(section(payload, at)?, at)?);
        } else if Some(pid) == video_pid && unit_start {
            match first {
                None => first = Some(random_access),
                Some(random_access) => {
                    return Ok(FirstFrame {
                        end: at as u64,
                        random_access,
                    });
                }
            }
        }
    }
    match (video_pid, first) {
        (None, _) => Err("no PAT and PMT naming a video stream".into()),
        (Some(_), None) => Err("no video frame".into()),
        (Some(_), Some(random_access)) => Ok(FirstFrame {
            end: bytes.len() as u64,
            random_access,
        }),
    }
}

/// A PSI section's bytes after its pointer field, up to its CRC.
fn section(payload: &[u8], at: usize) -> Result<&[u8], String> {
    let pointer = usize::from(*payload.first().ok_or(format!("packet at {at}: empty section"))?);
    let section = payload
        .get(1 + pointer..)
        .filter(|s| s.len() >= 3)
        .ok_or(format!("packet at {at}: section cut short"))?;
    let length = usize::from(u16::from(section[1] & 0x0f) << 8 | u16::from(section[2]));
    // The 4-byte CRC ends the section; one packet holds what ffmpeg writes.
    section
        .get(..3 + length)
        .filter(|_| length >= 4)
        .map(|s| &s[..s.len() - 4])
        .ok_or(format!("packet at {at}: section longer than its packet"))
}

/// The PAT's first program's PMT PID (program 0 is the network PID, skipped).
fn first_program_pid(pat: &[u8], at: usize) -> Result<u16, String> {
    pat.get(8..)
        .unwrap_or_default()
        .chunks_exact(4)
        .find(|entry| u16::from_be_bytes([entry[0], entry[1]]) != 0)
        .map(|entry| u16::from(entry[2] & 0x1f) << 8 | u16::from(entry[3]))
        .ok_or(format!("PAT at {at}: no program"))
}

/// The PMT's first video elementary stream's PID: H.264 (0x1b), HEVC (0x24) or MPEG-2 (0x02).
fn first_video_pid(pmt: &[u8], at: usize) -> Result<u16, String> {
    let info_length = pmt
        .get(10..12)
        .map(|b| usize::from(u16::from(b[0] & 0x0f) << 8 | u16::from(b[1])))
        .ok_or(format!("PMT at {at}: cut short"))?;
    let mut streams = pmt.get(12 + info_length..).unwrap_or_default();
    while streams.len() >= 5 {
        let stream_type = streams[0];
        let pid = u16::from(streams[1] & 0x1f) << 8 | u16::from(streams[2]);
        let es_info = usize::from(u16::from(streams[3] & 0x0f) << 8 | u16::from(streams[4]));
        if matches!(stream_type, 0x1b | 0x24 | 0x02) {
            return Ok(pid);
        }
        streams = streams.get(5 + es_info..).unwrap_or_default();
    }
    Err(format!("PMT at {at}: no video stream"))
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    /// A 4 s H.264 + AAC clip cut into 2 s MPEG-TS segments by ffmpeg, keyframes every 1 s.
    fn segments(dir: &std::path::Path) -> Vec<Vec<u8>> {
        let status = Command::new("ffmpeg")
            .args(["-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4"])
            .args([
                "-f", "lavfi", "-i", "sine=d=4", "-c:v", "libx264", "-preset", "veryfast",
            ])
            .args(["-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-c:a", "aac"])
            .args([
                "-f",
                "hls",
                "-hls_time",
                "2",
                "-hls_playlist_type",
                "vod",
                "-hls_segment_filename",
            ])
            .arg(dir.join("s_%03d.ts"))
            .arg(dir.join("i.m3u8"))
            .status()
            .expect("ffmpeg on PATH");
        assert!(status.success());
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "ts"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    /// The frames ffprobe finds in `bytes`: (key frame, picture type).
    fn frames(dir: &std::path::Path, bytes: &[u8]) -> Vec<String> {
        let path = dir.join("range.ts");
        std::fs::write(&path, bytes).unwrap();
        let output = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "frame=key_frame,pict_type",
            ])
            .args(["-of", "csv=p=0"])
            .arg(&path)
            .output()
            .unwrap();
        // A frame's side data adds an empty field and a line of its own.
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| line.trim_end_matches(','))
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_range_to_the_first_frames_end_decodes_to_that_keyframe_alone() {
        let dir = tempfile::tempdir().unwrap();
        let segments = segments(dir.path());
        assert_eq!(segments.len(), 2);
        for segment in &segments {
            let first = first_video_frame(segment).unwrap();
            assert!(first.random_access, "segments start on a keyframe");
            assert!(first.end < segment.len() as u64 / 4, "one frame of fifty: {first:?}");
            assert_eq!(frames(dir.path(), &segment[..first.end as usize]), ["1,I"]);
        }
    }

    #[test]
    fn what_is_not_a_segment_is_refused_with_where() {
        assert!(first_video_frame(&[]).unwrap_err().contains("188-byte packets"));
        let mut bytes = vec![0u8; 188];
        assert_eq!(first_video_frame(&bytes).unwrap_err(), "packet at 0: no sync byte");
        bytes[0] = SYNC;
        assert_eq!(
            first_video_frame(&bytes).unwrap_err(),
            "no PAT and PMT naming a video stream"
        );
    }
}
