//! A reader of the ISO-BMFF (fragmented MP4) boxes ffmpeg writes for CMAF HLS and DASH: the
//! init segment's tracks (id, handler, timescale, picture size or channels and rate, and the
//! RFC 6381 codec string) and each media segment's fragments (decode time, duration, sample
//! count, whether it starts on a sync sample, and where its first sample's bytes end).
//!
//! That is what the playlists written from the files need: the `CODECS` attribute of an HLS
//! master playlist, the `EXT-X-BYTERANGE` of an I-frame playlist (from the moof through the
//! end of the first frame), and a DASH `SegmentTimeline` (`t` from tfdt, `d` from trun).
//!
//! Only what those need is read. Sample descriptions this reader does not know (encrypted
//! ones, `mp4v`, Opus, ...) are an error naming the four-character code, never a guess. The
//! movie's `trex` defaults are not available to a segment read on its own, so a fragment that
//! would need them is an error too.

use std::ops::Range;

/// An init segment (ftyp + moov): the tracks its media segments' fragments refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitSegment {
    pub tracks: Vec<Track>,
}

/// One `trak` of an init segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// From tkhd; a fragment's tfhd names its track by it.
    pub track_id: u32,
    /// The hdlr handler type: `vide` or `soun` for what ffmpeg writes.
    pub handler: String,
    /// Units per second of the track's decode times and durations (mdhd).
    pub timescale: u32,
    /// The RFC 6381 codec string, as a `CODECS` attribute lists it: `avc1.64001e`,
    /// `hvc1.1.6.L93.B0`, `av01.0.04M.08`, `mp4a.40.2`.
    pub codec: String,
    pub media: Media,
}

/// What the track's sample entry says about its pictures or sound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Media {
    Video { width: u16, height: u16 },
    Audio { channels: u16, sample_rate: u32 },
}

/// One track's run of samples in one `moof` (one `traf`). ffmpeg puts every track of a
/// rendition in the same moof, so a segment with video and audio gives two fragments with
/// the same `moof_offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// Byte offset of the moof box in the file: where an I-frame byte range starts.
    pub moof_offset: u64,
    pub track_id: u32,
    /// Decode time of the first sample, in the track's timescale (tfdt).
    pub base_media_decode_time: u64,
    /// Sum of the samples' durations, in the track's timescale.
    pub duration: u64,
    pub sample_count: u32,
    /// The first sample is a sync sample (a key frame): `sample_is_non_sync_sample` is clear.
    pub starts_with_sync_sample: bool,
    /// Byte offset in the file of the first sample's data.
    pub first_sample_offset: u64,
    /// Byte offset just past the first sample's data: where an I-frame byte range ends.
    pub first_sample_end: u64,
    /// The whole mdat box (header included) holding the first sample.
    pub mdat: Range<u64>,
}

/// Reads the tracks of an init segment (ftyp + moov).
pub fn read_init(bytes: &[u8]) -> Result<InitSegment, String> {
    let top = boxes(bytes, 0, bytes.len(), "the file")?;
    let moov = top
        .iter()
        .find(|b| &b.kind == b"moov")
        .ok_or("the file has no moov box (is it an init segment?)")?;
    let tracks = children(bytes, moov)?
        .iter()
        .filter(|b| &b.kind == b"trak")
        .map(|trak| read_track(bytes, trak))
        .collect::<Result<Vec<_>, _>>()?;
    if tracks.is_empty() {
        return Err(format!("{} has no trak", moov.name()));
    }
    Ok(InitSegment { tracks })
}

/// Reads every track fragment of a media segment (styp? sidx* then moof + mdat pairs), in
/// file order.
pub fn read_fragments(bytes: &[u8]) -> Result<Vec<Fragment>, String> {
    let top = boxes(bytes, 0, bytes.len(), "the file")?;
    let mdats: Vec<&Mp4Box> = top.iter().filter(|b| &b.kind == b"mdat").collect();
    let mut fragments = Vec::new();
    for moof in top.iter().filter(|b| &b.kind == b"moof") {
        for run in read_moof(bytes, moof)? {
            let first = run.first_sample_offset..run.first_sample_end;
            let mdat = mdats
                .iter()
                .find(|m| m.body as u64 <= first.start && first.end <= m.end as u64)
                .ok_or_else(|| {
                    format!(
                        "{}: the first sample of track {} (bytes {}..{}) lies in no mdat",
                        moof.name(),
                        run.track_id,
                        first.start,
                        first.end
                    )
                })?;
            fragments.push(Fragment {
                moof_offset: moof.start as u64,
                track_id: run.track_id,
                base_media_decode_time: run.base_media_decode_time,
                duration: run.duration,
                sample_count: run.sample_count,
                starts_with_sync_sample: run.starts_with_sync_sample,
                first_sample_offset: first.start,
                first_sample_end: first.end,
                mdat: mdat.start as u64..mdat.end as u64,
            });
        }
    }
    if fragments.is_empty() {
        return Err("the file has no moof box (is it a media segment?)".into());
    }
    Ok(fragments)
}

// ---- Boxes ----

/// A box: its four-character type and where it, and its body after the header, lie.
#[derive(Debug, Clone, Copy)]
struct Mp4Box {
    kind: [u8; 4],
    start: usize,
    body: usize,
    end: usize,
}

impl Mp4Box {
    /// How errors name the box: "moof at 76".
    fn name(&self) -> String {
        format!("{} at {}", fourcc(&self.kind), self.start)
    }
}

fn fourcc(kind: &[u8]) -> String {
    kind.iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '?'
            }
        })
        .collect()
}

/// The boxes laid end to end in `bytes[start..end]`; `within` names that span for errors.
fn boxes(bytes: &[u8], start: usize, end: usize, within: &str) -> Result<Vec<Mp4Box>, String> {
    let mut found = Vec::new();
    let mut at = start;
    while at < end {
        let left = end - at;
        if left < 8 {
            return Err(format!("box at {at}: truncated header ({left} bytes left in {within})"));
        }
        let size32 = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        let kind: [u8; 4] = bytes[at + 4..at + 8].try_into().unwrap();
        let (size, mut header) = match size32 {
            // 64-bit size: large mdat boxes.
            1 => {
                if left < 16 {
                    return Err(format!(
                        "{} at {at}: truncated 64-bit size ({left} bytes left in {within})",
                        fourcc(&kind)
                    ));
                }
                (u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()), 16)
            }
            // Size 0: the box runs to the end of the file (a last mdat written as a stream).
            0 => (left as u64, 8),
            n => (n as u64, 8),
        };
        if &kind == b"uuid" {
            header += 16;
        }
        let name = format!("{} at {at}", fourcc(&kind));
        if size < header as u64 {
            return Err(format!("{name}: size {size} is smaller than its {header}-byte header"));
        }
        if size > left as u64 {
            return Err(format!("{name}: size {size} runs past byte {end}, the end of {within}"));
        }
        let box_end = at + size as usize;
        found.push(Mp4Box {
            kind,
            start: at,
            body: at + header,
            end: box_end,
        });
        at = box_end;
    }
    Ok(found)
}

fn children(bytes: &[u8], parent: &Mp4Box) -> Result<Vec<Mp4Box>, String> {
    boxes(bytes, parent.body, parent.end, &parent.name())
}

fn child(bytes: &[u8], parent: &Mp4Box, kind: &[u8; 4]) -> Result<Mp4Box, String> {
    children(bytes, parent)?
        .into_iter()
        .find(|b| &b.kind == kind)
        .ok_or_else(|| format!("{} has no {}", parent.name(), fourcc(kind)))
}

/// Big-endian fields read in order from a box's body, or from a part of it.
struct Fields<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
    owner: String,
}

impl<'a> Fields<'a> {
    fn of(bytes: &'a [u8], owner: &Mp4Box) -> Self {
        Fields {
            bytes,
            pos: owner.body,
            end: owner.end,
            owner: owner.name(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let left = self.end - self.pos;
        if left < n {
            return Err(format!(
                "{} is truncated: needs {n} bytes at {}, has {left}",
                self.owner, self.pos
            ));
        }
        self.pos += n;
        Ok(&self.bytes[self.pos - n..self.pos])
    }

    /// The next `n` bytes as fields of their own (a descriptor inside esds).
    fn part(&mut self, n: usize) -> Result<Fields<'a>, String> {
        let start = self.pos;
        self.take(n)?;
        Ok(Fields {
            bytes: self.bytes,
            pos: start,
            end: start + n,
            owner: self.owner.clone(),
        })
    }

    fn skip(&mut self, n: usize) -> Result<(), String> {
        self.take(n).map(|_| ())
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }

    /// A full box's version and 24-bit flags.
    fn version_and_flags(&mut self) -> Result<(u8, u32), String> {
        let word = self.u32()?;
        Ok(((word >> 24) as u8, word & 0x00ff_ffff))
    }

    fn rest(self) -> &'a [u8] {
        &self.bytes[self.pos..self.end]
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.end
    }
}

// ---- Init segment ----

fn read_track(bytes: &[u8], trak: &Mp4Box) -> Result<Track, String> {
    let tkhd = child(bytes, trak, b"tkhd")?;
    let mut fields = Fields::of(bytes, &tkhd);
    let (version, _) = fields.version_and_flags()?;
    // Creation and modification times come first: 32 or 64 bits each.
    fields.skip(if version == 1 { 16 } else { 8 })?;
    let track_id = fields.u32()?;

    let mdia = child(bytes, trak, b"mdia")?;
    let mdhd = child(bytes, &mdia, b"mdhd")?;
    let mut fields = Fields::of(bytes, &mdhd);
    let (version, _) = fields.version_and_flags()?;
    fields.skip(if version == 1 { 16 } else { 8 })?;
    let timescale = fields.u32()?;
    if timescale == 0 {
        return Err(format!("{}: timescale is 0", mdhd.name()));
    }

    let hdlr = child(bytes, &mdia, b"hdlr")?;
    let mut fields = Fields::of(bytes, &hdlr);
    fields.version_and_flags()?;
    fields.skip(4)?; // pre_defined
    let handler = fourcc(fields.take(4)?);

    let minf = child(bytes, &mdia, b"minf")?;
    let stbl = child(bytes, &minf, b"stbl")?;
    let stsd = child(bytes, &stbl, b"stsd")?;
    let mut fields = Fields::of(bytes, &stsd);
    fields.version_and_flags()?;
    fields.u32()?; // entry_count: the boxes that follow say as much
    // ffmpeg writes one sample description per track; its fragments all use it.
    let entry = *boxes(bytes, fields.pos, stsd.end, &stsd.name())?
        .first()
        .ok_or_else(|| format!("{} has no sample entry", stsd.name()))?;
    let (codec, media) = read_sample_entry(bytes, &entry, timescale)?;
    Ok(Track {
        track_id,
        handler,
        timescale,
        codec,
        media,
    })
}

fn read_sample_entry(bytes: &[u8], entry: &Mp4Box, timescale: u32) -> Result<(String, Media), String> {
    let kind = fourcc(&entry.kind);
    match &entry.kind {
        b"avc1" | b"avc3" | b"hvc1" | b"hev1" | b"av01" => {
            // VisualSampleEntry: 8 bytes of SampleEntry, 16 reserved, width, height, then
            // resolutions, frame count, compressor name and depth up to byte 78.
            let mut fields = Fields::of(bytes, entry);
            fields.skip(24)?;
            let width = fields.u16()?;
            let height = fields.u16()?;
            fields.skip(78 - 28)?;
            let boxes = boxes(bytes, fields.pos, entry.end, &entry.name())?;
            let config = |kind: &[u8; 4]| {
                boxes
                    .iter()
                    .find(|b| &b.kind == kind)
                    .copied()
                    .ok_or_else(|| format!("{} has no {}", entry.name(), fourcc(kind)))
            };
            let codec = match &entry.kind {
                b"avc1" | b"avc3" => avc_codec(bytes, &config(b"avcC")?, &kind)?,
                b"hvc1" | b"hev1" => hevc_codec(bytes, &config(b"hvcC")?, &kind)?,
                _ => av1_codec(bytes, &config(b"av1C")?)?,
            };
            Ok((codec, Media::Video { width, height }))
        }
        b"mp4a" => {
            // AudioSampleEntry: 8 bytes of SampleEntry, version, revision, vendor, then
            // channel count, sample size, two reserved fields and the 16.16 sample rate.
            let mut fields = Fields::of(bytes, entry);
            fields.skip(8)?;
            let version = fields.u16()?;
            if version != 0 {
                // QuickTime's versions 1 and 2 move the fields after these; ffmpeg's MP4 uses 0.
                return Err(format!(
                    "{}: sound sample entry version {version} is not read",
                    entry.name()
                ));
            }
            fields.skip(6)?;
            let channels = fields.u16()?;
            fields.skip(6)?;
            let mut sample_rate = fields.u32()? >> 16;
            // The field holds 16 bits of rate: ffmpeg writes 0 above 65535 Hz, and then the
            // media timescale it sets to the rate is the rate.
            if sample_rate == 0 {
                sample_rate = timescale;
            }
            let boxes = boxes(bytes, fields.pos, entry.end, &entry.name())?;
            let esds = boxes
                .iter()
                .find(|b| &b.kind == b"esds")
                .ok_or_else(|| format!("{} has no esds", entry.name()))?;
            let aac = aac_config(bytes, esds)?;
            // ffmpeg writes the template value 2 in the sample entry for AAC, mono or 5.1:
            // the decoder configuration has the real count.
            let channels = aac.channels.unwrap_or(channels);
            Ok((aac.codec, Media::Audio { channels, sample_rate }))
        }
        _ => Err(format!(
            "{}: sample entry '{kind}' is not one this reader knows (avc1, avc3, hvc1, hev1, av01, mp4a)",
            entry.name()
        )),
    }
}

/// `avc1.PPCCLL`: profile_idc, the constraint flags byte and level_idc from avcC, in hex.
fn avc_codec(bytes: &[u8], avcc: &Mp4Box, sample_entry: &str) -> Result<String, String> {
    let mut fields = Fields::of(bytes, avcc);
    fields.u8()?; // configurationVersion
    let profile = fields.u8()?;
    let constraints = fields.u8()?;
    let level = fields.u8()?;
    Ok(format!("{sample_entry}.{profile:02x}{constraints:02x}{level:02x}"))
}

/// The ISO/IEC 14496-15 Annex E string from hvcC: profile space and profile, compatibility
/// flags (bit-reversed), tier and level, then the constraint bytes less trailing zeros.
fn hevc_codec(bytes: &[u8], hvcc: &Mp4Box, sample_entry: &str) -> Result<String, String> {
    let mut fields = Fields::of(bytes, hvcc);
    fields.u8()?; // configurationVersion
    let byte = fields.u8()?;
    let profile_space = ["", "A", "B", "C"][usize::from(byte >> 6)];
    let tier = if byte & 0x20 != 0 { 'H' } else { 'L' };
    let profile_idc = byte & 0x1f;
    let compatibility = fields.u32()?.reverse_bits();
    let constraints = fields.take(6)?;
    let level_idc = fields.u8()?;
    let mut codec = format!("{sample_entry}.{profile_space}{profile_idc}.{compatibility:X}.{tier}{level_idc}");
    let kept = constraints.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
    for byte in &constraints[..kept] {
        codec.push_str(&format!(".{byte:02X}"));
    }
    Ok(codec)
}

/// `av01.P.LLT.DD` from av1C: profile, level index and tier, bit depth (mandatory fields only).
fn av1_codec(bytes: &[u8], av1c: &Mp4Box) -> Result<String, String> {
    let mut fields = Fields::of(bytes, av1c);
    let marker_and_version = fields.u8()?;
    if marker_and_version != 0x81 {
        return Err(format!(
            "{}: marker and version are {marker_and_version:#04x}, not 0x81",
            av1c.name()
        ));
    }
    let byte = fields.u8()?;
    let (profile, level) = (byte >> 5, byte & 0x1f);
    let byte = fields.u8()?;
    let tier = if byte & 0x80 != 0 { 'H' } else { 'M' };
    let bit_depth = match (byte & 0x40 != 0, byte & 0x20 != 0) {
        (true, true) => 12,
        (true, false) => 10,
        _ => 8,
    };
    Ok(format!("av01.{profile}.{level:02}{tier}.{bit_depth:02}"))
}

/// What esds says of an AAC stream.
struct AacConfig {
    /// `mp4a.40.N`: N is the audioObjectType (2 for AAC-LC).
    codec: String,
    /// From channelConfiguration; none when a program config element gives the layout.
    channels: Option<u16>,
}

/// Reads the AudioSpecificConfig in esds's DecoderSpecificInfo (ISO/IEC 14496-3 1.6.2.1).
fn aac_config(bytes: &[u8], esds: &Mp4Box) -> Result<AacConfig, String> {
    let mut fields = Fields::of(bytes, esds);
    fields.version_and_flags()?;
    let mut es = descriptor(&mut fields, 0x03, esds)?;
    es.u16()?; // ES_ID
    let es_flags = es.u8()?;
    if es_flags & 0x80 != 0 {
        es.skip(2)?; // dependsOn_ES_ID
    }
    if es_flags & 0x40 != 0 {
        let url_length = es.u8()?;
        es.skip(usize::from(url_length))?;
    }
    if es_flags & 0x20 != 0 {
        es.skip(2)?; // OCR_ES_Id
    }
    let mut config = descriptor(&mut es, 0x04, esds)?;
    let object_type = config.u8()?;
    if object_type != 0x40 {
        return Err(format!(
            "{}: object type indication {object_type:#04x} is not MPEG-4 audio (0x40)",
            esds.name()
        ));
    }
    config.skip(12)?; // stream type, buffer size, maximum and average bit rates
    let specific = descriptor(&mut config, 0x05, esds)?;
    let mut bits = Bits {
        bytes: specific.rest(),
        pos: 0,
    };
    let truncated = || format!("{}: the AudioSpecificConfig is truncated", esds.name());
    let mut audio_object_type = bits.read(5).ok_or_else(truncated)?;
    // 31 escapes to 32 plus the next six bits.
    if audio_object_type == 31 {
        audio_object_type = 32 + bits.read(6).ok_or_else(truncated)?;
    }
    // A sampling frequency index of 15 is followed by the frequency itself, in 24 bits.
    if bits.read(4).ok_or_else(truncated)? == 15 {
        bits.read(24).ok_or_else(truncated)?;
    }
    let channels = match bits.read(4).ok_or_else(truncated)? {
        0 => None,
        7 | 12 | 14 => Some(8),
        11 => Some(7),
        13 => Some(24),
        n @ 1..=6 => Some(n as u16),
        _ => None,
    };
    Ok(AacConfig {
        codec: format!("mp4a.40.{audio_object_type}"),
        channels,
    })
}

/// Most-significant-first bits of a byte string.
struct Bits<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn read(&mut self, count: usize) -> Option<u32> {
        let mut value = 0;
        for _ in 0..count {
            let byte = self.bytes.get(self.pos / 8)?;
            value = (value << 1) | u32::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Some(value)
    }
}

/// Skips to the descriptor tagged `tag` among those in `fields` and returns its body.
fn descriptor<'a>(fields: &mut Fields<'a>, tag: u8, esds: &Mp4Box) -> Result<Fields<'a>, String> {
    while !fields.is_empty() {
        let found = fields.u8()?;
        // The size: up to four bytes of seven bits, the top bit saying another follows.
        let mut size = 0usize;
        let mut more = true;
        for _ in 0..4 {
            let byte = fields.u8()?;
            size = (size << 7) | usize::from(byte & 0x7f);
            more = byte & 0x80 != 0;
            if !more {
                break;
            }
        }
        if more {
            return Err(format!(
                "{}: descriptor {found:#04x} has a size longer than 4 bytes",
                esds.name()
            ));
        }
        let body = fields.part(size)?;
        if found == tag {
            return Ok(body);
        }
    }
    Err(format!("{} has no descriptor {tag:#04x}", esds.name()))
}

// ---- Media segment ----

/// What one traf says, before its first sample is placed in an mdat.
struct TrackRun {
    track_id: u32,
    base_media_decode_time: u64,
    duration: u64,
    sample_count: u32,
    starts_with_sync_sample: bool,
    first_sample_offset: u64,
    first_sample_end: u64,
}

/// The defaults a tfhd gives its track fragment's samples.
struct TrackFragmentHeader {
    track_id: u32,
    base_data_offset: u64,
    default_sample_duration: Option<u32>,
    default_sample_size: Option<u32>,
    default_sample_flags: Option<u32>,
}

// tfhd flags (ISO/IEC 14496-12 8.8.7).
const BASE_DATA_OFFSET_PRESENT: u32 = 0x00_0001;
const SAMPLE_DESCRIPTION_INDEX_PRESENT: u32 = 0x00_0002;
const DEFAULT_SAMPLE_DURATION_PRESENT: u32 = 0x00_0008;
const DEFAULT_SAMPLE_SIZE_PRESENT: u32 = 0x00_0010;
const DEFAULT_SAMPLE_FLAGS_PRESENT: u32 = 0x00_0020;
const DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;

// trun flags (8.8.8).
const DATA_OFFSET_PRESENT: u32 = 0x001;
const FIRST_SAMPLE_FLAGS_PRESENT: u32 = 0x004;
const SAMPLE_DURATION_PRESENT: u32 = 0x100;
const SAMPLE_SIZE_PRESENT: u32 = 0x200;
const SAMPLE_FLAGS_PRESENT: u32 = 0x400;
const SAMPLE_COMPOSITION_TIME_OFFSETS_PRESENT: u32 = 0x800;

// In sample flags (8.8.3.1): set for all but sync samples (key frames).
const SAMPLE_IS_NON_SYNC_SAMPLE: u32 = 0x0001_0000;

fn read_moof(bytes: &[u8], moof: &Mp4Box) -> Result<Vec<TrackRun>, String> {
    let mut runs = Vec::new();
    // Without a base in tfhd, a traf's data follows the previous traf's (ISO 14496-12 8.8.7).
    let mut previous_traf_end = None;
    for traf in children(bytes, moof)?.iter().filter(|b| &b.kind == b"traf") {
        let boxes = children(bytes, traf)?;
        let find = |kind: &[u8; 4]| {
            boxes
                .iter()
                .find(|b| &b.kind == kind)
                .ok_or_else(|| format!("{}: {} has no {}", moof.name(), traf.name(), fourcc(kind)))
        };
        let header = read_tfhd(bytes, find(b"tfhd")?, moof, previous_traf_end)?;
        let mut fields = Fields::of(bytes, find(b"tfdt")?);
        let (version, _) = fields.version_and_flags()?;
        let base_media_decode_time = if version == 1 {
            fields.u64()?
        } else {
            u64::from(fields.u32()?)
        };

        let mut run = TrackRun {
            track_id: header.track_id,
            base_media_decode_time,
            duration: 0,
            sample_count: 0,
            starts_with_sync_sample: false,
            first_sample_offset: 0,
            first_sample_end: 0,
        };
        // A run that states no data offset starts where the one before ended, or at the base.
        let mut data_end = header.base_data_offset;
        for trun in boxes.iter().filter(|b| &b.kind == b"trun") {
            data_end = read_trun(bytes, trun, moof, &header, data_end, &mut run)?;
        }
        if run.sample_count == 0 {
            return Err(format!(
                "{}: {} (track {}) has no samples",
                moof.name(),
                traf.name(),
                header.track_id
            ));
        }
        previous_traf_end = Some(data_end);
        runs.push(run);
    }
    if runs.is_empty() {
        return Err(format!("{} has no traf", moof.name()));
    }
    Ok(runs)
}

fn read_tfhd(
    bytes: &[u8],
    tfhd: &Mp4Box,
    moof: &Mp4Box,
    previous_traf_end: Option<u64>,
) -> Result<TrackFragmentHeader, String> {
    let mut fields = Fields::of(bytes, tfhd);
    let (_, flags) = fields.version_and_flags()?;
    let track_id = fields.u32()?;
    let explicit_base = if flags & BASE_DATA_OFFSET_PRESENT != 0 {
        Some(fields.u64()?)
    } else {
        None
    };
    if flags & SAMPLE_DESCRIPTION_INDEX_PRESENT != 0 {
        fields.u32()?; // sample_description_index
    }
    let optional = |fields: &mut Fields, flag: u32| -> Result<Option<u32>, String> {
        if flags & flag != 0 {
            fields.u32().map(Some)
        } else {
            Ok(None)
        }
    };
    let default_sample_duration = optional(&mut fields, DEFAULT_SAMPLE_DURATION_PRESENT)?;
    let default_sample_size = optional(&mut fields, DEFAULT_SAMPLE_SIZE_PRESENT)?;
    let default_sample_flags = optional(&mut fields, DEFAULT_SAMPLE_FLAGS_PRESENT)?;
    let moof_start = moof.start as u64;
    let base_data_offset = match explicit_base {
        Some(base) => base,
        None if flags & DEFAULT_BASE_IS_MOOF != 0 => moof_start,
        // The first traf's data starts at the moof, as with default-base-is-moof.
        None => previous_traf_end.unwrap_or(moof_start),
    };
    Ok(TrackFragmentHeader {
        track_id,
        base_data_offset,
        default_sample_duration,
        default_sample_size,
        default_sample_flags,
    })
}

/// Adds one trun's samples to `run`, and returns where its data ends. `implicit_start` is where
/// its data starts if it states no offset.
fn read_trun(
    bytes: &[u8],
    trun: &Mp4Box,
    moof: &Mp4Box,
    header: &TrackFragmentHeader,
    implicit_start: u64,
    run: &mut TrackRun,
) -> Result<u64, String> {
    let problem = |what: &str| format!("{}: {} {what}", moof.name(), trun.name());
    let mut fields = Fields::of(bytes, trun);
    let (_, flags) = fields.version_and_flags()?;
    let sample_count = fields.u32()?;
    let data_offset = if flags & DATA_OFFSET_PRESENT != 0 {
        Some(fields.u32()? as i32)
    } else {
        None
    };
    let first_sample_flags = if flags & FIRST_SAMPLE_FLAGS_PRESENT != 0 {
        Some(fields.u32()?)
    } else {
        None
    };
    let has_durations = flags & SAMPLE_DURATION_PRESENT != 0;
    let has_sizes = flags & SAMPLE_SIZE_PRESENT != 0;
    let has_flags = flags & SAMPLE_FLAGS_PRESENT != 0;
    let has_composition_offsets = flags & SAMPLE_COMPOSITION_TIME_OFFSETS_PRESENT != 0;
    if sample_count > 0 && !has_durations && header.default_sample_duration.is_none() {
        return Err(problem(
            "has no sample durations and tfhd no default (trex, in the init segment, is not read)",
        ));
    }
    if sample_count > 0 && !has_sizes && header.default_sample_size.is_none() {
        return Err(problem("has no sample sizes and tfhd no default"));
    }
    let record = 4 * [has_durations, has_sizes, has_flags, has_composition_offsets]
        .iter()
        .filter(|&&present| present)
        .count();
    let needed = u64::from(sample_count) * record as u64;
    let left = (fields.end - fields.pos) as u64;
    if needed > left {
        return Err(problem(&format!(
            "is truncated: {sample_count} samples of {record} bytes need {needed} bytes, it has {left}"
        )));
    }

    let overflow = || problem("puts its data past 2^64");
    let run_start = match data_offset {
        Some(offset) => header
            .base_data_offset
            .checked_add_signed(i64::from(offset))
            .ok_or_else(|| problem(&format!("has data offset {offset} before the start of the file")))?,
        None => implicit_start,
    };

    let default_duration = u64::from(header.default_sample_duration.unwrap_or(0));
    let default_size = u64::from(header.default_sample_size.unwrap_or(0));
    let mut data_size = 0u64;
    // The first sample's size and the flags it carries itself, if any.
    let mut first_sample = None;
    if record == 0 {
        // Every sample takes the defaults: no need to go through them one by one.
        run.duration += u64::from(sample_count) * default_duration;
        data_size = u64::from(sample_count) * default_size;
        if sample_count > 0 {
            first_sample = Some((default_size, None));
        }
    } else {
        for index in 0..sample_count {
            run.duration += if has_durations {
                u64::from(fields.u32()?)
            } else {
                default_duration
            };
            let size = if has_sizes {
                u64::from(fields.u32()?)
            } else {
                default_size
            };
            let own_flags = if has_flags { Some(fields.u32()?) } else { None };
            if has_composition_offsets {
                fields.u32()?;
            }
            if index == 0 {
                first_sample = Some((size, own_flags));
            }
            data_size += size;
        }
    }

    // Only the traf's first sample matters: the first of its first run with any.
    if run.sample_count == 0
        && let Some((size, own_flags)) = first_sample
    {
        let sample_flags = first_sample_flags
            .or(own_flags)
            .or(header.default_sample_flags)
            .ok_or_else(|| problem("has no flags for its first sample and tfhd no default (trex is not read)"))?;
        run.starts_with_sync_sample = sample_flags & SAMPLE_IS_NON_SYNC_SAMPLE == 0;
        run.first_sample_offset = run_start;
        run.first_sample_end = run_start.checked_add(size).ok_or_else(overflow)?;
    }
    run.sample_count = run
        .sample_count
        .checked_add(sample_count)
        .ok_or_else(|| problem("brings the traf past 2^32 samples"))?;
    run_start.checked_add(data_size).ok_or_else(overflow)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use serde_json::Value;

    use super::*;

    // ---- Hand-built boxes ----

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut bytes = u32::try_from(body.len() + 8).unwrap().to_be_bytes().to_vec();
        bytes.extend_from_slice(kind);
        bytes.extend_from_slice(body);
        bytes
    }

    /// A full box's body: version, flags, then the given 32-bit fields.
    fn full(version: u8, flags: u32, fields: &[u32]) -> Vec<u8> {
        let mut bytes = ((u32::from(version) << 24) | flags).to_be_bytes().to_vec();
        for field in fields {
            bytes.extend_from_slice(&field.to_be_bytes());
        }
        bytes
    }

    fn traf(tfhd_flags: u32, tfhd_fields: &[u32], decode_time: u32, truns: &[Vec<u8>]) -> Vec<u8> {
        let mut body = bx(b"tfhd", &full(0, tfhd_flags, tfhd_fields));
        body.extend(bx(b"tfdt", &full(0, 0, &[decode_time])));
        for trun in truns {
            body.extend(bx(b"trun", trun));
        }
        bx(b"traf", &body)
    }

    fn moof(trafs: &[Vec<u8>]) -> Vec<u8> {
        let mut body = bx(b"mfhd", &full(0, 0, &[1]));
        for traf in trafs {
            body.extend_from_slice(traf);
        }
        bx(b"moof", &body)
    }

    /// A run with a data offset and each sample's duration, size and flags.
    const VIDEO_RUN: u32 = DATA_OFFSET_PRESENT | SAMPLE_DURATION_PRESENT | SAMPLE_SIZE_PRESENT | SAMPLE_FLAGS_PRESENT;
    // Sample flags: sample_depends_on 2 (an I-frame), and 1 with sample_is_non_sync_sample.
    const SYNC: u32 = 0x0200_0000;
    const NON_SYNC: u32 = 0x0101_0000;

    #[test]
    fn a_truncated_header_is_an_error_at_its_offset() {
        let mut bytes = bx(b"styp", b"msdh");
        bytes.extend_from_slice(&[0, 0, 0]);
        assert_eq!(
            read_fragments(&bytes).unwrap_err(),
            "box at 12: truncated header (3 bytes left in the file)"
        );
    }

    #[test]
    fn a_box_larger_than_the_file_is_an_error() {
        let mut bytes = bx(b"styp", b"msdh");
        bytes.extend(bx(b"moof", &[0; 16]));
        bytes[12..16].copy_from_slice(&1000u32.to_be_bytes());
        assert_eq!(
            read_fragments(&bytes).unwrap_err(),
            "moof at 12: size 1000 runs past byte 36, the end of the file"
        );
        // A box inside another may not run past its parent either.
        let mut bytes = moof(&[traf(DEFAULT_BASE_IS_MOOF, &[1], 0, &[])]);
        bytes[24..28].copy_from_slice(&500u32.to_be_bytes()); // the traf's size
        let end = bytes.len();
        assert_eq!(
            read_fragments(&bytes).unwrap_err(),
            format!("traf at 24: size 500 runs past byte {end}, the end of moof at 0")
        );
    }

    #[test]
    fn a_box_whose_fields_are_cut_short_is_an_error() {
        let mut bytes = moof(&[bx(
            b"traf",
            &bx(b"tfhd", &full(0, DEFAULT_SAMPLE_DURATION_PRESENT, &[])),
        )]);
        bytes.extend(bx(b"mdat", &[0; 4]));
        assert_eq!(
            read_fragments(&bytes).unwrap_err(),
            "tfhd at 32 is truncated: needs 4 bytes at 44, has 0"
        );
    }

    #[test]
    fn a_trun_without_sizes_needs_a_default_in_tfhd() {
        // tfhd gives a duration and flags but no size; trun has only a data offset.
        let trun = full(0, DATA_OFFSET_PRESENT, &[1, 0]);
        let tfhd_flags = DEFAULT_BASE_IS_MOOF | DEFAULT_SAMPLE_DURATION_PRESENT | DEFAULT_SAMPLE_FLAGS_PRESENT;
        let bytes = moof(&[traf(tfhd_flags, &[1, 512, SYNC], 0, &[trun])]);
        assert_eq!(
            read_fragments(&bytes).unwrap_err(),
            "moof at 0: trun at 72 has no sample sizes and tfhd no default"
        );
    }

    #[test]
    fn a_trun_without_durations_needs_a_default_in_tfhd() {
        let trun = full(0, DATA_OFFSET_PRESENT | SAMPLE_SIZE_PRESENT, &[1, 0, 10]);
        let bytes = moof(&[traf(DEFAULT_BASE_IS_MOOF, &[1], 0, &[trun])]);
        let error = read_fragments(&bytes).unwrap_err();
        assert!(
            error.starts_with("moof at 0: trun at 64 has no sample durations"),
            "{error}"
        );
    }

    #[test]
    fn a_first_sample_outside_every_mdat_is_an_error() {
        // The data offset points past the mdat.
        let trun_flags = DATA_OFFSET_PRESENT | FIRST_SAMPLE_FLAGS_PRESENT | SAMPLE_SIZE_PRESENT;
        let trun = full(0, trun_flags, &[1, 500, SYNC, 10]);
        let mut bytes = moof(&[traf(
            DEFAULT_BASE_IS_MOOF | DEFAULT_SAMPLE_DURATION_PRESENT,
            &[1, 512],
            0,
            &[trun],
        )]);
        bytes.extend(bx(b"mdat", &[0; 10]));
        assert_eq!(
            read_fragments(&bytes).unwrap_err(),
            "moof at 0: the first sample of track 1 (bytes 500..510) lies in no mdat"
        );
    }

    #[test]
    fn data_offsets_are_resolved_as_tfhd_says() {
        // Two trafs in one moof, with no base in tfhd: the first's data starts at the moof,
        // the second's right after the first's. Track 1's first sample is not a sync sample.
        let trafs = |data_offset: u32| {
            let video = full(0, VIDEO_RUN, &[2, data_offset, 512, 30, NON_SYNC, 512, 20, SYNC]);
            let audio = full(0, SAMPLE_SIZE_PRESENT, &[3, 7, 8, 9]);
            let audio_defaults = DEFAULT_SAMPLE_DURATION_PRESENT | DEFAULT_SAMPLE_FLAGS_PRESENT;
            [
                traf(0, &[1], 1000, &[video]),
                traf(audio_defaults, &[2, 1024, SYNC], 2000, &[audio]),
            ]
        };
        // The offset runs from the moof to the mdat's body; the moof's size does not depend on it.
        let moof_size = moof(&trafs(0)).len() as u32;
        let trafs = trafs(moof_size + 8);
        let mut bytes = moof(&trafs);
        bytes.extend(bx(b"mdat", &[0; 30 + 20 + 7 + 8 + 9]));
        let fragments = read_fragments(&bytes).unwrap();
        let data = u64::from(moof_size) + 8;
        let mdat = u64::from(moof_size)..bytes.len() as u64;
        assert_eq!(
            fragments,
            [
                Fragment {
                    moof_offset: 0,
                    track_id: 1,
                    base_media_decode_time: 1000,
                    duration: 1024,
                    sample_count: 2,
                    starts_with_sync_sample: false,
                    first_sample_offset: data,
                    first_sample_end: data + 30,
                    mdat: mdat.clone(),
                },
                Fragment {
                    moof_offset: 0,
                    track_id: 2,
                    base_media_decode_time: 2000,
                    duration: 3 * 1024,
                    sample_count: 3,
                    starts_with_sync_sample: true,
                    first_sample_offset: data + 50,
                    first_sample_end: data + 57,
                    mdat,
                },
            ]
        );
    }

    #[test]
    fn an_explicit_base_data_offset_and_big_boxes_are_read() {
        // Skip a free box and put the data in a 64-bit-sized mdat; the moof that follows uses
        // a tfhd base-data-offset (a 64-bit field) and a second run without an offset.
        let mut bytes = bx(b"free", &[0; 4]);
        let mdat_start = bytes.len();
        bytes.extend_from_slice(&1u32.to_be_bytes());
        bytes.extend_from_slice(b"mdat");
        bytes.extend_from_slice(&(16u64 + 12).to_be_bytes());
        bytes.extend_from_slice(&[0; 12]);
        let data = (mdat_start + 16) as u32;
        let first_run = full(0, DATA_OFFSET_PRESENT | FIRST_SAMPLE_FLAGS_PRESENT, &[1, 0, SYNC]);
        let second_run = full(0, 0, &[2]);
        let tfhd_fields = [1, 0, data, 100, 4];
        let moof_offset = bytes.len() as u64;
        bytes.extend(moof(&[traf(
            BASE_DATA_OFFSET_PRESENT | DEFAULT_SAMPLE_DURATION_PRESENT | DEFAULT_SAMPLE_SIZE_PRESENT,
            &tfhd_fields,
            7,
            &[first_run, second_run],
        )]));
        // A last box of size 0 runs to the end of the file.
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        bytes.extend_from_slice(b"mdat");
        bytes.extend_from_slice(&[0; 5]);
        let fragments = read_fragments(&bytes).unwrap();
        assert_eq!(fragments.len(), 1);
        let fragment = &fragments[0];
        assert_eq!(fragment.moof_offset, moof_offset);
        assert_eq!((fragment.duration, fragment.sample_count), (300, 3));
        assert!(fragment.starts_with_sync_sample);
        assert_eq!(
            (fragment.first_sample_offset, fragment.first_sample_end),
            (u64::from(data), u64::from(data) + 4)
        );
        assert_eq!(fragment.mdat, mdat_start as u64..mdat_start as u64 + 28);
    }

    #[test]
    fn a_first_sample_without_flags_anywhere_is_an_error() {
        let trun = full(0, DATA_OFFSET_PRESENT, &[1, 0]);
        let tfhd_flags = DEFAULT_BASE_IS_MOOF | DEFAULT_SAMPLE_DURATION_PRESENT | DEFAULT_SAMPLE_SIZE_PRESENT;
        let bytes = moof(&[traf(tfhd_flags, &[1, 512, 10], 0, &[trun])]);
        let error = read_fragments(&bytes).unwrap_err();
        assert!(
            error.starts_with("moof at 0: trun at 72 has no flags for its first sample"),
            "{error}"
        );
    }

    /// The codec string a configuration box gives, read as the sample entry would.
    fn codec(kind: &[u8; 4], body: &[u8], sample_entry: &str) -> Result<String, String> {
        let bytes = bx(kind, body);
        let config = boxes(&bytes, 0, bytes.len(), "the file").unwrap()[0];
        match kind {
            b"avcC" => avc_codec(&bytes, &config, sample_entry),
            b"hvcC" => hevc_codec(&bytes, &config, sample_entry),
            b"av1C" => av1_codec(&bytes, &config),
            _ => aac_config(&bytes, &config).map(|aac| aac.codec),
        }
    }

    #[test]
    fn codec_strings_from_configuration_records() {
        assert_eq!(codec(b"avcC", &[1, 0x64, 0, 0x1f], "avc1").unwrap(), "avc1.64001f");
        assert_eq!(codec(b"avcC", &[1, 0x42, 0xc0, 0x0d], "avc3").unwrap(), "avc3.42c00d");
        // Main, compatible with Main and Main 10, level 3.1, progressive + non-packed + frame-only.
        let main = [1, 0x01, 0x60, 0, 0, 0, 0xb0, 0, 0, 0, 0, 0, 93];
        assert_eq!(codec(b"hvcC", &main, "hvc1").unwrap(), "hvc1.1.6.L93.B0");
        // Profile space 1, high tier, RExt compatibility only, a middle zero byte kept and the
        // trailing ones dropped.
        let rext = [1, 0x64, 0x08, 0, 0, 0, 0x98, 0x00, 0x08, 0, 0, 0, 120];
        assert_eq!(codec(b"hvcC", &rext, "hev1").unwrap(), "hev1.A4.10.H120.98.00.08");
        let no_constraints = [1, 0x01, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 60];
        assert_eq!(codec(b"hvcC", &no_constraints, "hvc1").unwrap(), "hvc1.1.2.L60");
        assert_eq!(codec(b"av1C", &[0x81, 0x04, 0x0c, 0], "").unwrap(), "av01.0.04M.08");
        assert_eq!(codec(b"av1C", &[0x81, 0x4d, 0xc0, 0], "").unwrap(), "av01.2.13H.10");
        assert_eq!(codec(b"av1C", &[0x81, 0x48, 0x60, 0], "").unwrap(), "av01.2.08M.12");
        assert_eq!(
            codec(b"av1C", &[0x01, 0, 0, 0], "").unwrap_err(),
            "av1C at 0: marker and version are 0x01, not 0x81"
        );
    }

    fn esds(object_type: u8, specific: &[u8]) -> Vec<u8> {
        let mut config = vec![object_type, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        config.extend_from_slice(&[0x05, specific.len() as u8]);
        config.extend_from_slice(specific);
        // ES_Descriptor with a four-byte size, as ffmpeg writes: 0x80 0x80 0x80 n.
        let mut es = vec![0, 1, 0, 0x04, config.len() as u8];
        es.extend_from_slice(&config);
        es.extend_from_slice(&[0x06, 1, 2]); // SLConfigDescriptor
        let mut body = full(0, 0, &[]);
        body.extend_from_slice(&[0x03, 0x80, 0x80, 0x80, es.len() as u8]);
        body.extend_from_slice(&es);
        body
    }

    fn aac(specific: &[u8]) -> (String, Option<u16>) {
        let bytes = bx(b"esds", &esds(0x40, specific));
        let config = boxes(&bytes, 0, bytes.len(), "the file").unwrap()[0];
        let aac = aac_config(&bytes, &config).unwrap();
        (aac.codec, aac.channels)
    }

    #[test]
    fn aac_configurations_from_esds() {
        // AudioSpecificConfig: object type (5 bits), frequency index (4), channels (4).
        assert_eq!(aac(&[0x12, 0x10]), ("mp4a.40.2".into(), Some(2)));
        assert_eq!(aac(&[0x2b, 0x88]), ("mp4a.40.5".into(), Some(1)));
        assert_eq!(aac(&[0x11, 0xb0]), ("mp4a.40.2".into(), Some(6)));
        // Object type 31 escapes to 32 + 6 bits (USAC: 42).
        assert_eq!(aac(&[0xf9, 0x46, 0x40]), ("mp4a.40.42".into(), Some(2)));
        // Frequency index 15 is followed by the frequency; channel configuration 7 is 7.1.
        assert_eq!(aac(&[0x17, 0x80, 0xbb, 0x80, 0x38]), ("mp4a.40.2".into(), Some(8)));
        let bytes = bx(b"esds", &esds(0x40, &[0x12]));
        let config = boxes(&bytes, 0, bytes.len(), "the file").unwrap()[0];
        assert_eq!(
            aac_config(&bytes, &config).err().unwrap(),
            "esds at 0: the AudioSpecificConfig is truncated"
        );
        assert_eq!(
            codec(b"esds", &esds(0x6b, &[]), "").unwrap_err(),
            "esds at 0: object type indication 0x6b is not MPEG-4 audio (0x40)"
        );
    }

    /// An init segment with one track whose sample description is `entry`.
    fn init_with(handler: &[u8; 4], entry: Vec<u8>) -> Vec<u8> {
        let tkhd = bx(b"tkhd", &full(0, 3, &[0, 0, 7, 0, 0]));
        let mdhd = bx(b"mdhd", &full(0, 0, &[0, 0, 90000, 0, 0]));
        let mut hdlr_body = full(0, 0, &[0]);
        hdlr_body.extend_from_slice(handler);
        hdlr_body.extend_from_slice(&[0; 13]);
        let hdlr = bx(b"hdlr", &hdlr_body);
        let mut stsd_body = full(0, 0, &[1]);
        stsd_body.extend(entry);
        let stbl = bx(b"stbl", &bx(b"stsd", &stsd_body));
        let minf = bx(b"minf", &stbl);
        let mdia = bx(b"mdia", &[mdhd, hdlr, minf].concat());
        let trak = bx(b"trak", &[tkhd, mdia].concat());
        let mut bytes = bx(b"ftyp", b"iso5\0\0\x02\0iso6mp41");
        bytes.extend(bx(b"moov", &trak));
        bytes
    }

    fn visual_entry(kind: &[u8; 4], width: u16, height: u16, config: Vec<u8>) -> Vec<u8> {
        let mut body = vec![0; 78];
        body[7] = 1; // data_reference_index
        body[24..26].copy_from_slice(&width.to_be_bytes());
        body[26..28].copy_from_slice(&height.to_be_bytes());
        body.extend(config);
        bx(kind, &body)
    }

    #[test]
    fn a_hand_built_init_segment_is_read() {
        let entry = visual_entry(b"avc1", 1920, 1080, bx(b"avcC", &[1, 0x4d, 0x40, 0x28, 0xff]));
        let init = read_init(&init_with(b"vide", entry)).unwrap();
        assert_eq!(
            init.tracks,
            [Track {
                track_id: 7,
                handler: "vide".into(),
                timescale: 90000,
                codec: "avc1.4d4028".into(),
                media: Media::Video {
                    width: 1920,
                    height: 1080
                },
            }]
        );
    }

    #[test]
    fn an_unknown_sample_entry_is_an_error_naming_it() {
        let entry = visual_entry(b"mp4v", 640, 360, Vec::new());
        let error = read_init(&init_with(b"vide", entry)).unwrap_err();
        assert!(
            error.contains("sample entry 'mp4v' is not one this reader knows"),
            "{error}"
        );
        let entry = visual_entry(b"avc1", 640, 360, Vec::new());
        let error = read_init(&init_with(b"vide", entry)).unwrap_err();
        assert!(error.ends_with("has no avcC"), "{error}");
    }

    #[test]
    fn a_file_without_the_expected_boxes_is_an_error() {
        let styp = bx(b"styp", b"msdh");
        assert_eq!(
            read_init(&styp).unwrap_err(),
            "the file has no moov box (is it an init segment?)"
        );
        assert_eq!(
            read_fragments(&styp).unwrap_err(),
            "the file has no moof box (is it a media segment?)"
        );
    }

    // ---- What ffmpeg writes ----

    /// A rendition ffmpeg wrote: its playlist's directory, kept until the test ends.
    struct Rendition {
        dir: tempfile::TempDir,
    }

    /// Runs ffmpeg with `args` (inputs, maps, codecs) into an fMP4 HLS playlist `i.m3u8`.
    fn encode(args: &[&str], segment_seconds: u32) -> Rendition {
        let dir = tempfile::Builder::new().prefix("vodpipe-fmp4-").tempdir().unwrap();
        let output = Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-y"])
            .args(args)
            .args(["-f", "hls", "-hls_time", &segment_seconds.to_string()])
            .args(["-hls_playlist_type", "vod", "-hls_segment_type", "fmp4"])
            .args(["-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename"])
            .arg(dir.path().join("s_%05d.m4s"))
            .arg(dir.path().join("i.m3u8"))
            // SVT-AV1 prints its configuration to stderr unless told to print errors only.
            .env("SVT_LOG", "1")
            .output()
            .expect("cannot run ffmpeg");
        assert!(
            output.status.success(),
            "ffmpeg {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Rendition { dir }
    }

    const VIDEO_5S: [&str; 4] = ["-f", "lavfi", "-i", "testsrc2=s=640x360:r=30:d=5"];
    const VIDEO_4S: [&str; 4] = ["-f", "lavfi", "-i", "testsrc2=s=640x360:r=30:d=4"];
    const VIDEO_3S: [&str; 4] = ["-f", "lavfi", "-i", "testsrc2=s=640x360:r=30:d=3"];
    // x265 is the slow one: a smaller picture (level 2, where 360p is 2.1).
    const SMALL_VIDEO_3S: [&str; 4] = ["-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=3"];
    const TONE_5S: [&str; 4] = ["-f", "lavfi", "-i", "sine=d=5"];
    const X264_HIGH: [&str; 14] = [
        "-c:v",
        "libx264",
        // Not ultrafast: it turns off CABAC and 8x8 transforms, and x264 then writes
        // Constrained Baseline whatever -profile:v asks.
        "-preset",
        "veryfast",
        "-profile:v",
        "high",
        "-g",
        "60",
        "-keyint_min",
        "60",
        "-sc_threshold",
        "0",
        "-pix_fmt",
        "yuv420p",
    ];
    const X265: [&str; 10] = [
        "-c:v",
        "libx265",
        "-preset",
        "ultrafast",
        "-tag:v",
        "hvc1",
        "-x265-params",
        // Closed GOPs: with x265's default open ones, a segment's CRA is followed in decode
        // order by pictures shown before it, so its decode duration is not its EXTINF.
        "log-level=error:open-gop=0",
        "-g",
        "30",
    ];
    const SVT_AV1: [&str; 6] = ["-c:v", "libsvtav1", "-preset", "12", "-g", "30"];

    /// ffprobe's view of `init` followed by one segment: its streams and its packets.
    fn probe(dir: &Path, init: &[u8], segment: &[u8], name: &str) -> Value {
        let joined = dir.join(format!("probe-{name}.mp4"));
        std::fs::write(&joined, [init, segment].concat()).unwrap();
        let output = Command::new("ffprobe")
            .args(["-v", "error", "-of", "json", "-show_entries"])
            .arg("stream=codec_type,profile,level,width,height,channels,sample_rate,pix_fmt:packet=stream_index,pos,size,flags")
            .arg(&joined)
            .output()
            .expect("cannot run ffprobe");
        assert!(
            output.status.success(),
            "ffprobe: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    fn number(value: &Value) -> u64 {
        match value {
            Value::Number(n) => n.as_u64().unwrap(),
            Value::String(s) => s.parse().unwrap(),
            other => panic!("not a number: {other}"),
        }
    }

    /// Reads a rendition's init segment and every segment, checks them against the playlist
    /// and ffprobe, and returns the tracks with ffprobe's streams (in track order).
    fn check(rendition: &Rendition) -> (InitSegment, Vec<Value>) {
        let dir = rendition.dir.path();
        let playlist = std::fs::read_to_string(dir.join("i.m3u8")).unwrap();
        let mut init_name = None;
        let mut segments = Vec::new();
        let mut extinf = None;
        for line in playlist.lines() {
            if let Some(map) = line.strip_prefix("#EXT-X-MAP:URI=") {
                init_name = Some(map.trim_matches('"').to_string());
            } else if let Some(seconds) = line.strip_prefix("#EXTINF:") {
                extinf = Some(seconds.trim_end_matches(',').parse::<f64>().unwrap());
            } else if !line.starts_with('#') && !line.is_empty() {
                segments.push((line.to_string(), extinf.take().unwrap()));
            }
        }
        assert!(segments.len() >= 2, "{playlist}");
        let init_bytes = std::fs::read(dir.join(init_name.unwrap())).unwrap();
        let init = read_init(&init_bytes).unwrap();
        let timing_track = init
            .tracks
            .iter()
            .find(|t| t.handler == "vide")
            .unwrap_or(&init.tracks[0]);

        let mut streams = Vec::new();
        let mut next_decode_time = vec![None; init.tracks.len()];
        for (index, (name, seconds)) in segments.iter().enumerate() {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            let fragments = read_fragments(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            let probed = probe(dir, &init_bytes, &bytes, name);
            if index == 0 {
                streams = probed["streams"].as_array().unwrap().clone();
                assert_eq!(streams.len(), init.tracks.len());
            }
            let packets = probed["packets"].as_array().unwrap();
            for (stream, track) in init.tracks.iter().enumerate() {
                let ours: Vec<&Fragment> = fragments.iter().filter(|f| f.track_id == track.track_id).collect();
                // ffmpeg writes one moof per segment, with a traf for each track.
                assert_eq!(ours.len(), 1, "{name}: track {}: {fragments:?}", track.track_id);
                let fragment = ours[0];
                let theirs: Vec<&Value> = packets.iter().filter(|p| p["stream_index"] == stream).collect();
                assert_eq!(fragment.sample_count as usize, theirs.len(), "{name}: {fragment:?}");
                // ffprobe's positions count the init segment in front of the segment.
                let first_pos = number(&theirs[0]["pos"]) - init_bytes.len() as u64;
                let first_size = number(&theirs[0]["size"]);
                assert_eq!(
                    (fragment.first_sample_offset, fragment.first_sample_end),
                    (first_pos, first_pos + first_size),
                    "{name}: {fragment:?}"
                );
                assert!(fragment.starts_with_sync_sample, "{name}: {fragment:?}");
                assert!(theirs[0]["flags"].as_str().unwrap().starts_with('K'), "{name}");
                assert!(fragment.moof_offset < fragment.mdat.start, "{name}: {fragment:?}");
                assert!(fragment.first_sample_end > fragment.moof_offset);
                assert!(
                    fragment.mdat.start + 8 <= fragment.first_sample_offset,
                    "{name}: {fragment:?}"
                );
                assert!(fragment.first_sample_end <= fragment.mdat.end, "{name}: {fragment:?}");
                // Each fragment starts where the one before ended: a gapless SegmentTimeline.
                if let Some(expected) = next_decode_time[stream] {
                    assert_eq!(fragment.base_media_decode_time, expected, "{name}: {fragment:?}");
                }
                next_decode_time[stream] = Some(fragment.base_media_decode_time + fragment.duration);

                if track.track_id == timing_track.track_id {
                    let ours = fragment.duration as f64 / f64::from(track.timescale);
                    // hlsenc measures a segment by the next one's start, but the last one by
                    // adding up its packets' durations plus the first packet's of the stream:
                    // one frame over, at times (seen once with libsvtav1), so allow one sample.
                    let slack = if index + 1 == segments.len() {
                        fragment.duration as f64 / f64::from(fragment.sample_count) / f64::from(track.timescale)
                    } else {
                        0.0
                    };
                    assert!(
                        (ours - seconds).abs() <= 0.001 + slack,
                        "{name}: fragments last {ours} s, EXTINF says {seconds}"
                    );
                }
            }
        }
        (init, streams)
    }

    fn video(init: &InitSegment) -> &Track {
        init.tracks.iter().find(|t| t.handler == "vide").unwrap()
    }

    fn level(stream: &Value) -> u64 {
        stream["level"].as_u64().unwrap()
    }

    #[test]
    fn h264_and_aac_in_one_rendition() {
        let rendition = encode(&[&VIDEO_5S[..], &TONE_5S, &X264_HIGH, &["-c:a", "aac"]].concat(), 2);
        let (init, streams) = check(&rendition);
        assert_eq!(init.tracks.len(), 2);
        let track = video(&init);
        // High profile (100 = 0x64), no constraint flags, level 3.0 (30 = 0x1e) for 360p30.
        assert_eq!(track.codec, "avc1.64001e");
        assert_eq!((streams[0]["profile"].as_str(), level(&streams[0])), (Some("High"), 30));
        assert_eq!(
            track.media,
            Media::Video {
                width: 640,
                height: 360
            }
        );
        let audio = init.tracks.iter().find(|t| t.handler == "soun").unwrap();
        assert_eq!(audio.codec, "mp4a.40.2");
        assert_eq!(streams[1]["profile"], "LC");
        assert_eq!(
            audio.media,
            Media::Audio {
                channels: 1,
                sample_rate: 44100
            }
        );
        assert_eq!(
            (number(&streams[1]["channels"]), number(&streams[1]["sample_rate"])),
            (1, 44100)
        );
    }

    #[test]
    fn h264_video_only() {
        let rendition = encode(&[&VIDEO_4S[..], &["-map", "0:v"], &X264_HIGH].concat(), 2);
        let (init, _) = check(&rendition);
        assert_eq!(init.tracks.len(), 1);
        assert_eq!(video(&init).codec, "avc1.64001e");
        assert_eq!(video(&init).timescale, 15360);
    }

    #[test]
    fn aac_audio_only() {
        let rendition = encode(
            &[&TONE_5S[..], &["-map", "0:a", "-c:a", "aac", "-ar", "48000"]].concat(),
            2,
        );
        let (init, streams) = check(&rendition);
        let track = &init.tracks[0];
        assert_eq!((track.handler.as_str(), track.codec.as_str()), ("soun", "mp4a.40.2"));
        assert_eq!(
            track.media,
            Media::Audio {
                channels: 1,
                sample_rate: 48000
            }
        );
        assert_eq!(number(&streams[0]["sample_rate"]), 48000);
        assert_eq!(track.timescale, 48000);
    }

    /// The general profile, tier and level fields of the first SPS in `file`, as ffmpeg's
    /// trace_headers bitstream filter prints them: a second reading of what hvcC repeats.
    fn hevc_sps(file: &Path) -> std::collections::HashMap<String, u64> {
        let output = Command::new("ffmpeg")
            .args(["-v", "info", "-nostdin", "-i"])
            .arg(file)
            .args([
                "-c",
                "copy",
                "-bsf:v",
                "trace_headers",
                "-frames:v",
                "1",
                "-f",
                "null",
                "-",
            ])
            .output()
            .expect("cannot run ffmpeg");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let trace = String::from_utf8_lossy(&output.stderr);
        let mut fields = std::collections::HashMap::new();
        // Lines read "[trace_headers @ 0x...] 88   general_progressive_source_flag   1 = 1".
        for line in trace.lines().skip_while(|l| !l.ends_with("Sequence Parameter Set")) {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let [.., name, _, "=", value] = words[..]
                && name.starts_with("general_")
            {
                fields.entry(name.to_string()).or_insert(value.parse().unwrap());
            }
        }
        fields
    }

    /// The codec string the SPS calls for, by Annex E of ISO/IEC 14496-15.
    fn hevc_codec_from_sps(rendition: &Rendition) -> String {
        let sps = hevc_sps(&rendition.dir.path().join("probe-s_00000.m4s.mp4"));
        let field = |name: &str| *sps.get(name).unwrap_or_else(|| panic!("no {name} in {sps:?}"));
        // The bytes after the first constraint byte are reserved zeros for Main and Main 10.
        for reserved in [
            "general_reserved_zero_7bits",
            "general_one_picture_only_constraint_flag",
            "general_reserved_zero_35bits",
            "general_inbld_flag",
        ] {
            assert_eq!(field(reserved), 0, "{reserved}");
        }
        let compatibility: u32 = (0..32)
            .map(|j| (field(&format!("general_profile_compatibility_flag[{j}]")) as u32) << j)
            .sum();
        let constraints = field("general_progressive_source_flag") << 7
            | field("general_interlaced_source_flag") << 6
            | field("general_non_packed_constraint_flag") << 5
            | field("general_frame_only_constraint_flag") << 4;
        assert_eq!((field("general_profile_space"), field("general_tier_flag")), (0, 0));
        format!(
            "hvc1.{}.{compatibility:X}.L{}.{constraints:02X}",
            field("general_profile_idc"),
            field("general_level_idc")
        )
    }

    #[test]
    fn hevc_main() {
        let rendition = encode(&[&SMALL_VIDEO_3S[..], &X265].concat(), 1);
        let (init, streams) = check(&rendition);
        assert_eq!(streams[0]["profile"], "Main");
        let codec = &video(&init).codec;
        // Main (1), compatible with Main and Main 10 (flags 1 and 2 reversed: 6), level as
        // ffprobe reads it. x265 3.5 leaves general_non_packed_constraint_flag clear: .90,
        // where other encoders write .B0.
        assert!(
            codec.starts_with(&format!("hvc1.1.6.L{}.", level(&streams[0]))),
            "{codec}"
        );
        assert_eq!(*codec, hevc_codec_from_sps(&rendition));
        assert_eq!(
            video(&init).media,
            Media::Video {
                width: 320,
                height: 180
            }
        );
    }

    #[test]
    fn hevc_main_10() {
        let rendition = encode(&[&SMALL_VIDEO_3S[..], &X265, &["-pix_fmt", "yuv420p10le"]].concat(), 1);
        let (init, streams) = check(&rendition);
        assert_eq!(streams[0]["profile"], "Main 10");
        let codec = &video(&init).codec;
        assert!(
            codec.starts_with(&format!("hvc1.2.4.L{}.", level(&streams[0]))),
            "{codec}"
        );
        assert_eq!(*codec, hevc_codec_from_sps(&rendition));
    }

    #[test]
    fn av1_8_bit() {
        let rendition = encode(&[&VIDEO_3S[..], &SVT_AV1].concat(), 1);
        let (init, streams) = check(&rendition);
        assert_eq!(streams[0]["profile"], "Main");
        assert_eq!(video(&init).codec, format!("av01.0.{:02}M.08", level(&streams[0])));
        assert_eq!(
            video(&init).media,
            Media::Video {
                width: 640,
                height: 360
            }
        );
    }

    #[test]
    fn av1_10_bit() {
        let rendition = encode(&[&VIDEO_3S[..], &SVT_AV1, &["-pix_fmt", "yuv420p10le"]].concat(), 1);
        let (init, streams) = check(&rendition);
        assert_eq!(streams[0]["pix_fmt"], "yuv420p10le");
        assert_eq!(video(&init).codec, format!("av01.0.{:02}M.10", level(&streams[0])));
    }
}
