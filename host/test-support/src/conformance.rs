//! A conformance checker for vodpipe's published HLS output, and for the DASH MPD beside it.
//!
//! [`check`] reads a published directory the way a strict player or Apple's
//! `mediastreamvalidator` would: the master playlist and every playlist, segment, byte range
//! and init segment it references, the media measured with ffprobe. It returns every
//! violation, each naming its rule and citing RFC 8216 by section or Apple's *HLS Authoring
//! Specification for Apple Devices* by item. Apple renumbers its items between revisions; the
//! numbers here are those of the 2025 revision (for instance 1.13 "Key frames (IDRs) SHOULD be
//! present every two seconds" was 1.9 in 2017).
//!
//! Playlists are read twice. m3u8-rs gives their structure; a line-by-line reading catches
//! what a tolerant parser lets through (it files a tag it cannot read among the unknown ones,
//! keeps the last of two equal attributes, attaches an `EXT-X-MAP` to one segment only): the
//! RFC 8216 4.2 attribute-list grammar, attribute types, unknown and misplaced tags, the
//! `EXT-X-VERSION` each tag needs, with line numbers.
//!
//! Rates follow RFC 8216 4.1: a segment's size (its byte range, or its file; never its init
//! segment) over its `EXTINF`; the peak is the highest rate of any run of contiguous segments
//! lasting 0.5 to 1.5 target durations, the average all bits over all seconds.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use m3u8_rs::{AlternativeMedia, AlternativeMediaType, ExtTag, MasterPlaylist, MediaPlaylist, MediaPlaylistType};
use serde_json::Value as Json;

/// One way a published output breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule's name, e.g. `bandwidth-peak`.
    pub rule: &'static str,
    /// Where the rule is written, e.g. `RFC 8216 4.3.4.2; Apple HLS authoring 9.13`.
    pub citation: &'static str,
    /// The file (and line, or segment) at fault, relative to the output directory.
    pub at: String,
    /// What was found, with what was measured.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({}; {})", self.at, self.message, self.rule, self.citation)
    }
}

/// Checks the HLS master playlist at `master` and everything it references; and the DASH MPD
/// beside it (`<stem>.mpd`) when one exists.
pub fn check(master: &Path) -> Vec<Violation> {
    let mut checker = Checker {
        dir: master.parent().unwrap_or(Path::new(".")).to_path_buf(),
        violations: Vec::new(),
    };
    checker.run(master);
    checker.violations
}

/// Panics listing every violation.
pub fn assert_conformant(master: &Path) {
    let violations = check(master);
    if !violations.is_empty() {
        let list: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
        panic!(
            "{} breaks {} conformance rule(s):\n{}",
            master.display(),
            violations.len(),
            list.join("\n")
        );
    }
}

/// A rule's name and where it is written.
#[derive(Clone, Copy, Debug)]
struct Rule {
    name: &'static str,
    citation: &'static str,
}

const fn rule(name: &'static str, citation: &'static str) -> Rule {
    Rule { name, citation }
}

// 1. Syntax; and `syntax-tag` (a tag's value or place), cited at the tag's section: `tag_rule`.
const EXTM3U: Rule = rule("syntax-extm3u", "RFC 8216 4.1, 4.3.1.1");
const UNKNOWN_TAG: Rule = rule("syntax-unknown-tag", "RFC 8216 4.3");
const ATTRIBUTE_LIST: Rule = rule("syntax-attribute-list", "RFC 8216 4.2");
const LINES: Rule = rule("syntax-lines", "RFC 8216 4.1");
const URI: Rule = rule("syntax-uri", "RFC 8216 4.1");
const VERSION: Rule = rule("syntax-version", "RFC 8216 7, 4.3.1.2");
const BYTERANGE: Rule = rule("byterange-inside-file", "RFC 8216 4.3.2.2");
// 2.
const INDEPENDENT: Rule = rule(
    "independent-segments",
    "Apple HLS authoring 9.11, 9.12; RFC 8216 4.3.5.1",
);
// 3. Media playlists.
const PLAYLIST_TYPE: Rule = rule("vod-playlist-type", "Apple HLS authoring 8.6; RFC 8216 4.3.3.5");
const ENDLIST: Rule = rule("vod-endlist", "RFC 8216 4.3.3.4, 4.3.3.5");
const TARGET_DURATION: Rule = rule("target-duration", "RFC 8216 4.3.3.1; Apple HLS authoring 7.7");
const SAME_TARGET: Rule = rule("target-duration-consistent", "RFC 8216 6.2.4; Apple HLS authoring 8.2");
// 4.
const IDR: Rule = rule("segment-starts-idr", "Apple HLS authoring 7.4; RFC 8216 4.3.5.1");
// 5.
const PEAK: Rule = rule("bandwidth-peak", "RFC 8216 4.3.4.2, 4.1; Apple HLS authoring 9.13");
const PEAK_ACCURACY: Rule = rule("bandwidth-accuracy", "Apple HLS authoring 1.27");
const AVERAGE: Rule = rule("average-bandwidth", "Apple HLS authoring 1.26, 9.14; RFC 8216 4.3.4.2");
// 6.
const VARIANT_ATTRIBUTES: Rule = rule("variant-attributes", "Apple HLS authoring 9.1, 9.2, 9.15");
const CODECS: Rule = rule("codecs-accuracy", "RFC 8216 4.3.4.2; Apple HLS authoring 9.1");
const RESOLUTION: Rule = rule("resolution-accuracy", "RFC 8216 4.3.4.2; Apple HLS authoring 9.2");
const FRAME_RATE: Rule = rule("frame-rate-accuracy", "RFC 8216 4.3.4.2; Apple HLS authoring 9.15");
// 7.
const IFRAME_MISSING: Rule = rule("iframe-playlist-missing", "Apple HLS authoring 6.1; RFC 8216 4.3.4.3");
const IFRAMES_ONLY: Rule = rule("iframe-playlist-tag", "Apple HLS authoring 6.8; RFC 8216 4.3.3.6");
const IFRAME_DECODE: Rule = rule("iframe-decode", "RFC 8216 4.3.3.6; Apple HLS authoring 6.10");
const IFRAME_BANDWIDTH: Rule = rule("iframe-bandwidth", "RFC 8216 4.3.4.3, 4.1; Apple HLS authoring 6.9");
const IFRAME_BANDWIDTH_ACCURACY: Rule = rule(
    "iframe-bandwidth-accuracy",
    "Apple HLS authoring 6.9, 1.27; RFC 8216 4.1",
);
const IFRAME_ATTRIBUTES: Rule = rule("iframe-attributes", "Apple HLS authoring 9.3, 9.4; RFC 8216 4.3.4.3");
// 8.
const AUDIO_GROUP: Rule = rule("audio-group-missing", "RFC 8216 4.3.4.2");
const GROUP_DEFAULT: Rule = rule("audio-group-default", "RFC 8216 4.3.4.1.1");
const MEDIA_ATTRIBUTES: Rule = rule("media-attributes", "RFC 8216 4.3.4.1");
const AUTOSELECT: Rule = rule("media-autoselect", "RFC 8216 4.3.4.1");
const LANGUAGE: Rule = rule("media-language", "RFC 8216 4.3.4.1; RFC 5646 2.1");
const LANGUAGE_MISSING: Rule = rule("media-language-missing", "Apple HLS authoring 8.10");
const AUDIO_CONTENT: Rule = rule("audio-rendition-content", "RFC 8216 4.3.4.2.1; Apple HLS authoring 8.9");
// 9.
const ALIGNMENT: Rule = rule("segment-alignment", "Apple HLS authoring 8.22; RFC 8216 6.2.4");
// 10.
const DASH_READABLE: Rule = rule("dash-readable", "ISO/IEC 23009-1 (MPD)");
const DASH_FILES: Rule = rule("dash-segment-files", "ISO/IEC 23009-1 (SegmentTemplate)");
const DASH_TIMELINE: Rule = rule("dash-timeline-duration", "ISO/IEC 23009-1 (SegmentTimeline)");

/// Where a tag may appear.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Any,
    Master,
    Media,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Master,
    Media,
}

/// The tags RFC 8216 defines, where each may appear and the section defining it.
const TAGS: [(&str, Place, &str); 22] = [
    ("EXTM3U", Place::Any, "RFC 8216 4.3.1.1"),
    ("EXT-X-VERSION", Place::Any, "RFC 8216 4.3.1.2"),
    ("EXTINF", Place::Media, "RFC 8216 4.3.2.1"),
    ("EXT-X-BYTERANGE", Place::Media, "RFC 8216 4.3.2.2"),
    ("EXT-X-DISCONTINUITY", Place::Media, "RFC 8216 4.3.2.3"),
    ("EXT-X-KEY", Place::Media, "RFC 8216 4.3.2.4"),
    ("EXT-X-MAP", Place::Media, "RFC 8216 4.3.2.5"),
    ("EXT-X-PROGRAM-DATE-TIME", Place::Media, "RFC 8216 4.3.2.6"),
    ("EXT-X-DATERANGE", Place::Media, "RFC 8216 4.3.2.7"),
    ("EXT-X-TARGETDURATION", Place::Media, "RFC 8216 4.3.3.1"),
    ("EXT-X-MEDIA-SEQUENCE", Place::Media, "RFC 8216 4.3.3.2"),
    ("EXT-X-DISCONTINUITY-SEQUENCE", Place::Media, "RFC 8216 4.3.3.3"),
    ("EXT-X-ENDLIST", Place::Media, "RFC 8216 4.3.3.4"),
    ("EXT-X-PLAYLIST-TYPE", Place::Media, "RFC 8216 4.3.3.5"),
    ("EXT-X-I-FRAMES-ONLY", Place::Media, "RFC 8216 4.3.3.6"),
    ("EXT-X-MEDIA", Place::Master, "RFC 8216 4.3.4.1"),
    ("EXT-X-STREAM-INF", Place::Master, "RFC 8216 4.3.4.2"),
    ("EXT-X-I-FRAME-STREAM-INF", Place::Master, "RFC 8216 4.3.4.3"),
    ("EXT-X-SESSION-DATA", Place::Master, "RFC 8216 4.3.4.4"),
    ("EXT-X-SESSION-KEY", Place::Master, "RFC 8216 4.3.4.5"),
    ("EXT-X-INDEPENDENT-SEGMENTS", Place::Any, "RFC 8216 4.3.5.1"),
    ("EXT-X-START", Place::Any, "RFC 8216 4.3.5.2"),
];

/// Tags a playlist holds at most once.
const ONCE: [&str; 9] = [
    "EXT-X-VERSION",
    "EXT-X-TARGETDURATION",
    "EXT-X-MEDIA-SEQUENCE",
    "EXT-X-DISCONTINUITY-SEQUENCE",
    "EXT-X-PLAYLIST-TYPE",
    "EXT-X-I-FRAMES-ONLY",
    "EXT-X-ENDLIST",
    "EXT-X-INDEPENDENT-SEGMENTS",
    "EXT-X-START",
];

/// The `syntax-tag` rule cited at the section defining `tag`.
fn tag_rule(tag: &str) -> Rule {
    let citation = TAGS
        .iter()
        .find(|(t, _, _)| *t == tag)
        .map_or("RFC 8216 4.3", |(_, _, c)| *c);
    rule("syntax-tag", citation)
}

/// An attribute value's type (RFC 8216 4.2).
#[derive(Clone, Copy)]
enum Ty {
    Int,
    Float,
    SignedFloat,
    Quoted,
    Enum(&'static [&'static str]),
    Resolution,
    Hex,
    QuotedOrNone,
}

const YES_NO: &[&str] = &["YES", "NO"];

fn attribute_type(tag: &str, name: &str) -> Option<Ty> {
    Some(match (tag, name) {
        ("EXT-X-STREAM-INF" | "EXT-X-I-FRAME-STREAM-INF", "BANDWIDTH" | "AVERAGE-BANDWIDTH" | "PROGRAM-ID") => Ty::Int,
        ("EXT-X-STREAM-INF" | "EXT-X-I-FRAME-STREAM-INF", "CODECS" | "VIDEO" | "URI") => Ty::Quoted,
        ("EXT-X-STREAM-INF" | "EXT-X-I-FRAME-STREAM-INF", "RESOLUTION") => Ty::Resolution,
        ("EXT-X-STREAM-INF" | "EXT-X-I-FRAME-STREAM-INF", "HDCP-LEVEL") => Ty::Enum(&["TYPE-0", "NONE"]),
        ("EXT-X-STREAM-INF", "FRAME-RATE") => Ty::Float,
        ("EXT-X-STREAM-INF", "AUDIO" | "SUBTITLES") => Ty::Quoted,
        ("EXT-X-STREAM-INF", "CLOSED-CAPTIONS") => Ty::QuotedOrNone,
        ("EXT-X-MEDIA", "TYPE") => Ty::Enum(&["AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"]),
        ("EXT-X-MEDIA", "DEFAULT" | "AUTOSELECT" | "FORCED") => Ty::Enum(YES_NO),
        (
            "EXT-X-MEDIA",
            "URI" | "GROUP-ID" | "LANGUAGE" | "ASSOC-LANGUAGE" | "NAME" | "INSTREAM-ID" | "CHARACTERISTICS"
            | "CHANNELS",
        ) => Ty::Quoted,
        ("EXT-X-MAP", "URI" | "BYTERANGE") => Ty::Quoted,
        ("EXT-X-KEY" | "EXT-X-SESSION-KEY", "METHOD") => Ty::Enum(&["NONE", "AES-128", "SAMPLE-AES"]),
        ("EXT-X-KEY" | "EXT-X-SESSION-KEY", "URI" | "KEYFORMAT" | "KEYFORMATVERSIONS") => Ty::Quoted,
        ("EXT-X-KEY" | "EXT-X-SESSION-KEY", "IV") => Ty::Hex,
        ("EXT-X-SESSION-DATA", "DATA-ID" | "VALUE" | "URI" | "LANGUAGE") => Ty::Quoted,
        ("EXT-X-START", "TIME-OFFSET") => Ty::SignedFloat,
        ("EXT-X-START", "PRECISE") => Ty::Enum(YES_NO),
        _ => return None,
    })
}

/// Attributes a tag must carry; `EXT-X-MEDIA`'s are rule 8's.
fn required_attributes(tag: &str) -> &'static [&'static str] {
    match tag {
        "EXT-X-STREAM-INF" => &["BANDWIDTH"],
        "EXT-X-I-FRAME-STREAM-INF" => &["BANDWIDTH", "URI"],
        "EXT-X-MAP" => &["URI"],
        "EXT-X-KEY" | "EXT-X-SESSION-KEY" => &["METHOD"],
        "EXT-X-SESSION-DATA" => &["DATA-ID"],
        "EXT-X-START" => &["TIME-OFFSET"],
        _ => &[],
    }
}

#[derive(Debug, Clone)]
struct Attr {
    name: String,
    value: String,
    quoted: bool,
}

/// RFC 8216 4.2: `NAME=value` pairs separated by commas, without whitespace; a name of
/// `[A-Z0-9-]`, a quoted string without `"`, an unquoted value without `"`, comma or
/// whitespace; no name twice.
fn parse_attributes(text: &str) -> Result<Vec<Attr>, String> {
    let mut attrs: Vec<Attr> = Vec::new();
    let mut rest = text;
    loop {
        let (name, after) = rest
            .split_once('=')
            .ok_or_else(|| format!("`{rest}` is not an AttributeName=AttributeValue pair"))?;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(format!("`{name}` is not an AttributeName ([A-Z0-9-]+)"));
        }
        let (value, quoted, after) = match after.strip_prefix('"') {
            Some(q) => {
                let end = q
                    .find('"')
                    .ok_or_else(|| format!("{name}: the quoted string is not closed"))?;
                (&q[..end], true, &q[end + 1..])
            }
            None => {
                let end = after.find(',').unwrap_or(after.len());
                let v = &after[..end];
                if v.is_empty() {
                    return Err(format!("{name} has no value"));
                }
                if v.contains(|c: char| c == '"' || c.is_whitespace()) {
                    return Err(format!("{name}={v}: an unquoted value holds no quote or whitespace"));
                }
                (v, false, &after[end..])
            }
        };
        if attrs.iter().any(|a| a.name == name) {
            return Err(format!("{name} appears twice"));
        }
        attrs.push(Attr {
            name: name.to_owned(),
            value: value.to_owned(),
            quoted,
        });
        if after.is_empty() {
            return Ok(attrs);
        }
        rest = after
            .strip_prefix(',')
            .ok_or_else(|| format!("`{after}` follows {name}: a comma was expected"))?;
        if rest.is_empty() {
            return Err("the list ends with a comma".to_owned());
        }
    }
}

fn is_decimal_integer(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_decimal_float(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|&b| b == b'.').count() <= 1
}

/// Whether `attr` is of type `ty`; a description of what it should be when not.
fn type_problem(attr: &Attr, ty: Ty) -> Option<String> {
    let (v, q) = (attr.value.as_str(), attr.quoted);
    let ok = match ty {
        Ty::Int => !q && is_decimal_integer(v),
        Ty::Float => !q && is_decimal_float(v),
        Ty::SignedFloat => !q && is_decimal_float(v.strip_prefix('-').unwrap_or(v)),
        Ty::Quoted => q,
        Ty::Enum(values) => !q && (values.is_empty() || values.contains(&v)),
        Ty::Resolution => {
            !q && v
                .split_once('x')
                .is_some_and(|(w, h)| is_decimal_integer(w) && is_decimal_integer(h))
        }
        Ty::Hex => {
            !q && (v.starts_with("0x") || v.starts_with("0X"))
                && v.len() > 2
                && v[2..].bytes().all(|b| b.is_ascii_hexdigit())
        }
        Ty::QuotedOrNone => q || v == "NONE",
    };
    if ok {
        return None;
    }
    let what = match ty {
        Ty::Int => "a decimal-integer".to_owned(),
        Ty::Float => "a decimal-floating-point".to_owned(),
        Ty::SignedFloat => "a signed-decimal-floating-point".to_owned(),
        Ty::Quoted => "a quoted-string".to_owned(),
        Ty::Enum(values) => format!("one of {}", values.join(", ")),
        Ty::Resolution => "a decimal-resolution (WxH)".to_owned(),
        Ty::Hex => "a hexadecimal-sequence".to_owned(),
        Ty::QuotedOrNone => "a quoted-string or NONE".to_owned(),
    };
    let shown = if q { format!("\"{v}\"") } else { v.to_owned() };
    Some(format!("{}={shown} is not {what}", attr.name))
}

fn attr<'a>(attrs: &'a [Attr], name: &str) -> Option<&'a Attr> {
    attrs.iter().find(|a| a.name == name)
}

/// A media segment as a player fetches it.
#[derive(Clone, Debug)]
struct Segment {
    uri: String,
    path: PathBuf,
    duration: f64,
    /// Offset and length of its byte range.
    range: Option<(u64, u64)>,
    init: Option<Init>,
    file_size: Option<u64>,
}

impl Segment {
    /// Bytes a player downloads for it: its byte range, or its file.
    fn size(&self) -> Option<u64> {
        match self.range {
            Some((_, length)) => Some(length),
            None => self.file_size,
        }
    }
}

/// The media initialization section (`EXT-X-MAP`) a segment needs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Init {
    path: PathBuf,
    range: Option<(u64, u64)>,
}

/// A media playlist, read.
struct Media {
    name: String,
    playlist: MediaPlaylist,
    segments: Vec<Segment>,
}

impl Media {
    fn total(&self) -> f64 {
        self.segments.iter().map(|s| s.duration).sum()
    }

    fn rates(&self) -> Option<Rates> {
        let sizes: Option<Vec<(u64, f64)>> = self
            .segments
            .iter()
            .map(|s| s.size().map(|b| (b, s.duration)))
            .collect();
        rates(&sizes?, self.playlist.target_duration)
    }

    fn segment_at(&self, index: usize) -> String {
        format!("{} segment {} ({})", self.name, index + 1, self.segments[index].uri)
    }
}

/// Peak and average segment bit rates (RFC 8216 4.1), bits per second.
#[derive(Clone, Copy, Debug)]
struct Rates {
    peak: f64,
    average: f64,
    /// Where the peak's run of segments starts, and how many it holds.
    peak_at: (usize, usize),
}

/// RFC 8216 4.1: the peak is the largest rate of any contiguous set of segments whose total
/// duration is between 0.5 and 1.5 target durations (the whole playlist when none is); the
/// average, every bit over every second.
fn rates(sizes: &[(u64, f64)], target: u64) -> Option<Rates> {
    let bits: f64 = sizes.iter().map(|(b, _)| *b as f64 * 8.0).sum();
    let seconds: f64 = sizes.iter().map(|(_, d)| d).sum();
    if seconds <= 0.0 {
        return None;
    }
    let average = bits / seconds;
    let (low, high) = (0.5 * target as f64 - 1e-9, 1.5 * target as f64 + 1e-9);
    let mut best: Option<(f64, (usize, usize))> = None;
    for start in 0..sizes.len() {
        let (mut b, mut d) = (0.0, 0.0);
        for (end, (size, duration)) in sizes.iter().enumerate().skip(start) {
            b += *size as f64 * 8.0;
            d += duration;
            if d > high {
                break;
            }
            if d >= low && d > 0.0 && best.is_none_or(|(rate, _)| b / d > rate) {
                best = Some((b / d, (start, end + 1 - start)));
            }
        }
    }
    let (peak, peak_at) = best.unwrap_or((average, (0, sizes.len())));
    Some(Rates { peak, average, peak_at })
}

/// A stream as ffprobe describes it.
#[derive(Clone, Debug, Default)]
struct Video {
    codec: String,
    profile: Option<String>,
    level: Option<i64>,
    /// Bits per sample, from the pixel format (`yuv420p10le`: 10).
    bit_depth: Option<u8>,
    width: u64,
    height: u64,
    rate: Option<f64>,
}

#[derive(Clone, Debug)]
struct Audio {
    codec: String,
    profile: Option<String>,
}

#[derive(Clone, Debug, Default)]
struct Streams {
    video: Option<Video>,
    audio: Vec<Audio>,
}

/// An audio rendition (`EXT-X-MEDIA:TYPE=AUDIO`) with what was read of it.
struct Rendition {
    media: AlternativeMedia,
    playlist: Option<Media>,
    streams: Option<Streams>,
    rates: Option<Rates>,
}

/// A variant (`EXT-X-STREAM-INF`) with what was read of it.
struct Variant {
    stream: m3u8_rs::VariantStream,
    at: String,
    playlist: Option<Media>,
    streams: Option<Streams>,
}

struct Checker {
    dir: PathBuf,
    violations: Vec<Violation>,
}

impl Checker {
    fn report(&mut self, rule: Rule, at: impl Into<String>, message: impl Into<String>) {
        self.violations.push(Violation {
            rule: rule.name,
            citation: rule.citation,
            at: at.into(),
            message: message.into(),
        });
    }

    /// `path` relative to the output directory, for messages.
    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.dir).unwrap_or(path).display().to_string()
    }

    fn run(&mut self, master_path: &Path) {
        let name = self.rel(master_path);
        let text = match fs::read_to_string(master_path) {
            Ok(text) => text,
            Err(e) => return self.report(URI, name, format!("cannot read the master playlist: {e}")),
        };
        let flagged = self.lint(&name, master_path, &text, Kind::Master);
        let master = match m3u8_rs::parse_master_playlist_res(text.as_bytes()) {
            Ok(master) => master,
            Err(e) => {
                return self.report(
                    LINES,
                    name,
                    format!("m3u8-rs cannot read it as a master playlist: {e:?}"),
                );
            }
        };
        self.unread_tags(&name, master.unknown_tags.iter(), &flagged);

        // 2. EXT-X-INDEPENDENT-SEGMENTS.
        if !master.independent_segments {
            self.report(
                INDEPENDENT,
                &name,
                "no EXT-X-INDEPENDENT-SEGMENTS: players cannot assume each segment decodes on its own",
            );
        }

        let renditions = self.renditions(&name, &master);
        let mut variants = Vec::new();
        for (index, stream) in master.variants.iter().filter(|v| !v.is_i_frame).enumerate() {
            let at = format!("{name} variant {} ({})", index + 1, stream.uri);
            let dir = self.dir.clone();
            let playlist = self.load_media(&stream.uri, &dir);
            let streams = playlist.as_ref().and_then(|p| self.probe_first(p));
            variants.push(Variant {
                stream: stream.clone(),
                at,
                playlist,
                streams,
            });
        }
        for variant in &variants {
            self.check_variant(variant, &renditions);
        }
        self.check_target_durations(&variants, &renditions);
        self.check_alignment(&variants);
        self.check_i_frames(&name, &master, &variants);
        self.check_dash(master_path, &variants, &renditions);
    }

    /// Reads, lints and checks (rule 3) the media playlist at `uri` relative to `base`.
    fn load_media(&mut self, uri: &str, base: &Path) -> Option<Media> {
        let path = base.join(uri);
        if !path.is_file() {
            // The missing file was reported where it was referenced.
            return None;
        }
        let name = self.rel(&path);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                self.report(URI, &name, format!("cannot read the playlist: {e}"));
                return None;
            }
        };
        let flagged = self.lint(&name, &path, &text, Kind::Media);
        let playlist = match m3u8_rs::parse_media_playlist_res(text.as_bytes()) {
            Ok(p) => p,
            Err(e) => {
                self.report(
                    LINES,
                    &name,
                    format!("m3u8-rs cannot read it as a media playlist: {e:?}"),
                );
                return None;
            }
        };
        let unknown: Vec<ExtTag> = playlist
            .unknown_tags
            .iter()
            .chain(playlist.segments.iter().flat_map(|s| s.unknown_tags.iter()))
            .cloned()
            .collect();
        self.unread_tags(&name, unknown.iter(), &flagged);

        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut segments = Vec::new();
        let mut init: Option<Init> = None;
        let mut previous_end: Option<(PathBuf, u64)> = None;
        for s in &playlist.segments {
            // m3u8-rs attaches an EXT-X-MAP to the segment after it only; it applies to every
            // segment up to the next one (RFC 8216 4.3.2.5).
            if let Some(map) = &s.map {
                init = Some(Init {
                    path: dir.join(&map.uri),
                    range: map.byte_range.as_ref().map(|r| (r.offset.unwrap_or(0), r.length)),
                });
            }
            let segment_path = dir.join(&s.uri);
            let range = s.byte_range.as_ref().map(|r| {
                let offset = r.offset.unwrap_or_else(|| match &previous_end {
                    Some((p, end)) if *p == segment_path => *end,
                    _ => 0,
                });
                (offset, r.length)
            });
            previous_end = range.map(|(o, l)| (segment_path.clone(), o + l));
            let file_size = fs::metadata(&segment_path).ok().map(|m| m.len());
            segments.push(Segment {
                uri: s.uri.clone(),
                path: segment_path,
                duration: f64::from(s.duration),
                range,
                init: init.clone(),
                file_size,
            });
        }
        let media = Media {
            name,
            playlist,
            segments,
        };
        self.check_media(&media);
        Some(media)
    }

    /// Rule 3, and byte ranges inside their files.
    fn check_media(&mut self, media: &Media) {
        let name = media.name.clone();
        if media.playlist.playlist_type != Some(MediaPlaylistType::Vod) {
            let found = match &media.playlist.playlist_type {
                Some(t) => format!("EXT-X-PLAYLIST-TYPE:{t}"),
                None => "no EXT-X-PLAYLIST-TYPE".to_owned(),
            };
            self.report(
                PLAYLIST_TYPE,
                &name,
                format!("{found}; a published VOD playlist is VOD"),
            );
        }
        if !media.playlist.end_list {
            self.report(ENDLIST, &name, "no EXT-X-ENDLIST: players take it for a live playlist");
        }
        let target = media.playlist.target_duration;
        let mut inits_checked: HashSet<&Init> = HashSet::new();
        for (i, s) in media.segments.iter().enumerate() {
            if s.duration.round() as u64 > target {
                self.report(
                    TARGET_DURATION,
                    media.segment_at(i),
                    format!(
                        "EXTINF {:.6} s rounds to {} s, above EXT-X-TARGETDURATION {target}",
                        s.duration,
                        s.duration.round()
                    ),
                );
            }
            for (what, path, range) in [("segment", &s.path, s.range)].into_iter().chain(
                s.init
                    .iter()
                    .filter(|i| inits_checked.insert(i))
                    .map(|i| ("init segment", &i.path, i.range)),
            ) {
                if let (Some((offset, length)), Ok(meta)) = (range, fs::metadata(path))
                    && offset + length > meta.len()
                {
                    self.report(
                        BYTERANGE,
                        media.segment_at(i),
                        format!(
                            "the {what}'s byte range {length}@{offset} ends at byte {}, past the end of {} ({} bytes)",
                            offset + length,
                            self.rel(path),
                            meta.len()
                        ),
                    );
                }
            }
        }
    }

    /// The audio renditions of the master, read, with rule 8's checks on the `EXT-X-MEDIA`
    /// tags.
    fn renditions(&mut self, name: &str, master: &MasterPlaylist) -> Vec<Rendition> {
        let mut renditions = Vec::new();
        let mut groups: BTreeMap<String, usize> = BTreeMap::new();
        for media in &master.alternatives {
            let at = format!("{name} EXT-X-MEDIA {} \"{}\"", media.group_id, media.name);
            if media.default && !media.autoselect {
                self.report(AUTOSELECT, &at, "DEFAULT=YES without AUTOSELECT=YES");
            }
            match &media.language {
                Some(language) if !is_bcp47(language) => {
                    self.report(
                        LANGUAGE,
                        &at,
                        format!("LANGUAGE=\"{language}\" is not a well-formed BCP 47 tag"),
                    );
                }
                None if media.media_type != AlternativeMediaType::Video => {
                    self.report(LANGUAGE_MISSING, &at, "no LANGUAGE attribute");
                }
                _ => {}
            }
            if media.media_type != AlternativeMediaType::Audio {
                continue;
            }
            *groups.entry(media.group_id.clone()).or_default() += usize::from(media.default);
            let dir = self.dir.clone();
            let playlist = media.uri.as_ref().and_then(|uri| self.load_media(uri, &dir));
            let streams = playlist.as_ref().and_then(|p| self.probe_first(p));
            if let (Some(p), Some(s)) = (&playlist, &streams) {
                if s.video.is_some() {
                    self.report(
                        AUDIO_CONTENT,
                        p.segment_at(0),
                        "the audio rendition's segment carries video",
                    );
                }
                if s.audio.is_empty() {
                    self.report(
                        AUDIO_CONTENT,
                        p.segment_at(0),
                        "the audio rendition's segment carries no audio",
                    );
                }
            }
            let rates = playlist.as_ref().and_then(Media::rates);
            renditions.push(Rendition {
                media: media.clone(),
                playlist,
                streams,
                rates,
            });
        }
        for (group, defaults) in groups {
            if defaults != 1 {
                self.report(
                    GROUP_DEFAULT,
                    format!("{name} GROUP-ID \"{group}\""),
                    format!("the audio group has {defaults} renditions with DEFAULT=YES, not one"),
                );
            }
        }
        renditions
    }

    /// Rules 4, 5, 6 and 8's on one variant.
    fn check_variant(&mut self, variant: &Variant, renditions: &[Rendition]) {
        let v = &variant.stream;
        let at = variant.at.clone();
        let group: Vec<&Rendition> = match &v.audio {
            Some(id) => {
                let group: Vec<&Rendition> = renditions.iter().filter(|r| &r.media.group_id == id).collect();
                if group.is_empty() {
                    self.report(
                        AUDIO_GROUP,
                        &at,
                        format!("AUDIO=\"{id}\" names no EXT-X-MEDIA:TYPE=AUDIO group"),
                    );
                }
                group
            }
            None => Vec::new(),
        };
        let video = variant.streams.as_ref().and_then(|s| s.video.clone());

        // 6. Attributes present.
        if v.codecs.is_none() {
            self.report(VARIANT_ATTRIBUTES, &at, "no CODECS attribute");
        }
        if video.is_some() && v.resolution.is_none() {
            self.report(
                VARIANT_ATTRIBUTES,
                &at,
                "no RESOLUTION attribute on a variant with video",
            );
        }
        if video.is_some() && v.frame_rate.is_none() {
            self.report(
                VARIANT_ATTRIBUTES,
                &at,
                "no FRAME-RATE attribute on a variant with video",
            );
        }
        let Some(playlist) = &variant.playlist else {
            return;
        };

        // 4. An IDR at every segment start.
        if video.is_some() {
            for (i, result) in parallel(&playlist.segments, starts_with_idr).into_iter().enumerate() {
                if let Err(problem) = result {
                    self.report(IDR, playlist.segment_at(i), problem);
                }
            }
        }

        // 8. A variant with an AUDIO group has no audio of its own (unless a rendition of the
        // group says, by having no URI, that its audio is the variant's).
        let own_audio = variant.streams.as_ref().map(|s| s.audio.clone()).unwrap_or_default();
        if !group.is_empty() && !own_audio.is_empty() && group.iter().all(|r| r.media.uri.is_some()) {
            self.report(
                AUDIO_CONTENT,
                playlist.segment_at(0),
                format!(
                    "the variant's own segments carry {} audio stream(s) besides its AUDIO group's renditions",
                    own_audio.len()
                ),
            );
        }

        // 5. BANDWIDTH and AVERAGE-BANDWIDTH against the measured rates.
        if let Some(video_rates) = playlist.rates() {
            let audio_rates: Vec<(&str, Rates)> = group
                .iter()
                .filter_map(|r| Some((r.media.name.as_str(), r.rates?)))
                .collect();
            let audio_peak = audio_rates.iter().map(|(_, r)| r.peak).fold(0.0, f64::max);
            let audio_average = audio_rates.iter().map(|(_, r)| r.average).fold(0.0, f64::max);
            let peak = video_rates.peak + audio_peak;
            let average = video_rates.average + audio_average;
            let (start, count) = video_rates.peak_at;
            let mut measured = format!(
                "measured peak {peak:.0} bit/s ({} over segments {}..={} of {}",
                bits(video_rates.peak),
                start + 1,
                start + count,
                playlist.name
            );
            if !audio_rates.is_empty() {
                measured.push_str(&format!(" + {} audio", bits(audio_peak)));
            }
            measured.push(')');
            let declared = v.bandwidth as f64;
            // An integer attribute: a measured peak a bit per second above it is rounding.
            if declared + 1.0 < peak {
                self.report(PEAK, &at, format!("BANDWIDTH={} is below the {measured}", v.bandwidth));
            } else if peak < 0.9 * declared {
                self.report(
                    PEAK_ACCURACY,
                    &at,
                    format!(
                        "BANDWIDTH={} is {:.0}% above the {measured}; VOD peaks are within 10% of it",
                        v.bandwidth,
                        (declared / peak - 1.0) * 100.0
                    ),
                );
            }
            match v.average_bandwidth {
                None => self.report(AVERAGE, &at, "no AVERAGE-BANDWIDTH attribute"),
                Some(declared) if (average - declared as f64).abs() > 0.1 * declared as f64 => self.report(
                    AVERAGE,
                    &at,
                    format!(
                        "AVERAGE-BANDWIDTH={declared} but the measured average is {average:.0} bit/s \
                         ({} video{}), {:+.1}% off",
                        bits(video_rates.average),
                        if audio_rates.is_empty() {
                            String::new()
                        } else {
                            format!(" + {} audio", bits(audio_average))
                        },
                        (average / declared as f64 - 1.0) * 100.0
                    ),
                ),
                Some(_) => {}
            }
        }

        // 6. CODECS, RESOLUTION and FRAME-RATE true to the stream.
        let Some(streams) = &variant.streams else {
            return;
        };
        if let Some(codecs) = &v.codecs {
            let entries: Vec<&str> = codecs.split(',').map(str::trim).collect();
            let video_entry = entries.iter().find(|e| is_video_codec(e));
            match (&video, video_entry) {
                (Some(video), Some(entry)) => {
                    if let Some(problem) = video_codec_problem(entry, video) {
                        self.report(CODECS, &at, problem);
                    }
                }
                (Some(video), None) => self.report(
                    CODECS,
                    &at,
                    format!(
                        "CODECS=\"{codecs}\" names no video codec, but the stream has {} video",
                        video.codec
                    ),
                ),
                (None, Some(entry)) => self.report(
                    CODECS,
                    &at,
                    format!("CODECS names {entry}, but the segments carry no video"),
                ),
                (None, None) => {}
            }
            let audio: Vec<Audio> = if group.is_empty() {
                streams.audio.clone()
            } else {
                group
                    .iter()
                    .filter_map(|r| r.streams.as_ref())
                    .flat_map(|s| s.audio.clone())
                    .collect()
            };
            let listed: Vec<&str> = entries.iter().copied().filter(|e| is_audio_codec(e)).collect();
            if audio.is_empty() {
                if !listed.is_empty() {
                    self.report(
                        CODECS,
                        &at,
                        format!("CODECS lists {} but the variant has no audio", listed.join(",")),
                    );
                }
            } else {
                for a in &audio {
                    match audio_codec_string(a) {
                        Some(expected) if !entries.contains(&expected) => self.report(
                            CODECS,
                            &at,
                            format!(
                                "CODECS=\"{codecs}\" lacks {expected}, the variant's {} {} audio",
                                a.codec,
                                a.profile.as_deref().unwrap_or("")
                            ),
                        ),
                        None if listed.is_empty() => self.report(
                            CODECS,
                            &at,
                            format!(
                                "CODECS=\"{codecs}\" names no audio codec, but the variant has {} audio",
                                a.codec
                            ),
                        ),
                        _ => {}
                    }
                }
            }
        }
        if let Some(video) = &video {
            if let Some(r) = &v.resolution
                && (r.width, r.height) != (video.width, video.height)
            {
                self.report(
                    RESOLUTION,
                    &at,
                    format!(
                        "RESOLUTION={}x{} but the stream is {}x{}",
                        r.width, r.height, video.width, video.height
                    ),
                );
            }
            if let (Some(declared), Some(rate)) = (v.frame_rate, video.rate)
                && (declared - rate).abs() > 0.001
            {
                self.report(
                    FRAME_RATE,
                    &at,
                    format!("FRAME-RATE={declared:.3} but the stream runs at {rate:.3} frames/s"),
                );
            }
        }
    }

    /// RFC 8216 6.2.4, Apple 8.2: every media playlist of the variants and their audio
    /// renditions has the same target duration (I-frame playlists may differ in VOD).
    fn check_target_durations(&mut self, variants: &[Variant], renditions: &[Rendition]) {
        let playlists: Vec<&Media> = variants
            .iter()
            .filter_map(|v| v.playlist.as_ref())
            .chain(renditions.iter().filter_map(|r| r.playlist.as_ref()))
            .collect();
        let Some(first) = playlists.first() else {
            return;
        };
        let (first_name, target) = (first.name.clone(), first.playlist.target_duration);
        for p in &playlists[1..] {
            if p.playlist.target_duration != target {
                self.report(
                    SAME_TARGET,
                    &p.name,
                    format!(
                        "EXT-X-TARGETDURATION {} differs from {first_name}'s {target}",
                        p.playlist.target_duration
                    ),
                );
            }
        }
    }

    /// Rule 9: every variant's segments have the same count and durations.
    fn check_alignment(&mut self, variants: &[Variant]) {
        let playlists: Vec<&Media> = variants.iter().filter_map(|v| v.playlist.as_ref()).collect();
        let Some(first) = playlists.first() else {
            return;
        };
        for p in &playlists[1..] {
            if p.segments.len() != first.segments.len() {
                self.report(
                    ALIGNMENT,
                    &p.name,
                    format!(
                        "{} segments, but {} has {}",
                        p.segments.len(),
                        first.name,
                        first.segments.len()
                    ),
                );
                continue;
            }
            let mismatch = p
                .segments
                .iter()
                .zip(&first.segments)
                .position(|(a, b)| (a.duration - b.duration).abs() > 0.001);
            if let Some(i) = mismatch {
                self.report(
                    ALIGNMENT,
                    p.segment_at(i),
                    format!(
                        "lasts {:.6} s, but segment {} of {} lasts {:.6} s: the variants' segment boundaries differ",
                        p.segments[i].duration,
                        i + 1,
                        first.name,
                        first.segments[i].duration
                    ),
                );
            }
        }
    }

    /// Rule 7: an I-frame playlist for every video variant, each valid.
    fn check_i_frames(&mut self, name: &str, master: &MasterPlaylist, variants: &[Variant]) {
        let mut covered: HashSet<usize> = HashSet::new();
        let i_frame_streams: Vec<&m3u8_rs::VariantStream> = master.variants.iter().filter(|v| v.is_i_frame).collect();
        for (index, stream) in i_frame_streams.iter().enumerate() {
            let at = format!("{name} I-frame stream {} ({})", index + 1, stream.uri);
            if stream.codecs.is_none() {
                self.report(IFRAME_ATTRIBUTES, &at, "no CODECS attribute");
            }
            if stream.resolution.is_none() {
                self.report(IFRAME_ATTRIBUTES, &at, "no RESOLUTION attribute");
            }
            let dir = self.dir.clone();
            let Some(playlist) = self.load_media(&stream.uri, &dir) else {
                continue;
            };
            // Its variant: the one whose segments it takes its frames from.
            let files: HashSet<&Path> = playlist.segments.iter().map(|s| s.path.as_path()).collect();
            let variant = variants.iter().position(|v| {
                v.playlist
                    .as_ref()
                    .is_some_and(|p| p.segments.iter().any(|s| files.contains(s.path.as_path())))
            });
            // Else a dedicated I-frame rendition: the first variant not yet matched at its RESOLUTION.
            let variant = variant.or_else(|| {
                variants.iter().enumerate().position(|(i, v)| {
                    !covered.contains(&i) && v.stream.resolution.is_some() && v.stream.resolution == stream.resolution
                })
            });
            if let Some(i) = variant {
                covered.insert(i);
            }
            self.check_i_frame_stream(&at, stream, &playlist, variant.map(|i| &variants[i]));
        }
        for (i, v) in variants.iter().enumerate() {
            let has_video = v.streams.as_ref().is_some_and(|s| s.video.is_some());
            if has_video && !covered.contains(&i) {
                self.report(
                    IFRAME_MISSING,
                    &v.at,
                    "no EXT-X-I-FRAME-STREAM-INF takes its frames from this variant or matches its RESOLUTION",
                );
            }
        }
    }

    fn check_i_frame_stream(
        &mut self,
        at: &str,
        stream: &m3u8_rs::VariantStream,
        playlist: &Media,
        variant: Option<&Variant>,
    ) {
        if !playlist.playlist.i_frames_only {
            self.report(
                IFRAMES_ONLY,
                &playlist.name,
                "an I-frame playlist without EXT-X-I-FRAMES-ONLY",
            );
        }
        let mut decoded: Option<Video> = None;
        let inside = |s: &Segment| {
            s.range
                .is_none_or(|(o, l)| s.file_size.is_none_or(|size| o + l <= size))
        };
        let results = parallel(&playlist.segments, |s| inside(s).then(|| decode_frames(s)));
        for (i, (segment, result)) in playlist.segments.iter().zip(results).enumerate() {
            // A range past its file was reported by check_media.
            let Some(result) = result else {
                continue;
            };
            match result {
                Ok((frames, stream_info, errors)) => {
                    let problem = match frames.as_slice() {
                        [(true, pict)] if pict == "I" && errors.is_empty() => None,
                        [(true, pict)] if pict == "I" => Some(format!("decodes to one I frame, with errors: {errors}")),
                        [(key, pict)] => Some(format!("decodes to one frame, but pict_type {pict}, key_frame {key}")),
                        _ => Some(format!(
                            "decodes to {} video frames ({}), not one{}",
                            frames.len(),
                            frames.iter().map(|(_, p)| p.as_str()).collect::<Vec<_>>().join(","),
                            if errors.is_empty() {
                                String::new()
                            } else {
                                format!("; {errors}")
                            }
                        )),
                    };
                    if let Some(problem) = problem {
                        let range = segment
                            .range
                            .map_or("the whole file".to_owned(), |(o, l)| format!("{l}@{o}"));
                        self.report(
                            IFRAME_DECODE,
                            playlist.segment_at(i),
                            format!("the range {range} {problem}"),
                        );
                    }
                    if decoded.is_none() {
                        decoded = stream_info;
                    }
                }
                Err(e) => self.report(IFRAME_DECODE, playlist.segment_at(i), e),
            }
        }
        if let Some(rates) = playlist.rates() {
            let (start, count) = rates.peak_at;
            let measured = format!(
                "the measured peak {} (range bytes over EXTINF, entries {}..={} of {})",
                bits(rates.peak),
                start + 1,
                start + count,
                playlist.name
            );
            let declared = stream.bandwidth as f64;
            if declared + 1.0 < rates.peak {
                self.report(
                    IFRAME_BANDWIDTH,
                    at,
                    format!("BANDWIDTH={} is below {measured}", stream.bandwidth),
                );
            } else if rates.peak < 0.9 * declared {
                self.report(
                    IFRAME_BANDWIDTH_ACCURACY,
                    at,
                    format!(
                        "BANDWIDTH={} is {:.0}% above {measured}; VOD peaks are within 10% of it",
                        stream.bandwidth,
                        (declared / rates.peak - 1.0) * 100.0
                    ),
                );
            }
        }
        // RESOLUTION and CODECS: its variant's video, and what its frames decode to.
        let variant_video = variant.and_then(|v| v.streams.as_ref()?.video.clone());
        let video = variant_video.or(decoded);
        if let (Some(r), Some(video)) = (&stream.resolution, &video)
            && (r.width, r.height) != (video.width, video.height)
        {
            self.report(
                IFRAME_ATTRIBUTES,
                at,
                format!(
                    "RESOLUTION={}x{} but its variant's video is {}x{}",
                    r.width, r.height, video.width, video.height
                ),
            );
        }
        if let Some(codecs) = &stream.codecs {
            let entries: Vec<&str> = codecs.split(',').map(str::trim).collect();
            if entries.iter().any(|e| is_audio_codec(e)) {
                self.report(
                    IFRAME_ATTRIBUTES,
                    at,
                    format!("CODECS=\"{codecs}\" names audio in an I-frame stream"),
                );
            }
            let variant_entry = variant
                .and_then(|v| v.stream.codecs.as_deref())
                .and_then(|c| c.split(',').map(str::trim).find(|e| is_video_codec(e)));
            match (entries.iter().find(|e| is_video_codec(e)), variant_entry, &video) {
                (None, _, _) => self.report(
                    IFRAME_ATTRIBUTES,
                    at,
                    format!("CODECS=\"{codecs}\" names no video codec"),
                ),
                (Some(entry), Some(expected), _) if *entry != expected => self.report(
                    IFRAME_ATTRIBUTES,
                    at,
                    format!("CODECS names {entry} but its variant's video is {expected}"),
                ),
                (Some(entry), _, Some(video)) => {
                    if let Some(problem) = video_codec_problem(entry, video) {
                        self.report(IFRAME_ATTRIBUTES, at, problem);
                    }
                }
                _ => {}
            }
        }
    }

    /// Rule 10: the DASH MPD beside the master, over the same files.
    fn check_dash(&mut self, master_path: &Path, variants: &[Variant], renditions: &[Rendition]) {
        let Some(stem) = master_path.file_stem() else {
            return;
        };
        let mpd_path = self.dir.join(format!("{}.mpd", stem.to_string_lossy()));
        if !mpd_path.is_file() {
            return;
        }
        let name = self.rel(&mpd_path);
        match probe_mpd(&mpd_path) {
            Err(e) => self.report(DASH_READABLE, &name, format!("ffprobe cannot read the MPD: {e}")),
            Ok(kinds) => {
                let video = kinds.iter().filter(|k| *k == "video").count();
                let audio = kinds.iter().filter(|k| *k == "audio").count();
                let hls_video = variants.len();
                let hls_audio = renditions.iter().filter(|r| r.media.uri.is_some()).count();
                if (video, audio) != (hls_video, hls_audio) {
                    self.report(
                        DASH_READABLE,
                        &name,
                        format!(
                            "ffprobe reads {video} video and {audio} audio streams, but the HLS master has \
                             {hls_video} variants and {hls_audio} audio renditions"
                        ),
                    );
                }
            }
        }
        let text = match fs::read_to_string(&mpd_path) {
            Ok(text) => text,
            Err(e) => return self.report(DASH_READABLE, &name, format!("cannot read: {e}")),
        };
        let document = match parse_xml(&text) {
            Ok(document) => document,
            Err(e) => return self.report(DASH_READABLE, &name, format!("not well-formed XML: {e}")),
        };
        let playlists: Vec<&Media> = variants
            .iter()
            .filter_map(|v| v.playlist.as_ref())
            .chain(renditions.iter().filter_map(|r| r.playlist.as_ref()))
            .collect();
        let Some(mpd) = document.children.iter().find(|e| e.name == "MPD") else {
            return self.report(DASH_READABLE, &name, "no MPD element");
        };
        for period in mpd.children_named("Period") {
            for set in period.children_named("AdaptationSet") {
                for representation in set.children_named("Representation") {
                    self.check_representation(&name, set, representation, &playlists);
                }
            }
        }
    }

    fn check_representation(&mut self, name: &str, set: &Element, representation: &Element, playlists: &[&Media]) {
        let id = representation.attr("id").unwrap_or("").to_owned();
        let at = format!("{name} Representation \"{id}\"");
        let bandwidth = representation.attr("bandwidth").unwrap_or("").to_owned();
        // A Representation's SegmentTemplate overrides its AdaptationSet's, attribute by attribute.
        let outer = set.children_named("SegmentTemplate").next();
        let inner = representation.children_named("SegmentTemplate").next();
        let Some(template) = inner.or(outer) else {
            return self.report(DASH_FILES, &at, "no SegmentTemplate");
        };
        let get = |key: &str| {
            inner
                .and_then(|t| t.attr(key))
                .or_else(|| outer.and_then(|t| t.attr(key)))
        };
        let timescale: u64 = get("timescale").and_then(|t| t.parse().ok()).unwrap_or(1);
        let start_number: u64 = get("startNumber").and_then(|t| t.parse().ok()).unwrap_or(1);
        let timeline = template
            .children_named("SegmentTimeline")
            .next()
            .or_else(|| outer.and_then(|o| o.children_named("SegmentTimeline").next()));
        let mut init_path = None;
        if let Some(initialization) = get("initialization") {
            match expand_template(initialization, &id, &bandwidth, start_number, 0) {
                Ok(file) => {
                    let path = self.dir.join(&file);
                    if !path.is_file() {
                        self.report(DASH_FILES, &at, format!("initialization {file} does not exist"));
                    }
                    init_path = Some(path);
                }
                Err(e) => self.report(DASH_FILES, &at, format!("initialization=\"{initialization}\": {e}")),
            }
        }
        let Some(timeline) = timeline else {
            return self.report(DASH_FILES, &at, "no SegmentTimeline");
        };
        let mut times: Vec<(u64, u64)> = Vec::new();
        let mut next = 0u64;
        for s in timeline.children_named("S") {
            let t = s.attr("t").and_then(|t| t.parse().ok()).unwrap_or(next);
            let Some(d) = s.attr("d").and_then(|d| d.parse::<u64>().ok()) else {
                return self.report(DASH_FILES, &at, "an S element without a duration d");
            };
            let r: i64 = s.attr("r").and_then(|r| r.parse().ok()).unwrap_or(0);
            if r < 0 {
                return self.report(DASH_FILES, &at, "an S element with r < 0 in a static MPD");
            }
            for k in 0..=r as u64 {
                times.push((t + k * d, d));
            }
            next = t + (r as u64 + 1) * d;
        }
        if let Some(media) = get("media") {
            let mut missing = Vec::new();
            for (k, (t, _)) in times.iter().enumerate() {
                match expand_template(media, &id, &bandwidth, start_number + k as u64, *t) {
                    Ok(file) if !self.dir.join(&file).is_file() => missing.push(file),
                    Ok(_) => {}
                    Err(e) => return self.report(DASH_FILES, &at, format!("media=\"{media}\": {e}")),
                }
            }
            if !missing.is_empty() {
                self.report(
                    DASH_FILES,
                    &at,
                    format!(
                        "{} of its {} segments do not exist: {}",
                        missing.len(),
                        times.len(),
                        missing.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        } else {
            self.report(DASH_FILES, &at, "a SegmentTemplate without media");
        }
        let total = times.iter().map(|(_, d)| *d).sum::<u64>() as f64 / timescale as f64;
        let hls = init_path.and_then(|init| {
            playlists.iter().find(|p| {
                p.segments
                    .first()
                    .and_then(|s| s.init.as_ref())
                    .is_some_and(|i| i.path == init)
            })
        });
        if let Some(hls) = hls
            && (total - hls.total()).abs() > 0.05
        {
            self.report(
                DASH_TIMELINE,
                &at,
                format!(
                    "the SegmentTimeline lasts {total:.3} s, but {} (over the same init segment) lasts {:.3} s",
                    hls.name,
                    hls.total()
                ),
            );
        }
    }

    /// The first segment's streams, when it can be read.
    fn probe_first(&mut self, media: &Media) -> Option<Streams> {
        // A missing file was reported where the playlist names it.
        let segment = media.segments.first().filter(|s| s.file_size.is_some())?;
        match probed(&STREAMS, segment, probe_streams) {
            Ok(streams) => Some(streams),
            Err(e) => {
                self.report(
                    LINES,
                    media.segment_at(0),
                    format!("ffprobe cannot read the segment: {e}"),
                );
                None
            }
        }
    }

    /// Reports a tag m3u8-rs could not read that the line-by-line reading found nothing wrong
    /// with (m3u8-rs files a known tag it cannot read among the unknown ones).
    fn unread_tags<'a>(&mut self, name: &str, unknown: impl Iterator<Item = &'a ExtTag>, flagged: &HashSet<String>) {
        for t in unknown {
            let tag = format!("EXT-{}", t.tag);
            if !TAGS.iter().any(|(k, _, _)| *k == tag) {
                continue;
            }
            let line = match &t.rest {
                Some(rest) => format!("#{tag}:{rest}"),
                None => format!("#{tag}"),
            };
            if flagged.contains(line.trim()) {
                continue;
            }
            self.report(
                tag_rule(&tag),
                name,
                format!("m3u8-rs cannot read `{line}` (a required attribute missing, or a value it rejects)"),
            );
        }
    }

    /// Line by line: `#EXTM3U` first, every tag one RFC 8216 defines and in its place, its value
    /// and attribute list well formed, URIs naming files, and `EXT-X-VERSION` high enough.
    /// Returns the lines it found at fault.
    fn lint(&mut self, name: &str, path: &Path, text: &str, kind: Kind) -> HashSet<String> {
        let mut flagged = HashSet::new();
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        if text.starts_with('\u{feff}') {
            self.report(
                EXTM3U,
                format!("{name}:1"),
                "the playlist begins with a byte order mark",
            );
        }
        let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
        if lines.first().map(|l| l.trim_start_matches('\u{feff}')) != Some("#EXTM3U") {
            self.report(
                EXTM3U,
                format!("{name}:1"),
                format!("the first line is `{}`, not #EXTM3U", lines.first().unwrap_or(&"")),
            );
        }
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let mut needs: Vec<(u64, usize, String)> = Vec::new();
        let mut declared: Option<u64> = None;
        let mut i_frames_only = false;
        let mut maps: Vec<usize> = Vec::new();
        let mut pending: Option<usize> = None;
        for (i, raw) in lines.iter().enumerate() {
            let n = i + 1;
            let at = format!("{name}:{n}");
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let mut problems: Vec<(Rule, String)> = Vec::new();
            if line != *raw {
                problems.push((LINES, "whitespace around the line".to_owned()));
            }
            if let Some(body) = line.strip_prefix('#') {
                if !body.starts_with("EXT") {
                    continue; // a comment
                }
                let (tag, value) = match body.split_once(':') {
                    Some((t, v)) => (t, Some(v)),
                    None => (body, None),
                };
                let Some(&(tag, place, _)) = TAGS.iter().find(|(t, _, _)| *t == tag) else {
                    self.report(UNKNOWN_TAG, &at, format!("#{tag} is not a tag RFC 8216 defines"));
                    flagged.insert(line.to_owned());
                    continue;
                };
                let rule_of_tag = tag_rule(tag);
                if (place == Place::Master && kind == Kind::Media) || (place == Place::Media && kind == Kind::Master) {
                    let (belongs, here) = match kind {
                        Kind::Master => ("media", "master"),
                        Kind::Media => ("master", "media"),
                    };
                    self.report(
                        rule_of_tag,
                        &at,
                        format!("#{tag} belongs in a {belongs} playlist, not in this {here} playlist"),
                    );
                    flagged.insert(line.to_owned());
                    continue;
                }
                if ONCE.contains(&tag)
                    && let Some(first) = seen.insert(tag, n)
                {
                    problems.push((rule_of_tag, format!("#{tag} again (first on line {first})")));
                }
                self.lint_tag(tag, value, n, kind, &base, &mut problems, &mut needs, &mut pending);
                match tag {
                    "EXTM3U" if n != 1 => problems.push((EXTM3U, "#EXTM3U again".to_owned())),
                    "EXT-X-VERSION" => declared = value.and_then(|v| v.parse().ok()),
                    "EXT-X-I-FRAMES-ONLY" => i_frames_only = true,
                    "EXT-X-MAP" => maps.push(n),
                    _ => {}
                }
            } else {
                // A URI line: a segment in a media playlist, a variant's playlist in a master.
                if pending.take().is_none() {
                    let (rule, what) = match kind {
                        Kind::Media => (tag_rule("EXTINF"), "a segment URI without its #EXTINF"),
                        Kind::Master => (tag_rule("EXT-X-STREAM-INF"), "a URI line not after #EXT-X-STREAM-INF"),
                    };
                    problems.push((rule, what.to_owned()));
                }
                if let Some(problem) = self.uri_problem(&base, line) {
                    problems.push((URI, problem));
                }
            }
            if !problems.is_empty() {
                flagged.insert(line.to_owned());
            }
            for (rule, message) in problems {
                self.report(rule, &at, message);
            }
        }
        if let Some(n) = pending {
            let what = match kind {
                Kind::Media => ("EXTINF", "#EXTINF without a segment URI after it"),
                Kind::Master => ("EXT-X-STREAM-INF", "#EXT-X-STREAM-INF without a URI line after it"),
            };
            self.report(tag_rule(what.0), format!("{name}:{n}"), what.1);
        }
        if kind == Kind::Media && !seen.contains_key("EXT-X-TARGETDURATION") {
            self.report(tag_rule("EXT-X-TARGETDURATION"), name, "no EXT-X-TARGETDURATION");
        }
        for n in maps {
            if i_frames_only {
                needs.push((5, n, "EXT-X-MAP (in an I-frame playlist)".to_owned()));
            } else {
                needs.push((6, n, "EXT-X-MAP outside an I-frame playlist".to_owned()));
            }
        }
        let version = declared.unwrap_or(1);
        if let Some((needed, n, why)) = needs.iter().max_by_key(|(v, n, _)| (*v, std::cmp::Reverse(*n)))
            && *needed > version
        {
            let stated = declared.map_or("no EXT-X-VERSION (version 1)".to_owned(), |v| {
                format!("EXT-X-VERSION:{v}")
            });
            self.report(
                VERSION,
                name,
                format!("{stated}, but {why} on line {n} needs version {needed}"),
            );
        }
        flagged
    }

    /// One tag's value: its syntax, the versions it needs, the URIs it names.
    #[allow(clippy::too_many_arguments)]
    fn lint_tag(
        &mut self,
        tag: &'static str,
        value: Option<&str>,
        n: usize,
        kind: Kind,
        base: &Path,
        problems: &mut Vec<(Rule, String)>,
        needs: &mut Vec<(u64, usize, String)>,
        pending: &mut Option<usize>,
    ) {
        let rule_of_tag = tag_rule(tag);
        let mut bad = |what: String| problems.push((rule_of_tag, what));
        match tag {
            "EXTM3U"
            | "EXT-X-ENDLIST"
            | "EXT-X-DISCONTINUITY"
            | "EXT-X-INDEPENDENT-SEGMENTS"
            | "EXT-X-I-FRAMES-ONLY" => {
                if let Some(v) = value {
                    bad(format!("#{tag} takes no value, found `{v}`"));
                }
                if tag == "EXT-X-I-FRAMES-ONLY" {
                    needs.push((4, n, "EXT-X-I-FRAMES-ONLY".to_owned()));
                }
            }
            "EXT-X-VERSION" | "EXT-X-TARGETDURATION" | "EXT-X-MEDIA-SEQUENCE" | "EXT-X-DISCONTINUITY-SEQUENCE" => {
                if !value.is_some_and(is_decimal_integer) {
                    bad(format!("#{tag}:{} is not a decimal-integer", value.unwrap_or("")));
                }
            }
            "EXT-X-PLAYLIST-TYPE" => {
                if !matches!(value, Some("VOD" | "EVENT")) {
                    bad(format!("#{tag}:{} is neither VOD nor EVENT", value.unwrap_or("")));
                }
            }
            "EXT-X-PROGRAM-DATE-TIME" => {
                if value.is_none_or(str::is_empty) {
                    bad(format!("#{tag} without a date-time"));
                }
            }
            "EXTINF" => {
                if kind == Kind::Media
                    && let Some(previous) = pending.replace(n)
                {
                    bad(format!(
                        "a second #EXTINF, the one on line {previous} having no segment URI"
                    ));
                }
                match value.and_then(|v| v.split_once(',')) {
                    Some((duration, _)) if is_decimal_float(duration) => {
                        if duration.contains('.') {
                            needs.push((3, n, "a decimal-floating-point EXTINF duration".to_owned()));
                        }
                    }
                    Some((duration, _)) => bad(format!("the duration `{duration}` is not a decimal number")),
                    None => bad("#EXTINF:<duration>,[<title>] without the comma".to_owned()),
                }
            }
            "EXT-X-BYTERANGE" => {
                needs.push((4, n, "EXT-X-BYTERANGE".to_owned()));
                let v = value.unwrap_or("");
                let (length, offset) = match v.split_once('@') {
                    Some((l, o)) => (l, Some(o)),
                    None => (v, None),
                };
                if !is_decimal_integer(length) || offset.is_some_and(|o| !is_decimal_integer(o)) {
                    bad(format!("#{tag}:{v} is not <n>[@<o>]"));
                }
            }
            _ => {
                // The tags with an attribute list.
                let attrs = match parse_attributes(value.unwrap_or("")) {
                    Ok(attrs) => attrs,
                    Err(e) => return problems.push((ATTRIBUTE_LIST, format!("#{tag}: {e}"))),
                };
                for a in &attrs {
                    if let Some(problem) = attribute_type(tag, &a.name).and_then(|ty| type_problem(a, ty)) {
                        problems.push((ATTRIBUTE_LIST, format!("#{tag}: {problem}")));
                    }
                }
                for required in required_attributes(tag) {
                    if attr(&attrs, required).is_none() {
                        problems.push((rule_of_tag, format!("#{tag} without its required {required} attribute")));
                    }
                }
                match tag {
                    "EXT-X-MEDIA" => {
                        for required in ["TYPE", "GROUP-ID", "NAME"] {
                            if attr(&attrs, required).is_none() {
                                problems.push((MEDIA_ATTRIBUTES, format!("#EXT-X-MEDIA without {required}")));
                            }
                        }
                        if attr(&attrs, "INSTREAM-ID").is_some_and(|a| a.value.starts_with("SERVICE")) {
                            needs.push((7, n, "INSTREAM-ID=\"SERVICEn\"".to_owned()));
                        }
                    }
                    "EXT-X-STREAM-INF" => {
                        if let Some(previous) = pending.replace(n) {
                            problems.push((
                                rule_of_tag,
                                format!("the #EXT-X-STREAM-INF on line {previous} has no URI line after it"),
                            ));
                        }
                    }
                    "EXT-X-I-FRAME-STREAM-INF" => {
                        for forbidden in ["FRAME-RATE", "AUDIO", "SUBTITLES", "CLOSED-CAPTIONS"] {
                            if attr(&attrs, forbidden).is_some() {
                                problems.push((rule_of_tag, format!("#{tag} does not take {forbidden}")));
                            }
                        }
                    }
                    "EXT-X-KEY" | "EXT-X-SESSION-KEY" => {
                        if attr(&attrs, "IV").is_some() {
                            needs.push((2, n, "the IV attribute of EXT-X-KEY".to_owned()));
                        }
                        if attr(&attrs, "METHOD").is_some_and(|a| a.value == "SAMPLE-AES")
                            || attr(&attrs, "KEYFORMAT").is_some()
                            || attr(&attrs, "KEYFORMATVERSIONS").is_some()
                        {
                            needs.push((5, n, "EXT-X-KEY with SAMPLE-AES or KEYFORMAT(VERSIONS)".to_owned()));
                        }
                    }
                    _ => {}
                }
                let names_file = matches!(tag, "EXT-X-MEDIA" | "EXT-X-I-FRAME-STREAM-INF" | "EXT-X-MAP");
                if let Some(uri) = attr(&attrs, "URI").filter(|_| names_file)
                    && let Some(problem) = self.uri_problem(base, &uri.value)
                {
                    problems.push((URI, format!("#{tag} URI: {problem}")));
                }
            }
        }
    }

    /// Why `uri`, relative to `base`, does not name a published file.
    fn uri_problem(&self, base: &Path, uri: &str) -> Option<String> {
        if uri.contains("://") || uri.starts_with('/') {
            return Some(format!("`{uri}` is not a relative reference to a published file"));
        }
        let path = base.join(uri);
        if !path.is_file() {
            return Some(format!("`{uri}` names no file ({} does not exist)", self.rel(&path)));
        }
        None
    }
}

fn bits(rate: f64) -> String {
    format!("{rate:.0} bit/s")
}

/// A file ffprobe can read for a segment: itself, or (for a byte range or an fMP4 segment) a
/// temporary file of its init segment and its bytes.
enum Sample {
    File(PathBuf),
    Temp(tempfile::NamedTempFile),
}

impl Sample {
    fn path(&self) -> &Path {
        match self {
            Sample::File(p) => p,
            Sample::Temp(t) => t.path(),
        }
    }
}

fn read_range(path: &Path, range: Option<(u64, u64)>) -> Result<Vec<u8>, String> {
    let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match range {
        None => Ok(bytes),
        Some((offset, length)) => usize::try_from(offset)
            .ok()
            .zip(usize::try_from(offset + length).ok())
            .and_then(|(start, end)| bytes.get(start..end))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| format!("{length}@{offset} is past the end of {}", path.display())),
    }
}

/// The bytes a player decodes for a segment: its init segment's, then its own.
fn sample_bytes(segment: &Segment) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    if let Some(init) = &segment.init {
        bytes.extend(read_range(&init.path, init.range)?);
    }
    bytes.extend(read_range(&segment.path, segment.range)?);
    Ok(bytes)
}

fn sample(segment: &Segment, bytes: &[u8]) -> Result<Sample, String> {
    if segment.init.is_none() && segment.range.is_none() {
        return Ok(Sample::File(segment.path.clone()));
    }
    let suffix = match segment.path.extension().and_then(|e| e.to_str()) {
        _ if segment.init.is_some() => ".mp4".to_owned(),
        Some(ext) => format!(".{ext}"),
        None => String::new(),
    };
    let mut file = tempfile::Builder::new()
        .prefix("vodpipe-conformance-")
        .suffix(&suffix)
        .tempfile()
        .map_err(|e| format!("cannot create a temporary file: {e}"))?;
    file.write_all(bytes)
        .map_err(|e| format!("cannot write a temporary file: {e}"))?;
    Ok(Sample::Temp(file))
}

type Cache<T> = Mutex<BTreeMap<(u64, usize), Result<T, String>>>;

static MPDS: Cache<Vec<String>> = Mutex::new(BTreeMap::new());

/// The codec_type of each stream ffprobe finds through an MPD. Cached by the MPD and every
/// file beside it or below, bar playlists: what ffprobe may read.
fn probe_mpd(mpd: &Path) -> Result<Vec<String>, String> {
    fn add_files(root: &Path, dir: &Path, hasher: &mut DefaultHasher, total: &mut usize) {
        let mut entries: Vec<PathBuf> = fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                add_files(root, &path, hasher, total);
            } else if path.extension().is_none_or(|e| e != "m3u8") {
                let bytes = fs::read(&path).unwrap_or_default();
                path.strip_prefix(root).unwrap_or(&path).hash(hasher);
                bytes.hash(hasher);
                *total += bytes.len();
            }
        }
    }
    let mut hasher = DefaultHasher::new();
    let mut total = 0;
    let root = mpd.parent().unwrap_or(Path::new("."));
    add_files(root, root, &mut hasher, &mut total);
    let key = (hasher.finish(), total);
    if let Some(known) = MPDS.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
        return known.clone();
    }
    let result = ffprobe(&["-show_entries", "stream=codec_type"], mpd).map(|(json, _)| {
        json["streams"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s["codec_type"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    });
    MPDS.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, result.clone());
    result
}

/// What ffprobe said of samples, by their bytes: ffprobe takes a tenth of a second to start,
/// and the broken copies a test makes share most of their segments with the original.
static STREAMS: Cache<Streams> = Mutex::new(BTreeMap::new());
static STARTS: Cache<()> = Mutex::new(BTreeMap::new());
static FRAMES: Cache<Decoded> = Mutex::new(BTreeMap::new());

/// `probe` of the sample of `segment`, or what it said of the same bytes before.
fn probed<T: Clone>(
    cache: &Cache<T>,
    segment: &Segment,
    probe: impl FnOnce(&Path) -> Result<T, String>,
) -> Result<T, String> {
    let bytes = sample_bytes(segment)?;
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    let key = (hasher.finish(), bytes.len());
    if let Some(known) = cache.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
        return known.clone();
    }
    let result = sample(segment, &bytes).and_then(|s| probe(s.path()));
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, result.clone());
    result
}

/// `f` of each item, on as many threads as there are cores (each call runs a process).
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(2, usize::from)
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            return done;
                        };
                        done.push((i, f(item)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a probe thread panicked"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Runs ffprobe with JSON output; its JSON and what it printed as errors.
fn ffprobe(args: &[&str], file: &Path) -> Result<(Json, String), String> {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run ffprobe (scripts/setup.sh installs it): {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    if !output.status.success() {
        return Err(format!("ffprobe failed ({}): {stderr}", output.status));
    }
    let json = serde_json::from_slice(&output.stdout).map_err(|e| format!("ffprobe's JSON: {e}"))?;
    Ok((json, stderr))
}

fn rate_of(s: &str) -> Option<f64> {
    let (num, den) = s.split_once('/')?;
    let (num, den): (f64, f64) = (num.parse().ok()?, den.parse().ok()?);
    (num > 0.0 && den > 0.0).then_some(num / den)
}

fn video_of(s: &Json) -> Video {
    Video {
        codec: s["codec_name"].as_str().unwrap_or("").to_owned(),
        profile: s["profile"].as_str().map(str::to_owned),
        level: s["level"].as_i64(),
        bit_depth: s["pix_fmt"].as_str().map(|format| {
            // ffmpeg names deeper formats by their bits: yuv420p10le, p010le, yuv444p12be.
            ["10", "12", "16"]
                .into_iter()
                .find(|bits| format.contains(&format!("p{bits}")))
                .map_or(8, |bits| bits.parse().unwrap())
        }),
        width: s["width"].as_u64().unwrap_or(0),
        height: s["height"].as_u64().unwrap_or(0),
        rate: s["r_frame_rate"]
            .as_str()
            .and_then(rate_of)
            .or_else(|| s["avg_frame_rate"].as_str().and_then(rate_of)),
    }
}

fn probe_streams(file: &Path) -> Result<Streams, String> {
    let (json, _) = ffprobe(
        &[
            "-show_entries",
            "stream=codec_type,codec_name,profile,level,pix_fmt,width,height,r_frame_rate,avg_frame_rate",
        ],
        file,
    )?;
    let mut streams = Streams::default();
    for s in json["streams"].as_array().into_iter().flatten() {
        match s["codec_type"].as_str() {
            Some("video") if streams.video.is_none() => streams.video = Some(video_of(s)),
            Some("audio") => streams.audio.push(Audio {
                codec: s["codec_name"].as_str().unwrap_or("").to_owned(),
                profile: s["profile"].as_str().map(str::to_owned),
            }),
            _ => {}
        }
    }
    Ok(streams)
}

/// Whether a segment's first video frame is an IDR: ffprobe's key_frame and pict_type of its
/// first frame, and the NAL unit types of its first packet (ffprobe counts a recovery point
/// as a key frame too).
fn starts_with_idr(segment: &Segment) -> Result<(), String> {
    probed(&STARTS, segment, first_frame_is_idr)
}

fn first_frame_is_idr(sample: &Path) -> Result<(), String> {
    let (json, _) = ffprobe(
        &[
            "-select_streams",
            "v:0",
            "-read_intervals",
            "%+#1",
            "-show_data",
            "-show_entries",
            "packet=data:frame=key_frame,pict_type:stream=codec_name:format=format_name",
        ],
        sample,
    )?;
    let entries = json["packets_and_frames"].as_array().cloned().unwrap_or_default();
    let frame = entries.iter().find(|e| e["type"] == "frame");
    let packet = entries.iter().find(|e| e["type"] == "packet");
    let Some(frame) = frame else {
        return Err("no video frame decodes from its start".to_owned());
    };
    let key = frame["key_frame"].as_i64() == Some(1);
    let pict = frame["pict_type"].as_str().unwrap_or("?");
    let codec = json["streams"][0]["codec_name"].as_str().unwrap_or("");
    let annexb = json["format"]["format_name"].as_str() == Some("mpegts");
    let headers = packet
        .and_then(|p| p["data"].as_str())
        .map(|d| nal_headers(&hex_dump(d), annexb))
        .unwrap_or_default();
    let idr = is_idr(codec, &headers);
    if key && pict == "I" && idr != Some(false) {
        return Ok(());
    }
    let types: Vec<String> = headers
        .iter()
        .map(|h| match codec {
            "hevc" => ((h >> 1) & 0x3f).to_string(),
            _ => (h & 0x1f).to_string(),
        })
        .collect();
    Err(format!(
        "its first video frame is pict_type {pict}, key_frame {}, NAL unit types [{}]: not an IDR",
        u8::from(key),
        types.join(",")
    ))
}

/// The video frames a segment's bytes decode to (key_frame, pict_type), its video stream,
/// and the errors ffprobe printed.
type Decoded = (Vec<(bool, String)>, Option<Video>, String);

fn decode_frames(segment: &Segment) -> Result<Decoded, String> {
    probed(&FRAMES, segment, decode)
}

fn decode(sample: &Path) -> Result<Decoded, String> {
    let (json, errors) = ffprobe(
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=key_frame,pict_type:stream=codec_name,profile,level,width,height,r_frame_rate,avg_frame_rate",
        ],
        sample,
    )?;
    let frames = json["frames"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["key_frame"].as_i64() == Some(1),
                f["pict_type"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    let video = json["streams"].as_array().and_then(|s| s.first()).map(video_of);
    // An exact range of an fMP4 fragment ends with its first sample while its `trun` lists
    // more: the demuxer's "partial file" for the next one is the expected end, not an error.
    let errors = errors.lines().find(|l| !l.contains("partial file")).unwrap_or("");
    Ok((frames, video, errors.to_owned()))
}

/// The bytes of ffprobe's `-show_data` hex dump.
fn hex_dump(text: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in text.lines() {
        let Some((_, rest)) = line.split_once(": ") else {
            continue;
        };
        let hex = rest.split("  ").next().unwrap_or("");
        for group in hex.split(' ') {
            for pair in group.as_bytes().chunks(2) {
                if let Some(b) = std::str::from_utf8(pair)
                    .ok()
                    .and_then(|p| u8::from_str_radix(p, 16).ok())
                {
                    bytes.push(b);
                }
            }
        }
    }
    bytes
}

/// The first byte of each NAL unit's header in a packet: Annex B start codes in MPEG-TS,
/// four-byte lengths in MP4.
fn nal_headers(data: &[u8], annexb: bool) -> Vec<u8> {
    let mut headers = Vec::new();
    let mut i = 0;
    if annexb {
        while i + 3 < data.len() {
            if data[i..i + 3] == [0, 0, 1] {
                headers.push(data[i + 3]);
                i += 3;
            } else {
                i += 1;
            }
        }
    } else {
        while i + 4 < data.len() {
            let length = u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]) as usize;
            headers.push(data[i + 4]);
            i += 4 + length;
        }
    }
    headers
}

/// Whether NAL units of `codec` include an IDR slice; `None` for codecs not known here.
fn is_idr(codec: &str, headers: &[u8]) -> Option<bool> {
    match codec {
        "h264" => Some(headers.iter().any(|h| h & 0x1f == 5)),
        "hevc" => Some(headers.iter().any(|h| matches!((h >> 1) & 0x3f, 19 | 20))),
        _ => None,
    }
}

fn is_video_codec(entry: &str) -> bool {
    let fourcc = entry.split('.').next().unwrap_or("");
    matches!(
        fourcc,
        "avc1" | "avc3" | "hvc1" | "hev1" | "dvh1" | "dvhe" | "av01" | "vp09"
    )
}

fn is_audio_codec(entry: &str) -> bool {
    entry.starts_with("mp4a.") || matches!(entry, "ac-3" | "ec-3" | "ac-4" | "Opus" | "fLaC" | "alac")
}

/// The CODECS entry of an audio stream, as RFC 6381 writes it.
fn audio_codec_string(a: &Audio) -> Option<&'static str> {
    match (a.codec.as_str(), a.profile.as_deref()) {
        ("aac", Some("LC")) => Some("mp4a.40.2"),
        ("aac", Some("HE-AAC")) => Some("mp4a.40.5"),
        ("aac", Some("HE-AACv2")) => Some("mp4a.40.29"),
        ("mp3", _) => Some("mp4a.40.34"),
        ("ac3", _) => Some("ac-3"),
        ("eac3", _) => Some("ec-3"),
        ("opus", _) => Some("Opus"),
        ("flac", _) => Some("fLaC"),
        _ => None,
    }
}

/// H.264's profile_idc for ffprobe's profile name.
fn avc_profile_idc(profile: &str) -> Option<u8> {
    Some(match profile {
        "Baseline" | "Constrained Baseline" => 66,
        "Main" => 77,
        "Extended" => 88,
        "High" | "Constrained High" | "Progressive High" => 100,
        "High 10" | "High 10 Intra" => 110,
        "High 4:2:2" | "High 4:2:2 Intra" => 122,
        "High 4:4:4" | "High 4:4:4 Predictive" | "High 4:4:4 Intra" => 244,
        "CAVLC 4:4:4" | "CAVLC 4:4:4 Intra" => 44,
        _ => return None,
    })
}

/// What is wrong with a video codec string for `video`: for avc1, `avc1.PPCCLL` with PP the
/// stream's profile_idc and LL its level_idc.
fn video_codec_problem(entry: &str, video: &Video) -> Option<String> {
    let (fourcc, rest) = entry.split_once('.').unwrap_or((entry, ""));
    match (fourcc, video.codec.as_str()) {
        ("avc1" | "avc3", "h264") => {
            let hex = |i: usize| rest.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok());
            let (Some(pp), Some(_), Some(ll)) = (hex(0), hex(2), hex(4)) else {
                return Some(format!("`{entry}` is not avc1.PPCCLL"));
            };
            if rest.len() != 6 {
                return Some(format!("`{entry}` is not avc1.PPCCLL"));
            }
            let mut problems = Vec::new();
            let profile = video.profile.as_deref().unwrap_or("?");
            if let Some(idc) = avc_profile_idc(profile)
                && idc != pp
            {
                problems.push(format!(
                    "profile_idc {pp} (0x{pp:02x}), but the stream is {profile} ({idc}, 0x{idc:02x})"
                ));
            }
            if let Some(level) = video.level
                && i64::from(ll) != level
            {
                problems.push(format!(
                    "level_idc {ll} (0x{ll:02x}), but the stream's level is {level}"
                ));
            }
            (!problems.is_empty()).then(|| format!("{entry} states {}", problems.join("; ")))
        }
        ("hvc1" | "hev1", "hevc") => hevc_codec_problem(entry, rest, video),
        ("av01", "av1") => av1_codec_problem(entry, rest, video),
        ("dvh1" | "dvhe", "hevc") | ("vp09", "vp9") => None,
        _ => Some(format!("{entry} names {fourcc}, but the stream is {}", video.codec)),
    }
}

/// ISO/IEC 14496-15 E.3: `hvc1.P.C.TL.B…` with P the general profile (optionally prefixed by
/// its space A–C), C the compatibility flags in reverse-bit hex, T the tier (L or H), L the
/// general_level_idc and B the constraint bytes. Checked against the stream: the profile (Main
/// 1, Main 10 2) and the level.
fn hevc_codec_problem(entry: &str, rest: &str, video: &Video) -> Option<String> {
    let parts: Vec<&str> = rest.split('.').collect();
    let malformed = || Some(format!("`{entry}` is not hvc1.P.C.TL[.B…] (ISO/IEC 14496-15 E.3)"));
    if parts.len() < 3 || parts.len() > 9 {
        return malformed();
    }
    let Ok(profile_idc) = parts[0].trim_start_matches(['A', 'B', 'C']).parse::<u8>() else {
        return malformed();
    };
    let (tier, level) = parts[2].split_at(1.min(parts[2].len()));
    let (Ok(level_idc), true) = (level.parse::<i64>(), matches!(tier, "L" | "H")) else {
        return malformed();
    };
    if u32::from_str_radix(parts[1], 16).is_err() || parts[3..].iter().any(|b| u8::from_str_radix(b, 16).is_err()) {
        return malformed();
    }
    let mut problems = Vec::new();
    let stream_profile = match video.profile.as_deref() {
        Some("Main") => Some(1),
        Some("Main 10") => Some(2),
        Some("Main Still Picture") => Some(3),
        Some("Rext") => Some(4),
        _ => None,
    };
    if let Some(idc) = stream_profile.filter(|idc| *idc != profile_idc) {
        problems.push(format!(
            "general_profile_idc {profile_idc}, but the stream is {} ({idc})",
            video.profile.as_deref().unwrap_or("?")
        ));
    }
    if let Some(level) = video.level.filter(|level| *level > 0 && *level != level_idc) {
        problems.push(format!(
            "general_level_idc {level_idc}, but the stream's level is {level}"
        ));
    }
    (!problems.is_empty()).then(|| format!("{entry} states {}", problems.join("; ")))
}

/// The AV1 codecs parameter string (AV1 in ISOBMFF, "Codecs Parameter String"):
/// `av01.P.LLT.DD[…]` with P the seq_profile, LL the seq_level_idx, T the tier (M or H) and DD
/// the bit depth. Checked against the stream: the profile (Main 0, High 1, Professional 2),
/// the level and the bit depth.
fn av1_codec_problem(entry: &str, rest: &str, video: &Video) -> Option<String> {
    let parts: Vec<&str> = rest.split('.').collect();
    let malformed = || {
        Some(format!(
            "`{entry}` is not av01.P.LLT.DD (the AV1 codecs parameter string)"
        ))
    };
    if parts.len() < 3 || parts[1].len() != 3 || parts[2].len() != 2 {
        return malformed();
    }
    let (level, tier) = parts[1].split_at(2);
    let (Ok(profile), Ok(level), Ok(depth), true) = (
        parts[0].parse::<u8>(),
        level.parse::<i64>(),
        parts[2].parse::<u8>(),
        matches!(tier, "M" | "H"),
    ) else {
        return malformed();
    };
    let mut problems = Vec::new();
    let stream_profile = match video.profile.as_deref() {
        Some("Main") => Some(0),
        Some("High") => Some(1),
        Some("Professional") => Some(2),
        _ => None,
    };
    if let Some(seq_profile) = stream_profile.filter(|p| *p != profile) {
        problems.push(format!(
            "seq_profile {profile}, but the stream is {} ({seq_profile})",
            video.profile.as_deref().unwrap_or("?")
        ));
    }
    if let Some(stream_level) = video.level.filter(|l| *l >= 0 && *l != level) {
        problems.push(format!("seq_level_idx {level}, but the stream's is {stream_level}"));
    }
    if let Some(bits) = video.bit_depth.filter(|bits| *bits != depth) {
        problems.push(format!("{depth}-bit, but the stream is {bits}-bit"));
    }
    (!problems.is_empty()).then(|| format!("{entry} states {}", problems.join("; ")))
}

/// Whether `tag` is a well-formed language tag (RFC 5646 2.1 `langtag` or `privateuse`).
fn is_bcp47(tag: &str) -> bool {
    let parts: Vec<&str> = tag.split('-').collect();
    let alpha = |s: &str| s.bytes().all(|b| b.is_ascii_alphabetic());
    let digit = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if parts
        .iter()
        .any(|p| p.is_empty() || p.len() > 8 || !p.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return false;
    }
    let private_use = |parts: &[&str]| parts.len() > 1 && parts[1..].iter().all(|p| !p.is_empty());
    if parts[0].eq_ignore_ascii_case("x") {
        return private_use(&parts);
    }
    let language = parts[0];
    if !(alpha(language) && ((2..=3).contains(&language.len()) || (5..=8).contains(&language.len()))) {
        return false;
    }
    let mut i = 1;
    let len = |i: usize| parts.get(i).map_or(0, |p| p.len());
    if language.len() <= 3 {
        let mut extlangs = 0;
        while extlangs < 3 && len(i) == 3 && alpha(parts[i]) {
            i += 1;
            extlangs += 1;
        }
    }
    if len(i) == 4 && alpha(parts[i]) {
        i += 1; // script
    }
    if (len(i) == 2 && alpha(parts[i])) || (len(i) == 3 && digit(parts[i])) {
        i += 1; // region
    }
    while (5..=8).contains(&len(i)) || (len(i) == 4 && parts[i].as_bytes()[0].is_ascii_digit()) {
        i += 1; // variants
    }
    while len(i) == 1 && !parts[i].eq_ignore_ascii_case("x") {
        i += 1; // an extension: a singleton and 2-8 character subtags
        let start = i;
        while (2..=8).contains(&len(i)) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if len(i) == 1 && parts[i].eq_ignore_ascii_case("x") {
        return private_use(&parts[i..]);
    }
    i == parts.len()
}

/// An XML element: enough of XML for an MPD (no text content, no namespaces resolved).
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Element>,
}

impl Element {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Parses the elements of an XML document under a root named `#document`.
fn parse_xml(text: &str) -> Result<Element, String> {
    let mut stack = vec![Element {
        name: "#document".to_owned(),
        ..Element::default()
    }];
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        rest = &rest[start..];
        if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").ok_or("a comment is not closed")?;
            rest = &r[end + 3..];
            continue;
        }
        if rest.starts_with("<?") || rest.starts_with("<!") {
            let end = rest.find('>').ok_or("a declaration is not closed")?;
            rest = &rest[end + 1..];
            continue;
        }
        // The tag ends at the first `>` outside quotes.
        let mut quote = None;
        let end = rest
            .char_indices()
            .find(|&(_, c)| match quote {
                Some(q) if c == q => {
                    quote = None;
                    false
                }
                Some(_) => false,
                None if c == '"' || c == '\'' => {
                    quote = Some(c);
                    false
                }
                None => c == '>',
            })
            .map(|(i, _)| i)
            .ok_or("a tag is not closed")?;
        let inner = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(closing) = inner.strip_prefix('/') {
            if stack.len() < 2 {
                return Err(format!("</{}> closes nothing", closing.trim()));
            }
            let element = stack.pop().expect("checked above");
            if element.name != closing.trim() {
                return Err(format!("</{}> closes <{}>", closing.trim(), element.name));
            }
            stack.last_mut().expect("the document stays").children.push(element);
            continue;
        }
        let self_closing = inner.ends_with('/');
        let inner = inner.trim_end_matches('/');
        let name_end = inner.find(char::is_whitespace).unwrap_or(inner.len());
        let mut element = Element {
            name: inner[..name_end].to_owned(),
            ..Element::default()
        };
        let mut attrs = inner[name_end..].trim();
        while !attrs.is_empty() {
            let (key, after) = attrs
                .split_once('=')
                .ok_or_else(|| format!("<{}>: `{attrs}`", element.name))?;
            let after = after.trim_start();
            let q = after
                .chars()
                .next()
                .filter(|c| *c == '"' || *c == '\'')
                .ok_or_else(|| format!("<{}>: the value of {} is not quoted", element.name, key.trim()))?;
            let value_end = after[1..]
                .find(q)
                .ok_or_else(|| format!("<{}>: a value is not closed", element.name))?;
            element
                .attrs
                .push((key.trim().to_owned(), unescape(&after[1..1 + value_end])));
            attrs = after[value_end + 2..].trim_start();
        }
        if self_closing {
            stack.last_mut().expect("the document stays").children.push(element);
        } else {
            stack.push(element);
        }
    }
    if stack.len() != 1 {
        return Err(format!(
            "<{}> is not closed",
            stack.last().map_or("", |e| e.name.as_str())
        ));
    }
    Ok(stack.pop().expect("the document"))
}

/// A DASH SegmentTemplate URL (ISO/IEC 23009-1): `$RepresentationID$`, `$Bandwidth$`,
/// `$Number$`, `$Time$`, each with an optional `%0Nd` width, and `$$`.
fn expand_template(template: &str, id: &str, bandwidth: &str, number: u64, time: u64) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        let j = rest.find('$').ok_or("a $ identifier is not closed")?;
        let identifier = &rest[..j];
        rest = &rest[j + 1..];
        if identifier.is_empty() {
            out.push('$');
            continue;
        }
        let (name, format) = match identifier.split_once('%') {
            Some((n, f)) => (n, Some(f)),
            None => (identifier, None),
        };
        let value = match name {
            "RepresentationID" => id.to_owned(),
            "Bandwidth" => bandwidth.to_owned(),
            "Number" => number.to_string(),
            "Time" => time.to_string(),
            other => return Err(format!("unknown identifier ${other}$")),
        };
        match format {
            None => out.push_str(&value),
            Some(f) => {
                let width = f
                    .strip_prefix('0')
                    .and_then(|w| w.strip_suffix('d'))
                    .and_then(|w| w.parse::<usize>().ok())
                    .ok_or_else(|| format!("the format %{f} is not %0Nd"))?;
                out.push_str(&format!("{value:0>width$}"));
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_lists_follow_rfc_8216_4_2() {
        let attrs = parse_attributes("BANDWIDTH=1000,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720").unwrap();
        assert_eq!(attrs.len(), 3);
        assert_eq!(attrs[1].value, "avc1.64001f,mp4a.40.2");
        assert!(attrs[1].quoted);
        for bad in [
            "BANDWIDTH=1, RESOLUTION=1x1",
            "BANDWIDTH=1,BANDWIDTH=2",
            "bandwidth=1",
            "BANDWIDTH=1,",
            "CODECS=\"avc1",
            "NAME=a b",
        ] {
            assert!(parse_attributes(bad).is_err(), "{bad}");
        }
        let resolution = parse_attributes("RESOLUTION=1280x720").unwrap();
        assert!(type_problem(&resolution[0], Ty::Resolution).is_none());
        assert!(type_problem(&resolution[0], Ty::Quoted).is_some());
    }

    #[test]
    fn language_tags_are_checked_for_form() {
        for good in [
            "en",
            "en-US",
            "zh-Hant-TW",
            "es-419",
            "sl-rozaj-biske",
            "de-CH-1996",
            "x-whatever",
            "en-a-bbb-x-a",
        ] {
            assert!(is_bcp47(good), "{good}");
        }
        for bad in ["", "en_US", "e", "en--US", "abcd", "en-x", "123", "en-US-a"] {
            assert!(!is_bcp47(bad), "{bad}");
        }
    }

    #[test]
    fn the_peak_is_over_runs_of_half_to_one_and_a_half_target_durations() {
        // The 1 s last segment alone is too short to count (target 6 s); with the one before it
        // it is a 7 s run.
        let r = rates(&[(6_000, 6.0), (6_000, 6.0), (3_000, 1.0)], 6).unwrap();
        assert_eq!(r.peak, 9_000.0 * 8.0 / 7.0);
        assert_eq!(r.peak_at, (1, 2));
        assert_eq!(r.average, 15_000.0 * 8.0 / 13.0);
    }

    #[test]
    fn segment_templates_and_mpds() {
        assert_eq!(
            expand_template("v_$Number%05d$.m4s", "a", "1", 7, 0).unwrap(),
            "v_00007.m4s"
        );
        assert_eq!(
            expand_template("$RepresentationID$/$Time$$$.mp4", "a", "1", 1, 90).unwrap(),
            "a/90$.mp4"
        );
        assert!(expand_template("v_$Nmber$.m4s", "a", "1", 1, 0).is_err());
        let mpd =
            parse_xml("<?xml version=\"1.0\"?><!-- c --><MPD a=\"1&amp;2\"><Period><S d='3'/></Period></MPD>").unwrap();
        let root = &mpd.children[0];
        assert_eq!(root.attr("a"), Some("1&2"));
        assert_eq!(root.children[0].children[0].attr("d"), Some("3"));
        assert!(parse_xml("<MPD><Period></MPD>").is_err());
    }

    #[test]
    fn nal_units_in_annex_b_and_length_prefixed_packets() {
        let annexb = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x65, 0x88];
        assert_eq!(nal_headers(&annexb, true), [0x09, 0x67, 0x65]);
        assert_eq!(is_idr("h264", &nal_headers(&annexb, true)), Some(true));
        let mp4 = [0, 0, 0, 2, 0x06, 0x05, 0, 0, 0, 2, 0x41, 0x9a];
        assert_eq!(is_idr("h264", &nal_headers(&mp4, false)), Some(false));
        assert_eq!(hex_dump("\n00000000: 0000 0001 65  ....e\n"), [0, 0, 0, 1, 0x65]);
    }
}
