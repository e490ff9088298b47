//! Matroska and WebM: the EBML header, then the Segment's `Info` and `Tracks`, stopping before the
//! first `Cluster` (and following the `SeekHead` when they come after it).

use vodpipe_core::Probe;
use vodpipe_core::ports::PortError;

use crate::read::Reader;
use crate::{MATROSKA_CONTAINER, MAX_METADATA_BYTES, quarter_turns};

const EBML: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const SEEK_HEAD: u32 = 0x114D_9B74;
const SEEK: u32 = 0x4DBB;
const SEEK_ID: u32 = 0x53AB;
const SEEK_POSITION: u32 = 0x53AC;
const INFO: u32 = 0x1549_A966;
const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
const DURATION: u32 = 0x4489;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const DEFAULT_DURATION: u32 = 0x23_E383;
const VIDEO: u32 = 0xE0;
const PIXEL_WIDTH: u32 = 0xB0;
const PIXEL_HEIGHT: u32 = 0xBA;
const PROJECTION: u32 = 0x7670;
const PROJECTION_TYPE: u32 = 0x7671;
const PROJECTION_POSE_YAW: u32 = 0x7673;
const PROJECTION_POSE_PITCH: u32 = 0x7674;
const PROJECTION_POSE_ROLL: u32 = 0x7675;
const CLUSTER: u32 = 0x1F43_B675;

const TRACK_TYPE_VIDEO: u64 = 1;
const TRACK_TYPE_AUDIO: u64 = 2;

/// An element header is at most a 4-byte ID and an 8-byte size.
const HEADER_READ: u64 = 12;
/// Largest EBML header, `SeekHead` or `Info` read; they are tens of bytes in practice.
const MAX_SMALL_ELEMENT: u64 = 1024 * 1024;
/// Elements a file may put before its Segment (`Void`s, in practice none).
const MAX_ELEMENTS_BEFORE_SEGMENT: usize = 16;

pub(crate) fn sniff(head: &[u8]) -> bool {
    head.starts_with(&EBML.to_be_bytes())
}

pub(crate) fn probe(reader: &mut Reader) -> Result<Probe, PortError> {
    let len = reader.len();
    let ebml = header_at(reader, 0, len)?.ok_or_else(|| malformed("EBML header", 0))?;
    let body = read_body(reader, 0, &ebml, MAX_SMALL_ELEMENT, "EBML header")?;
    let doc_type = children(&body)
        .find(|(id, _)| *id == DOC_TYPE)
        .map(|(_, value)| string(value));
    match doc_type.as_deref() {
        Some("matroska" | "webm") => {}
        other => {
            return Err(PortError::Rejected(format!(
                "an EBML file of type {:?}, not Matroska/WebM",
                other.unwrap_or("(none)")
            )));
        }
    }

    // The Segment, after the EBML header and anything a writer put between them.
    let mut pos = end_of(0, &ebml).ok_or_else(|| malformed("EBML header", 0))?;
    let mut segment = None;
    for _ in 0..MAX_ELEMENTS_BEFORE_SEGMENT {
        let Some(header) = header_at(reader, pos, len)? else {
            break;
        };
        if header.id == SEGMENT {
            segment = Some(header);
            break;
        }
        let Some(next) = end_of(pos, &header) else {
            break;
        };
        pos = next;
    }
    let segment =
        segment.ok_or_else(|| PortError::Rejected("the Matroska file has no Segment (truncated upload?)".into()))?;
    let start = pos + segment.header_len;
    // An unknown size (live recordings) or one past the end (truncated upload) runs to the end.
    let end = segment
        .size
        .and_then(|size| start.checked_add(size))
        .map_or(len, |end| end.min(len));

    let mut info = None;
    let mut tracks = None;
    let mut seek = Seeks::default();
    let mut pos = start;
    while info.is_none() || tracks.is_none() {
        let Some(header) = header_at(reader, pos, end)? else {
            break;
        };
        match header.id {
            SEEK_HEAD if seek.is_empty() && header.size.is_some_and(|size| size <= MAX_SMALL_ELEMENT) => {
                seek = Seeks::parse(&read_body(reader, pos, &header, MAX_SMALL_ELEMENT, "SeekHead")?);
            }
            INFO => {
                info = Some(Info::parse(&read_body(
                    reader,
                    pos,
                    &header,
                    MAX_SMALL_ELEMENT,
                    "Info",
                )?))
            }
            TRACKS => {
                tracks = Some(parse_tracks(&read_body(
                    reader,
                    pos,
                    &header,
                    MAX_METADATA_BYTES,
                    "Tracks",
                )?))
            }
            // Media data from here on: what is still missing must be found through the SeekHead.
            CLUSTER => break,
            _ => {}
        }
        let Some(next) = end_of(pos, &header) else {
            break;
        };
        pos = next;
    }
    if info.is_none()
        && let Some(at) = seek.info.and_then(|p| start.checked_add(p))
        && let Some(header) = header_at(reader, at, end)?.filter(|h| h.id == INFO)
    {
        info = Some(Info::parse(&read_body(reader, at, &header, MAX_SMALL_ELEMENT, "Info")?));
    }
    if tracks.is_none()
        && let Some(at) = seek.tracks.and_then(|p| start.checked_add(p))
        && let Some(header) = header_at(reader, at, end)?.filter(|h| h.id == TRACKS)
    {
        tracks = Some(parse_tracks(&read_body(
            reader,
            at,
            &header,
            MAX_METADATA_BYTES,
            "Tracks",
        )?));
    }
    let tracks = tracks
        .ok_or_else(|| PortError::Rejected("the Matroska file has no Tracks element (truncated upload?)".into()))?;
    let info = info.unwrap_or_default();

    let video = tracks
        .iter()
        .find(|t| t.kind == TRACK_TYPE_VIDEO)
        .ok_or_else(|| PortError::Rejected("the file has no video track (an audio-only file?)".into()))?;
    // Duration counts TimestampScale nanoseconds.
    let seconds = info
        .duration
        .map(|d| d * info.timestamp_scale as f64 / 1e9)
        .filter(|s| s.is_finite() && *s > 0.0);
    Ok(Probe {
        width: u32::try_from(video.width).unwrap_or(0),
        height: u32::try_from(video.height).unwrap_or(0),
        rotation: video.rotation,
        // Float to integer casts saturate, so absurd durations cannot wrap.
        duration_ms: seconds.map_or(0, |s| (s * 1000.0).round() as u64),
        frame_rate: video
            .default_duration
            .filter(|&ns| ns > 0)
            .map_or(0.0, |ns| snap_frame_rate(1e9 / ns as f64)),
        // Matroska has no sample size table in its headers; ffprobe reports none either.
        video_bitrate: None,
        total_bitrate: seconds.map(|s| (len as f64 * 8.0 / s) as u64),
        has_audio: tracks.iter().any(|t| t.kind == TRACK_TYPE_AUDIO),
        container: MATROSKA_CONTAINER.to_owned(),
        video_codec: codec_name(&video.codec),
        analysis: Default::default(),
    })
}

/// DefaultDuration is whole nanoseconds, so 30 fps is stored as 33333333 ns, i.e. 30.0000003 fps.
/// ffprobe reduces it to a rational and prints 30/1 (or 30000/1001); snap the same way.
fn snap_frame_rate(fps: f64) -> f64 {
    // Whole rates (25, 30) and NTSC ones (30000/1001 = 29.97).
    for unit in [1.0, 1000.0 / 1001.0] {
        let snapped = (fps / unit).round() * unit;
        if snapped > 0.0 && ((fps - snapped) / snapped).abs() < 1e-5 {
            return snapped;
        }
    }
    fps
}

fn malformed(what: &str, at: u64) -> PortError {
    PortError::Rejected(format!("the Matroska {what} at byte {at} is malformed"))
}

#[derive(Debug, PartialEq)]
struct Header {
    id: u32,
    /// None when unknown (all ones), as live recordings write for the Segment and Clusters.
    size: Option<u64>,
    header_len: u64,
}

/// The element header at `pos`, or None when there is no well-formed one before `end`.
fn header_at(reader: &mut Reader, pos: u64, end: u64) -> Result<Option<Header>, PortError> {
    if pos >= end {
        return Ok(None);
    }
    let bytes = reader.read(pos, (end - pos).min(HEADER_READ), 0)?;
    Ok(parse_header(&bytes))
}

/// Where the element at `pos` ends; None when its size is unknown or overflows.
fn end_of(pos: u64, header: &Header) -> Option<u64> {
    pos.checked_add(header.header_len)?.checked_add(header.size?)
}

fn read_body(reader: &mut Reader, pos: u64, header: &Header, max: u64, what: &str) -> Result<Vec<u8>, PortError> {
    let size = header
        .size
        .ok_or_else(|| PortError::Rejected(format!("the Matroska {what} element has no size")))?;
    if size > max {
        return Err(PortError::Rejected(format!(
            "the Matroska {what} element is {size} bytes, more than the {} KiB this prober reads",
            max >> 10
        )));
    }
    let body_at = pos + header.header_len;
    if body_at.checked_add(size).is_none_or(|end| end > reader.len()) {
        return Err(PortError::Rejected(format!(
            "the Matroska {what} element is cut off (truncated upload?)"
        )));
    }
    // Read a header's worth past the body: the next element's header is usually needed next.
    reader.read(body_at, size, HEADER_READ)
}

fn parse_header(bytes: &[u8]) -> Option<Header> {
    let (_, id_len) = vint(bytes, 4)?;
    // IDs keep their length marker: 0x1A45DFA3 is the ID, not 0x0A45DFA3.
    let id = bytes[..id_len].iter().fold(0u32, |id, &b| id << 8 | u32::from(b));
    let (size, size_len) = vint(bytes.get(id_len..)?, 8)?;
    let all_ones = (1u64 << (7 * size_len)) - 1;
    Some(Header {
        id,
        size: (size != all_ones).then_some(size),
        header_len: (id_len + size_len) as u64,
    })
}

/// An EBML variable-length integer without its length marker, and its length in bytes.
fn vint(bytes: &[u8], max_len: usize) -> Option<(u64, usize)> {
    let first = *bytes.first()?;
    let len = first.leading_zeros() as usize + 1;
    if first == 0 || len > max_len {
        return None;
    }
    let rest = bytes.get(1..len)?;
    let marker_removed = u64::from(first) & (0xFF >> len);
    Some((rest.iter().fold(marker_removed, |v, &b| v << 8 | u64::from(b)), len))
}

/// The elements inside an element body. Iteration stops at the first that does not fit its parent.
fn children(data: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let header = parse_header(rest)?;
        let header_len = usize::try_from(header.header_len).ok()?;
        let size = match header.size {
            Some(size) => usize::try_from(size).ok()?,
            None => rest.len() - header_len,
        };
        let end = header_len.checked_add(size).filter(|&end| end <= rest.len())?;
        let body = &rest[header_len..end];
        rest = &rest[end..];
        Some((header.id, body))
    })
}

fn uint(body: &[u8]) -> Option<u64> {
    (body.len() <= 8).then(|| body.iter().fold(0u64, |v, &b| v << 8 | u64::from(b)))
}

fn float(body: &[u8]) -> Option<f64> {
    match body.len() {
        0 => Some(0.0),
        4 => Some(f64::from(f32::from_be_bytes(body.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(body.try_into().ok()?)),
        _ => None,
    }
}

fn string(body: &[u8]) -> String {
    String::from_utf8_lossy(body).trim_end_matches('\0').to_owned()
}

/// SeekHead positions, relative to the start of the Segment's data.
#[derive(Default)]
struct Seeks {
    info: Option<u64>,
    tracks: Option<u64>,
}

impl Seeks {
    fn is_empty(&self) -> bool {
        self.info.is_none() && self.tracks.is_none()
    }

    fn parse(body: &[u8]) -> Self {
        let mut seeks = Seeks::default();
        for (_, seek) in children(body).filter(|(id, _)| *id == SEEK) {
            let mut target = None;
            let mut position = None;
            for (id, value) in children(seek) {
                match id {
                    SEEK_ID => target = uint(value),
                    SEEK_POSITION => position = uint(value),
                    _ => {}
                }
            }
            match target.and_then(|t| u32::try_from(t).ok()) {
                Some(INFO) => seeks.info = seeks.info.or(position),
                Some(TRACKS) => seeks.tracks = seeks.tracks.or(position),
                _ => {}
            }
        }
        seeks
    }
}

struct Info {
    /// Nanoseconds per Segment tick.
    timestamp_scale: u64,
    /// In Segment ticks.
    duration: Option<f64>,
}

impl Default for Info {
    fn default() -> Self {
        Self {
            timestamp_scale: 1_000_000,
            duration: None,
        }
    }
}

impl Info {
    fn parse(body: &[u8]) -> Self {
        let mut info = Info::default();
        for (id, value) in children(body) {
            match id {
                TIMESTAMP_SCALE => {
                    if let Some(scale) = uint(value).filter(|&s| s > 0) {
                        info.timestamp_scale = scale;
                    }
                }
                DURATION => info.duration = float(value),
                _ => {}
            }
        }
        info
    }
}

#[derive(Default)]
struct Track {
    kind: u64,
    codec: String,
    /// Nanoseconds per frame.
    default_duration: Option<u64>,
    width: u64,
    height: u64,
    rotation: u32,
}

fn parse_tracks(body: &[u8]) -> Vec<Track> {
    children(body)
        .filter(|(id, _)| *id == TRACK_ENTRY)
        .map(|(_, entry)| {
            let mut track = Track::default();
            for (id, value) in children(entry) {
                match id {
                    TRACK_TYPE => track.kind = uint(value).unwrap_or(0),
                    CODEC_ID => track.codec = string(value),
                    DEFAULT_DURATION => track.default_duration = uint(value),
                    VIDEO => {
                        for (id, value) in children(value) {
                            match id {
                                PIXEL_WIDTH => track.width = uint(value).unwrap_or(0),
                                PIXEL_HEIGHT => track.height = uint(value).unwrap_or(0),
                                PROJECTION => track.rotation = projection_rotation(value),
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            track
        })
        .collect()
}

/// Clockwise rotation from a rectangular `Projection`, as ffmpeg reads it: `ProjectionPoseRoll` is
/// counter-clockwise, and a yaw of 180° mirrors the picture first. Other poses describe 360° video
/// and are ignored, as ffmpeg ignores them.
fn projection_rotation(projection: &[u8]) -> u32 {
    let (mut kind, mut yaw, mut pitch, mut roll) = (0, 0.0, 0.0, 0.0);
    for (id, value) in children(projection) {
        match id {
            PROJECTION_TYPE => kind = uint(value).unwrap_or(u64::MAX),
            PROJECTION_POSE_YAW => yaw = float(value).unwrap_or(f64::NAN),
            PROJECTION_POSE_PITCH => pitch = float(value).unwrap_or(f64::NAN),
            PROJECTION_POSE_ROLL => roll = float(value).unwrap_or(f64::NAN),
            _ => {}
        }
    }
    if kind != 0 || pitch != 0.0 {
        return 0;
    }
    if yaw == 0.0 {
        quarter_turns(-roll)
    } else if yaw.abs() == 180.0 {
        quarter_turns(180.0 - roll)
    } else {
        0
    }
}

/// ffprobe's codec name for a Matroska CodecID.
fn codec_name(codec_id: &str) -> String {
    let name = match codec_id {
        "V_MPEG4/ISO/AVC" => "h264",
        "V_MPEGH/ISO/HEVC" => "hevc",
        "V_MPEGI/ISO/VVC" => "vvc",
        "V_AV1" => "av1",
        "V_VP9" => "vp9",
        "V_VP8" => "vp8",
        "V_MPEG4/MS/V3" => "msmpeg4v3",
        "V_MPEG4/ISO/ASP" | "V_MPEG4/ISO/SP" | "V_MPEG4/ISO/AP" => "mpeg4",
        "V_MPEG1" => "mpeg1video",
        "V_MPEG2" => "mpeg2video",
        "V_THEORA" => "theora",
        "V_PRORES" => "prores",
        "V_MJPEG" => "mjpeg",
        "V_FFV1" => "ffv1",
        "V_DIRAC" => "dirac",
        "V_UNCOMPRESSED" => "rawvideo",
        other => return other.strip_prefix("V_").unwrap_or(other).to_ascii_lowercase(),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(id: u32, body: &[u8]) -> Vec<u8> {
        let mut out: Vec<u8> = id.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        // An 8-byte size, as some muxers write to patch sizes in later.
        out.push(0x01);
        out.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
        out.extend_from_slice(body);
        out
    }

    fn webm(duration_ms: f64, tracks: &[Vec<u8>], roll: Option<f32>) -> Vec<u8> {
        let mut file = element(EBML, &element(DOC_TYPE, b"webm"));
        let mut info = element(TIMESTAMP_SCALE, &[0x0F, 0x42, 0x40]);
        info.extend(element(DURATION, &duration_ms.to_be_bytes()));
        let mut segment = element(INFO, &info);
        let mut entries = Vec::new();
        for (i, track) in tracks.iter().enumerate() {
            let mut entry = element(TRACK_TYPE, &[if i == 0 { 1 } else { 2 }]);
            entry.extend(element(CODEC_ID, track));
            if i == 0 {
                entry.extend(element(DEFAULT_DURATION, &33_366_667u32.to_be_bytes()));
                let mut video = element(PIXEL_WIDTH, &[0x07, 0x80]);
                video.extend(element(PIXEL_HEIGHT, &[0x04, 0x38]));
                if let Some(roll) = roll {
                    video.extend(element(PROJECTION, &element(PROJECTION_POSE_ROLL, &roll.to_be_bytes())));
                }
                entry.extend(element(VIDEO, &video));
            }
            entries.extend(element(TRACK_ENTRY, &entry));
        }
        segment.extend(element(TRACKS, &entries));
        segment.extend(element(CLUSTER, &[0; 100]));
        file.extend(element(SEGMENT, &segment));
        file
    }

    #[test]
    fn webm_headers_give_the_probe() {
        let file = webm(12_345.0, &[b"V_VP9".to_vec(), b"A_OPUS".to_vec()], None);
        let probe = crate::probe(&file).unwrap();
        assert_eq!((probe.width, probe.height, probe.rotation), (1920, 1080, 0));
        assert_eq!(probe.duration_ms, 12_345);
        assert!((probe.frame_rate - 29.97).abs() < 0.01, "{}", probe.frame_rate);
        assert!(probe.has_audio);
        assert_eq!(
            (probe.container.as_str(), probe.video_codec.as_str()),
            ("matroska,webm", "vp9")
        );
    }

    #[test]
    fn projection_roll_is_counter_clockwise() {
        let file = webm(1000.0, &[b"V_AV1".to_vec()], Some(-90.0));
        let probe = crate::probe(&file).unwrap();
        assert_eq!(
            (probe.rotation, probe.has_audio, probe.video_codec.as_str()),
            (90, false, "av1")
        );
        let file = webm(1000.0, &[b"V_AV1".to_vec()], Some(90.0));
        assert_eq!(crate::probe(&file).unwrap().rotation, 270);
    }

    #[test]
    fn audio_only_matroska_is_not_a_video() {
        let mut file = element(EBML, &element(DOC_TYPE, b"matroska"));
        let entry = element(TRACK_ENTRY, &element(TRACK_TYPE, &[2]));
        file.extend(element(SEGMENT, &element(TRACKS, &entry)));
        let err = crate::probe(&file).unwrap_err().to_string();
        assert_eq!(err, "the file has no video track (an audio-only file?)");
    }

    #[test]
    fn other_ebml_documents_are_named() {
        let file = element(EBML, &element(DOC_TYPE, b"foo"));
        let err = crate::probe(&file).unwrap_err().to_string();
        assert_eq!(err, r#"an EBML file of type "foo", not Matroska/WebM"#);
    }

    #[test]
    fn tracks_after_the_first_cluster_are_found_through_the_seek_head() {
        let mut entry = element(TRACK_TYPE, &[1]);
        entry.extend(element(CODEC_ID, b"V_MPEGH/ISO/HEVC"));
        let mut video = element(PIXEL_WIDTH, &[0x02, 0x80]);
        video.extend(element(PIXEL_HEIGHT, &[0x01, 0x68]));
        entry.extend(element(VIDEO, &video));
        let tracks = element(TRACKS, &element(TRACK_ENTRY, &entry));
        let info = element(INFO, &element(DURATION, &2500f32.to_be_bytes()));
        let cluster = element(CLUSTER, &[0; 200_000]);
        let seek_head_len = element(SEEK_HEAD, &element(SEEK, &[0; 2 * 10 + 4 + 8])).len();
        let tracks_at = (seek_head_len + info.len() + cluster.len()) as u64;
        let mut seek = element(SEEK_ID, &TRACKS.to_be_bytes());
        seek.extend(element(SEEK_POSITION, &tracks_at.to_be_bytes()));
        let mut segment = element(SEEK_HEAD, &element(SEEK, &seek));
        assert_eq!(segment.len(), seek_head_len);
        segment.extend(info);
        segment.extend(cluster);
        segment.extend(tracks);
        let mut file = element(EBML, &element(DOC_TYPE, b"matroska"));
        file.extend(element(SEGMENT, &segment));

        let source = crate::Counted::new(file.as_slice());
        let probe = crate::probe(&source).unwrap();
        assert_eq!((probe.width, probe.height, probe.duration_ms), (640, 360, 2500));
        assert_eq!(probe.video_codec, "hevc");
        // The head, then the Tracks header and body; the cluster is skipped.
        assert_eq!(source.reads(), 3);
        assert!(source.bytes_read() < 70_000);
    }

    #[test]
    fn frame_rates_snap_like_ffprobe_rationals() {
        assert_eq!(snap_frame_rate(1e9 / 33_333_333.0), 30.0);
        assert_eq!(snap_frame_rate(1e9 / 33_366_667.0), 30_000.0 / 1001.0);
        assert_eq!(snap_frame_rate(1e9 / 41_708_333.0), 24_000.0 / 1001.0);
        assert_eq!(snap_frame_rate(12.5), 12.5);
    }

    #[test]
    fn vints_and_unknown_sizes() {
        assert_eq!(vint(&[0x81], 8), Some((1, 1)));
        assert_eq!(vint(&[0x40, 0x02], 8), Some((2, 2)));
        assert_eq!(vint(&[0x00, 0x02], 8), None);
        assert_eq!(vint(&[0x01], 8), None);
        let header = parse_header(&[0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).unwrap();
        assert_eq!(
            header,
            Header {
                id: SEGMENT,
                size: None,
                header_len: 12
            }
        );
        assert_eq!(parse_header(&[0x1A, 0x45, 0xDF]), None);
    }
}
