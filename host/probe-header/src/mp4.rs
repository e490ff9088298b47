//! ISO BMFF (MP4, MOV, 3GP): top-level box walk, `moov` parsing and fragment accounting.

use vodpipe_core::Probe;
use vodpipe_core::ports::PortError;

use crate::read::Reader;
use crate::{HEAD_BYTES, MAX_METADATA_BYTES, MP4_CONTAINER, bitrate, ms, quarter_turns};

/// Box types a file may start with: `ftyp` in anything recent, the others in old QuickTime files.
const FIRST_BOXES: [&[u8; 4]; 11] = [
    b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"junk", b"uuid", b"sidx",
];

/// Brands of still-image files (HEIF, AVIF) that share the ISO BMFF structure.
const IMAGE_BRANDS: [&[u8; 4]; 7] = [b"heic", b"heix", b"mif1", b"msf1", b"avif", b"heim", b"heis"];

/// Bytes read at a top-level box header: enough for a 64-bit size.
const HEADER_READ: u64 = 16;
/// Bytes read at a box header while walking fragments: a `moof` for a few seconds of video fits,
/// so each fragment usually costs one read.
const FRAGMENT_READ: u64 = 8 * 1024;
/// Largest `moof` (or `mfra`) read; a fragment's sample table is a few KiB.
const MAX_FRAGMENT_BOX: u64 = 1024 * 1024;
/// Reads the fragment walk may use in all (about one per fragment, or per 8 KiB of small ones).
/// Past that, the `mfra` index at the end is cheaper: three reads whatever the file's length.
const FRAGMENT_WALK_READS: u32 = 16;

pub(crate) fn sniff(head: &[u8]) -> bool {
    let Some(kind) = head.get(4..8) else {
        return false;
    };
    FIRST_BOXES.iter().any(|first| first[..] == *kind)
}

/// Walks the top-level boxes, reading only their headers until `moov`, then `moov` itself and,
/// in a fragmented file, the `moof`s.
pub(crate) fn probe(reader: &mut Reader) -> Result<Probe, PortError> {
    let len = reader.len();
    let mut brand: Option<[u8; 4]> = None;
    let mut movie: Option<Movie> = None;
    // Whether every fragment of a fragmented file was accounted for.
    let mut fragments_complete = true;
    let mut offset = 0u64;
    while offset < len {
        let available = len - offset;
        // Past the head a header costs a read of its own. Walking fragments, read on so the `moof`
        // comes with its header; near the end, the rest of the file is likely just `moov`, so fetch
        // it whole and save a round trip.
        let ahead = if movie.is_some() {
            FRAGMENT_READ
        } else if available <= HEAD_BYTES {
            available
        } else {
            HEADER_READ
        };
        if movie.is_some() && (!reader.affordable(ahead) || reader.reads() >= FRAGMENT_WALK_READS) {
            fragments_complete = false;
            break;
        }
        let bytes = reader.read(offset, available.min(8), ahead.saturating_sub(8))?;
        let mut header = match BoxHeader::parse(&bytes) {
            Some(header) => header,
            // Trailing bytes too short or too odd to be a box: the walk is over.
            None if movie.is_some() => break,
            None => return Err(no_moov(brand, format!("unreadable box header at byte {offset}"))),
        };
        if header.header_len == 16 {
            let large = reader.read(offset, 16.min(available), 0)?;
            header = BoxHeader::parse(&large)
                .ok_or_else(|| no_moov(brand, format!("unreadable box header at byte {offset}")))?;
        }
        let size = header.size.unwrap_or(available);
        let Some(end) = offset.checked_add(size).filter(|&end| end <= len) else {
            if &header.kind == b"moov" {
                return Err(PortError::Rejected(format!(
                    "the moov box is cut off: it needs {size} bytes from offset {offset} but the file is {len} bytes \
                     (truncated upload?)"
                )));
            }
            // A box running past the end: a truncated upload. With `moov` read, the headers are
            // whole and the probe can still answer, as ffprobe does.
            if movie.is_some() {
                break;
            }
            let kind = String::from_utf8_lossy(&header.kind).into_owned();
            return Err(no_moov(
                brand,
                format!("the {kind:?} box at byte {offset} runs past the end of the file"),
            ));
        };
        let body_offset = offset + header.header_len;
        let body_len = size - header.header_len;
        match &header.kind {
            b"ftyp" if brand.is_none() && body_len >= 4 => {
                let body = reader.read(body_offset, 4, 0)?;
                brand = body.first_chunk::<4>().copied();
            }
            b"moov" if movie.is_none() => {
                if body_len > MAX_METADATA_BYTES {
                    return Err(PortError::Rejected(format!(
                        "the moov box is {body_len} bytes, more than the {} MiB this prober reads",
                        MAX_METADATA_BYTES >> 20
                    )));
                }
                let body = reader.read(body_offset, body_len, HEADER_READ)?;
                let parsed = Movie::parse(&body);
                if !parsed.fragmented {
                    movie = Some(parsed);
                    break;
                }
                movie = Some(parsed);
            }
            b"moof" => {
                let Some(movie) = movie.as_mut() else {
                    return Err(no_moov(
                        brand,
                        format!("a movie fragment at byte {offset} comes before any moov"),
                    ));
                };
                if body_len > MAX_FRAGMENT_BOX || !reader.affordable(body_len) {
                    fragments_complete = false;
                    break;
                }
                let body = reader.read(body_offset, body_len, FRAGMENT_READ)?;
                movie.add_fragment(&body, offset);
            }
            _ => {}
        }
        offset = end;
    }
    let Some(mut movie) = movie else {
        return Err(no_moov(brand, "none before the end of the file".into()));
    };
    if movie.fragmented && !fragments_complete && movie.fragment_duration.is_none() {
        last_fragment_from_index(reader, &mut movie)?;
    }
    movie.into_probe(len)
}

fn no_moov(brand: Option<[u8; 4]>, detail: String) -> PortError {
    if let Some(brand) = brand
        && IMAGE_BRANDS.iter().any(|image| **image == brand)
    {
        return PortError::Rejected(format!(
            "a HEIF/AVIF image (brand '{}'), not a video",
            String::from_utf8_lossy(&brand)
        ));
    }
    PortError::Rejected(format!("the MP4 has no moov box (truncated upload?): {detail}"))
}

/// A fragmented file with too many fragments to walk and no `mehd`: its `mfra` index (at the end,
/// located by the `mfro` box in the last 16 bytes) points at the last fragment of each track,
/// whose decode time plus length is the track's end.
fn last_fragment_from_index(reader: &mut Reader, movie: &mut Movie) -> Result<(), PortError> {
    let refuse = || {
        PortError::Rejected(
            "a fragmented MP4 with too many fragments to walk and no duration in its header (no mehd box and \
             no mfra index)"
                .into(),
        )
    };
    let len = reader.len();
    if len < 16 || !reader.affordable(16) {
        return Err(refuse());
    }
    let mfro = reader.read(len - 16, 16, 0)?;
    if mfro.get(4..8) != Some(b"mfro") {
        return Err(refuse());
    }
    let mfra_size = Cursor::new(&mfro[12..]).u32().map_or(0, u64::from);
    if mfra_size < 16 + 8 || mfra_size > len || mfra_size > MAX_FRAGMENT_BOX || !reader.affordable(mfra_size) {
        return Err(refuse());
    }
    let mfra = reader.read(len - mfra_size, mfra_size, 0)?;
    if mfra.get(4..8) != Some(b"mfra") {
        return Err(refuse());
    }
    let mut found = false;
    for (kind, tfra) in children(&mfra[8..]) {
        if &kind != b"tfra" {
            continue;
        }
        let Some((track_id, moof_offset)) = last_index_entry(tfra) else {
            continue;
        };
        let Some(track) = movie.tracks.iter_mut().find(|t| t.id == track_id) else {
            continue;
        };
        // Fragments already walked are counted; only a fragment past them adds anything.
        if moof_offset <= track.last_moof_offset && track.fragment_samples > 0 {
            continue;
        }
        let header = moof_offset
            .checked_add(8)
            .filter(|&end| end <= len && reader.affordable(FRAGMENT_READ))
            .map(|_| reader.read(moof_offset, 8, FRAGMENT_READ - 8))
            .transpose()?;
        let Some(header) = header.as_deref().and_then(BoxHeader::parse) else {
            continue;
        };
        let Some(size) = header
            .size
            .filter(|&s| &header.kind == b"moof" && s <= MAX_FRAGMENT_BOX)
        else {
            continue;
        };
        if moof_offset.checked_add(size).is_none_or(|end| end > len) || !reader.affordable(size) {
            continue;
        }
        let body = reader.read(moof_offset + header.header_len, size - header.header_len, 0)?;
        let end = movie.fragment_end(&body, track_id);
        if let Some(end) = end
            && let Some(track) = movie.tracks.iter_mut().find(|t| t.id == track_id)
        {
            track.fragment_end = track.fragment_end.max(end);
            track.end_from_index = true;
            found = true;
        }
    }
    if found { Ok(()) } else { Err(refuse()) }
}

/// Track id and the `moof` offset of the last entry of a `tfra` box.
fn last_index_entry(tfra: &[u8]) -> Option<(u32, u64)> {
    let mut c = Cursor::new(tfra);
    let version = c.u8()?;
    c.skip(3)?;
    let track_id = c.u32()?;
    let sizes = c.u32()?;
    let count = usize::try_from(c.u32()?).ok()?;
    let field = |shift: u32| ((sizes >> shift) & 3) as usize + 1;
    let entry = if version == 1 { 16 } else { 8 } + field(4) + field(2) + field(0);
    let last = count.checked_sub(1)?.checked_mul(entry)?;
    let mut c = Cursor::new(c.rest().get(last..)?);
    let moof_offset = if version == 1 {
        c.skip(8)?;
        c.u64()?
    } else {
        c.skip(4)?;
        u64::from(c.u32()?)
    };
    Some((track_id, moof_offset))
}

struct BoxHeader {
    kind: [u8; 4],
    header_len: u64,
    /// Whole box size; None when it extends to the end of its container (size 0).
    size: Option<u64>,
}

impl BoxHeader {
    /// Parses a header from its first 8 bytes, or 16 with a 64-bit size. A header that needs 16
    /// bytes but got 8 comes back with `header_len` 16 and no size checked yet.
    fn parse(bytes: &[u8]) -> Option<Self> {
        let mut c = Cursor::new(bytes);
        let size = c.u32()?;
        let kind = c.fourcc()?;
        let (header_len, size) = match size {
            0 => (8, None),
            1 => match c.u64() {
                Some(large) if large >= 16 => (16, Some(large)),
                Some(_) => return None,
                None => (16, Some(16)),
            },
            2..8 => return None,
            size => (8, Some(u64::from(size))),
        };
        Some(Self { kind, header_len, size })
    }
}

/// What `moov` (and the fragments) say.
#[derive(Default)]
struct Movie {
    timescale: u32,
    duration: u64,
    /// The movie matrix, applied after each track's.
    matrix: Option<[f64; 9]>,
    fragmented: bool,
    /// `mehd`: the whole fragmented movie's duration, in the movie timescale.
    fragment_duration: Option<u64>,
    trex: Vec<Trex>,
    tracks: Vec<Track>,
}

/// `trex`: per-track defaults for fragments.
#[derive(Clone, Copy, Default)]
struct Trex {
    track_id: u32,
    sample_duration: u32,
    sample_size: u32,
}

#[derive(Default)]
struct Track {
    id: u32,
    handler: [u8; 4],
    matrix: Option<[f64; 9]>,
    timescale: u32,
    /// `mdhd` duration, in `timescale`.
    duration: u64,
    /// First sample entry's format, e.g. `avc1` (the original format for encrypted entries).
    codec: Option<[u8; 4]>,
    width: u32,
    height: u32,
    /// From `stts`.
    samples: u64,
    sample_ticks: u64,
    /// From `stsz`.
    sample_bytes: u64,
    // From the fragments.
    fragment_samples: u64,
    fragment_ticks: u64,
    fragment_bytes: u64,
    /// Latest decode time reached by a fragment (its `tfdt` plus its length).
    fragment_end: u64,
    last_moof_offset: u64,
    /// Whether `fragment_end` came from the `mfra` index, past the fragments walked.
    end_from_index: bool,
}

impl Movie {
    fn parse(moov: &[u8]) -> Self {
        let mut movie = Movie::default();
        for (kind, body) in children(moov) {
            match &kind {
                b"mvhd" => {
                    // A short box leaves what it could not give at its default, as elsewhere.
                    let _ = movie.parse_mvhd(body);
                }
                b"mvex" => {
                    movie.fragmented = true;
                    for (kind, body) in children(body) {
                        match &kind {
                            b"mehd" => movie.fragment_duration = parse_mehd(body).filter(|&d| d > 0),
                            b"trex" => movie.trex.extend(parse_trex(body)),
                            _ => {}
                        }
                    }
                }
                b"trak" => movie.tracks.push(Track::parse(body)),
                _ => {}
            }
        }
        movie
    }

    fn parse_mvhd(&mut self, body: &[u8]) -> Option<()> {
        let mut c = Cursor::new(body);
        let version = c.u8()?;
        c.skip(3)?;
        if version == 1 {
            c.skip(16)?;
            self.timescale = c.u32()?;
            self.duration = unknown_as_zero(c.u64()?);
        } else {
            c.skip(8)?;
            self.timescale = c.u32()?;
            self.duration = unknown_as_zero(u64::from(c.u32()?));
        }
        // rate (4), volume (2), reserved (10)
        c.skip(16)?;
        self.matrix = Some(matrix(&mut c)?);
        Some(())
    }

    fn add_fragment(&mut self, moof: &[u8], moof_offset: u64) {
        for (kind, traf) in children(moof) {
            if &kind != b"traf" {
                continue;
            }
            let Some(fragment) = self.parse_traf(traf) else {
                continue;
            };
            let Some(track) = self.tracks.iter_mut().find(|t| t.id == fragment.track_id) else {
                continue;
            };
            track.last_moof_offset = moof_offset;
            track.fragment_samples = track.fragment_samples.saturating_add(fragment.samples);
            track.fragment_ticks = track.fragment_ticks.saturating_add(fragment.ticks);
            track.fragment_bytes = track.fragment_bytes.saturating_add(fragment.bytes);
            // Without `tfdt`, fragments are taken to follow each other and the samples in `moov`.
            let start = fragment
                .decode_time
                .unwrap_or(track.sample_ticks.saturating_add(track.fragment_ticks - fragment.ticks));
            track.fragment_end = track.fragment_end.max(start.saturating_add(fragment.ticks));
        }
    }

    /// The decode time at which `track_id`'s part of a `moof` ends.
    fn fragment_end(&self, moof: &[u8], track_id: u32) -> Option<u64> {
        children(moof)
            .filter(|(kind, _)| kind == b"traf")
            .filter_map(|(_, traf)| self.parse_traf(traf))
            .filter(|fragment| fragment.track_id == track_id)
            .filter_map(|fragment| Some(fragment.decode_time?.saturating_add(fragment.ticks)))
            .max()
    }

    fn parse_traf(&self, traf: &[u8]) -> Option<Fragment> {
        let tfhd = children(traf).find(|(kind, _)| kind == b"tfhd")?.1;
        let mut c = Cursor::new(tfhd);
        let flags = c.u32()? & 0x00FF_FFFF;
        let track_id = c.u32()?;
        let trex = self
            .trex
            .iter()
            .find(|t| t.track_id == track_id)
            .copied()
            .unwrap_or_default();
        if flags & 0x01 != 0 {
            c.skip(8)?; // base data offset
        }
        if flags & 0x02 != 0 {
            c.skip(4)?; // sample description index
        }
        let default_duration = if flags & 0x08 != 0 {
            c.u32()?
        } else {
            trex.sample_duration
        };
        let default_size = if flags & 0x10 != 0 { c.u32()? } else { trex.sample_size };
        let mut fragment = Fragment {
            track_id,
            ..Fragment::default()
        };
        for (kind, body) in children(traf) {
            match &kind {
                b"tfdt" => {
                    let mut c = Cursor::new(body);
                    let version = c.u8()?;
                    c.skip(3)?;
                    fragment.decode_time = if version == 1 { c.u64() } else { c.u32().map(u64::from) };
                }
                b"trun" => {
                    let _ = add_trun(&mut fragment, body, default_duration, default_size);
                }
                _ => {}
            }
        }
        Some(fragment)
    }

    fn into_probe(self, file_len: u64) -> Result<Probe, PortError> {
        let video = self
            .tracks
            .iter()
            .find(|t| &t.handler == b"vide")
            .ok_or_else(|| PortError::Rejected("the file has no video track (an audio-only file?)".into()))?;
        let has_audio = self.tracks.iter().any(|t| &t.handler == b"soun");
        let (duration, timescale) = self.duration();
        let duration_ms = ms(duration, timescale);
        let timescale_v = u64::from(video.timescale);
        let samples = video.samples.saturating_add(video.fragment_samples);
        let ticks = video.sample_ticks.saturating_add(video.fragment_ticks);
        // As ffprobe: frames over the sum of their durations.
        let frame_rate = if samples > 0 && ticks > 0 && timescale_v > 0 {
            samples as f64 * timescale_v as f64 / ticks as f64
        } else {
            0.0
        };
        // As ffprobe: sample bytes over the track's duration (`mdhd`, else the samples' sum). When
        // the fragment walk stopped early, this is the average over the fragments walked.
        let video_bitrate = if self.fragmented {
            bitrate(
                video.sample_bytes.saturating_add(video.fragment_bytes),
                ticks,
                timescale_v,
            )
        } else {
            let track_ticks = if video.duration > 0 { video.duration } else { ticks };
            bitrate(video.sample_bytes, track_ticks, timescale_v)
        };
        Ok(Probe {
            width: video.width,
            height: video.height,
            rotation: rotation(video.matrix, self.matrix),
            duration_ms,
            frame_rate,
            video_bitrate,
            total_bitrate: bitrate(file_len, duration, timescale),
            has_audio,
            container: MP4_CONTAINER.to_owned(),
            video_codec: video.codec.map(codec_name).unwrap_or_default(),
            analysis: Default::default(),
        })
    }

    /// The movie's duration as (ticks, timescale).
    fn duration(&self) -> (u64, u64) {
        let movie_timescale = u64::from(self.timescale);
        if self.fragmented {
            if let Some(duration) = self.fragment_duration
                && movie_timescale > 0
            {
                return (duration, movie_timescale);
            }
            // The longest track, in milliseconds so tracks with different timescales compare.
            let longest = self
                .tracks
                .iter()
                .map(|t| ms(t.fragment_end.max(t.sample_ticks), u64::from(t.timescale)))
                .max()
                .unwrap_or(0);
            if longest > 0 {
                return (longest, 1000);
            }
        }
        if self.duration > 0 && movie_timescale > 0 {
            return (self.duration, movie_timescale);
        }
        let longest = self
            .tracks
            .iter()
            .map(|t| ms(t.duration, u64::from(t.timescale)))
            .max()
            .unwrap_or(0);
        (longest, 1000)
    }
}

#[derive(Default)]
struct Fragment {
    track_id: u32,
    decode_time: Option<u64>,
    samples: u64,
    ticks: u64,
    bytes: u64,
}

fn add_trun(fragment: &mut Fragment, trun: &[u8], default_duration: u32, default_size: u32) -> Option<()> {
    let mut c = Cursor::new(trun);
    let flags = c.u32()? & 0x00FF_FFFF;
    let count = u64::from(c.u32()?);
    if flags & 0x001 != 0 {
        c.skip(4)?; // data offset
    }
    if flags & 0x004 != 0 {
        c.skip(4)?; // first sample flags
    }
    let has_duration = flags & 0x100 != 0;
    let has_size = flags & 0x200 != 0;
    let per_sample = [0x100, 0x200, 0x400, 0x800].iter().filter(|&&f| flags & f != 0).count() * 4;
    if per_sample == 0 {
        // Every sample takes the defaults: multiply rather than loop over a count that could be 4 billion.
        fragment.samples = fragment.samples.saturating_add(count);
        fragment.ticks = fragment
            .ticks
            .saturating_add(count.saturating_mul(u64::from(default_duration)));
        fragment.bytes = fragment
            .bytes
            .saturating_add(count.saturating_mul(u64::from(default_size)));
        return Some(());
    }
    // Each iteration consumes `per_sample` bytes, so the table's length bounds the loop.
    let rows = c
        .rest()
        .chunks_exact(per_sample)
        .take(usize::try_from(count).unwrap_or(usize::MAX));
    for row in rows {
        let mut r = Cursor::new(row);
        let duration = if has_duration { r.u32()? } else { default_duration };
        let size = if has_size { r.u32()? } else { default_size };
        fragment.samples = fragment.samples.saturating_add(1);
        fragment.ticks = fragment.ticks.saturating_add(u64::from(duration));
        fragment.bytes = fragment.bytes.saturating_add(u64::from(size));
    }
    Some(())
}

impl Track {
    fn parse(trak: &[u8]) -> Self {
        let mut track = Track::default();
        for (kind, body) in children(trak) {
            match &kind {
                b"tkhd" => {
                    let _ = track.parse_tkhd(body);
                }
                b"mdia" => track.parse_mdia(body),
                _ => {}
            }
        }
        track
    }

    fn parse_tkhd(&mut self, body: &[u8]) -> Option<()> {
        let mut c = Cursor::new(body);
        let version = c.u8()?;
        c.skip(3)?;
        if version == 1 {
            c.skip(16)?;
            self.id = c.u32()?;
            c.skip(4 + 8)?;
        } else {
            c.skip(8)?;
            self.id = c.u32()?;
            c.skip(4 + 4)?;
        }
        // reserved (8), layer, alternate group, volume, reserved (2 each)
        c.skip(16)?;
        self.matrix = Some(matrix(&mut c)?);
        // The 16.16 presentation size stands in if the sample entry has none.
        let width = c.u32()? >> 16;
        let height = c.u32()? >> 16;
        if self.width == 0 || self.height == 0 {
            (self.width, self.height) = (width, height);
        }
        Some(())
    }

    fn parse_mdhd(&mut self, body: &[u8]) -> Option<()> {
        let mut c = Cursor::new(body);
        let version = c.u8()?;
        c.skip(3)?;
        if version == 1 {
            c.skip(16)?;
            self.timescale = c.u32()?;
            self.duration = unknown_as_zero(c.u64()?);
        } else {
            c.skip(8)?;
            self.timescale = c.u32()?;
            self.duration = unknown_as_zero(u64::from(c.u32()?));
        }
        Some(())
    }

    fn parse_mdia(&mut self, mdia: &[u8]) {
        for (kind, body) in children(mdia) {
            match &kind {
                b"mdhd" => {
                    let _ = self.parse_mdhd(body);
                }
                // QuickTime puts the component subtype where ISO puts the handler type.
                b"hdlr" => {
                    if let Some(handler) = body.get(8..12).and_then(|h| h.first_chunk::<4>()) {
                        self.handler = *handler;
                    }
                }
                b"minf" => {
                    if let Some(stbl) = child(body, b"stbl") {
                        self.parse_stbl(stbl);
                    }
                }
                _ => {}
            }
        }
    }

    fn parse_stbl(&mut self, stbl: &[u8]) {
        for (kind, body) in children(stbl) {
            match &kind {
                b"stsd" => {
                    let _ = self.parse_stsd(body);
                }
                b"stts" => {
                    let _ = self.parse_stts(body);
                }
                b"stsz" => {
                    let _ = self.parse_stsz(body);
                }
                b"stz2" => {
                    let _ = self.parse_stz2(body);
                }
                _ => {}
            }
        }
    }

    /// The first sample entry gives the codec and, for video, the coded size.
    fn parse_stsd(&mut self, stsd: &[u8]) -> Option<()> {
        let (format, entry) = children(stsd.get(8..)?).next()?;
        self.codec = Some(format);
        if &self.handler != b"vide" {
            return Some(());
        }
        let mut c = Cursor::new(entry);
        // reserved (6), data reference index (2), version/revision/vendor/qualities (16)
        c.skip(24)?;
        let width = u32::from(c.u16()?);
        let height = u32::from(c.u16()?);
        if width > 0 && height > 0 {
            (self.width, self.height) = (width, height);
        }
        // Encrypted entries (`encv`) name the real codec in `sinf/frma`, after the 78-byte fixed part.
        if &format == b"encv"
            && let Some(original) = entry
                .get(78..)
                .and_then(|boxes| child(boxes, b"sinf"))
                .and_then(|sinf| child(sinf, b"frma"))
                .and_then(|frma| frma.first_chunk::<4>())
        {
            self.codec = Some(*original);
        }
        Some(())
    }

    fn parse_stts(&mut self, stts: &[u8]) -> Option<()> {
        let mut c = Cursor::new(stts);
        c.skip(4)?;
        let count = usize::try_from(c.u32()?).unwrap_or(usize::MAX);
        // Bounded by the table's length, whatever the count claims.
        for entry in c.rest().chunks_exact(8).take(count) {
            let mut e = Cursor::new(entry);
            let samples = u64::from(e.u32()?);
            let delta = u64::from(e.u32()?);
            self.samples = self.samples.saturating_add(samples);
            self.sample_ticks = self.sample_ticks.saturating_add(samples.saturating_mul(delta));
        }
        Some(())
    }

    fn parse_stsz(&mut self, stsz: &[u8]) -> Option<()> {
        let mut c = Cursor::new(stsz);
        c.skip(4)?;
        let size = u64::from(c.u32()?);
        let count = u64::from(c.u32()?);
        self.sample_bytes = if size != 0 {
            size.saturating_mul(count)
        } else {
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            c.rest()
                .chunks_exact(4)
                .take(count)
                .map(|s| u64::from(u32::from_be_bytes([s[0], s[1], s[2], s[3]])))
                .fold(0u64, u64::saturating_add)
        };
        Some(())
    }

    /// The compact sample size table: 4-, 8- or 16-bit sizes.
    fn parse_stz2(&mut self, stz2: &[u8]) -> Option<()> {
        let mut c = Cursor::new(stz2);
        c.skip(7)?;
        let field = c.u8()?;
        let count = usize::try_from(c.u32()?).unwrap_or(usize::MAX);
        let table = c.rest();
        self.sample_bytes = match field {
            4 => table
                .iter()
                .flat_map(|b| [u64::from(b >> 4), u64::from(b & 0x0F)])
                .take(count)
                .sum(),
            8 => table.iter().take(count).map(|&b| u64::from(b)).sum(),
            16 => table
                .chunks_exact(2)
                .take(count)
                .map(|s| u64::from(u16::from_be_bytes([s[0], s[1]])))
                .sum(),
            _ => 0,
        };
        Some(())
    }
}

fn parse_mehd(body: &[u8]) -> Option<u64> {
    let mut c = Cursor::new(body);
    let version = c.u8()?;
    c.skip(3)?;
    if version == 1 { c.u64() } else { c.u32().map(u64::from) }
}

fn parse_trex(body: &[u8]) -> Option<Trex> {
    let mut c = Cursor::new(body);
    c.skip(4)?;
    let track_id = c.u32()?;
    c.skip(4)?; // default sample description index
    Some(Trex {
        track_id,
        sample_duration: c.u32()?,
        sample_size: c.u32()?,
    })
}

/// All-ones durations mean "unknown".
fn unknown_as_zero(duration: u64) -> u64 {
    if duration == u64::MAX || duration == u64::from(u32::MAX) {
        0
    } else {
        duration
    }
}

/// A 3×3 display matrix as real numbers: the first two columns are 16.16 fixed point, the last 2.30.
fn matrix(c: &mut Cursor) -> Option<[f64; 9]> {
    let mut m = [0.0; 9];
    for (i, value) in m.iter_mut().enumerate() {
        let raw = f64::from(c.u32()? as i32);
        *value = if i % 3 == 2 {
            raw / f64::from(1 << 30)
        } else {
            raw / 65536.0
        };
    }
    Some(m)
}

/// Clockwise display rotation of a track, computed as ffmpeg does: the track matrix times the movie
/// matrix, then the angle of the first row with each column's scale divided out (so a mirrored
/// matrix still yields its rotation).
fn rotation(track: Option<[f64; 9]>, movie: Option<[f64; 9]>) -> u32 {
    let Some(track) = track else {
        return 0;
    };
    let m = match movie {
        Some(movie) => {
            let mut product = [0.0; 9];
            for i in 0..3 {
                for j in 0..3 {
                    product[i * 3 + j] = (0..3).map(|k| track[i * 3 + k] * movie[k * 3 + j]).sum();
                }
            }
            product
        }
        None => track,
    };
    let (a, b, c, d) = (m[0], m[1], m[3], m[4]);
    // Not f64::hypot: glibc's `hypot` symbol is versioned 2.35, newer than Amazon Linux
    // 2023's glibc, and matrix entries are far from overflowing a plain square root.
    let (scale_x, scale_y) = ((a * a + c * c).sqrt(), (b * b + d * d).sqrt());
    if scale_x == 0.0 || scale_y == 0.0 {
        return 0;
    }
    quarter_turns((b / scale_y).atan2(a / scale_x).to_degrees())
}

/// ffprobe's codec name for a sample entry format.
fn codec_name(format: [u8; 4]) -> String {
    let name = match &format {
        b"avc1" | b"avc2" | b"avc3" | b"avc4" | b"dvav" | b"dva1" => "h264",
        b"hvc1" | b"hev1" | b"dvh1" | b"dvhe" => "hevc",
        b"av01" => "av1",
        b"vp09" => "vp9",
        b"vp08" => "vp8",
        b"mp4v" => "mpeg4",
        b"apch" | b"apcn" | b"apcs" | b"apco" | b"ap4h" | b"ap4x" => "prores",
        b"jpeg" | b"mjpa" => "mjpeg",
        b"s263" | b"h263" => "h263",
        b"raw " => "rawvideo",
        b"vvc1" | b"vvi1" => "vvc",
        _ => return String::from_utf8_lossy(&format).trim().to_owned(),
    };
    name.to_owned()
}

/// The first child box of `kind`.
fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(data).find(|(k, _)| k == kind).map(|(_, body)| body)
}

/// The boxes inside a box body. Iteration stops at the first box that does not fit its parent:
/// like ffmpeg, take what is readable rather than refuse the file.
fn children(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let header = BoxHeader::parse(rest)?;
        let header_len = usize::try_from(header.header_len).ok()?;
        let size = match header.size {
            Some(size) => usize::try_from(size).ok()?,
            None => rest.len(),
        };
        if size < header_len || size > rest.len() {
            return None;
        }
        let body = &rest[header_len..size];
        rest = &rest[size..];
        Some((header.kind, body))
    })
}

/// Big-endian reads that return None instead of running past the end.
struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (bytes, rest) = self.data.split_first_chunk::<N>()?;
        self.data = rest;
        Some(*bytes)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.data = self.data.get(n..)?;
        Some(())
    }

    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|[b]| b)
    }

    fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_be_bytes)
    }

    fn fourcc(&mut self) -> Option<[u8; 4]> {
        self.take()
    }

    fn rest(&self) -> &'a [u8] {
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn fixed(values: [i32; 9]) -> [f64; 9] {
        let mut bytes = Vec::new();
        for v in values {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        matrix(&mut Cursor::new(&bytes)).unwrap()
    }

    const ONE: i32 = 0x10000;
    const W: i32 = 0x4000_0000;

    #[test]
    fn rotation_follows_the_display_matrix_clockwise() {
        let identity = fixed([ONE, 0, 0, 0, ONE, 0, 0, 0, W]);
        assert_eq!(rotation(Some(identity), Some(identity)), 0);
        // What ffmpeg writes for a phone video held upright (90° clockwise).
        let cw90 = fixed([0, ONE, 0, -ONE, 0, 0, 720 << 16, 0, W]);
        assert_eq!(rotation(Some(cw90), Some(identity)), 90);
        assert_eq!(rotation(Some(fixed([-ONE, 0, 0, 0, -ONE, 0, 0, 0, W])), None), 180);
        assert_eq!(rotation(Some(fixed([0, -ONE, 0, ONE, 0, 0, 0, 0, W])), None), 270);
        // Track and movie rotations compose.
        assert_eq!(rotation(Some(cw90), Some(cw90)), 180);
        // Mirrored: the scale is divided out, the rotation stays.
        assert_eq!(rotation(Some(fixed([0, ONE, 0, ONE, 0, 0, 0, 0, W])), None), 90);
        assert_eq!(rotation(Some([0.0; 9]), None), 0);
    }

    #[test]
    fn box_headers_handle_64_bit_and_to_the_end_sizes() {
        let header = BoxHeader::parse(b"\0\0\0\x01mdat\0\0\0\x01\0\0\0\0").unwrap();
        assert_eq!((header.header_len, header.size), (16, Some(1 << 32)));
        let header = BoxHeader::parse(b"\0\0\0\0mdat").unwrap();
        assert_eq!((header.header_len, header.size), (8, None));
        assert!(BoxHeader::parse(b"\0\0\0\x04mdat").is_none());
        assert!(BoxHeader::parse(b"\0\0\0\x01mdat\0\0\0\0\0\0\0\x08").is_none());
        // Only 8 bytes of a 64-bit header: asks for the other 8.
        assert_eq!(BoxHeader::parse(b"\0\0\0\x01mdat").unwrap().header_len, 16);
    }

    #[test]
    fn children_stop_at_a_box_overrunning_its_parent() {
        let mut data = boxed(b"free", b"abc");
        data.extend_from_slice(b"\0\0\x01\0trak");
        let kinds: Vec<_> = children(&data).map(|(k, _)| k).collect();
        assert_eq!(kinds, [*b"free"]);
    }

    #[test]
    fn trun_with_a_huge_count_and_no_table_multiplies() {
        let mut fragment = Fragment::default();
        let mut trun = vec![0, 0, 0, 0];
        trun.extend_from_slice(&u32::MAX.to_be_bytes());
        add_trun(&mut fragment, &trun, 512, 100);
        assert_eq!(fragment.samples, u64::from(u32::MAX));
        assert_eq!(fragment.ticks, u64::from(u32::MAX) * 512);
        // A table shorter than its count stops at the table's end.
        let mut trun = vec![0, 0, 0x01, 0];
        trun.extend_from_slice(&u32::MAX.to_be_bytes());
        trun.extend_from_slice(&1000u32.to_be_bytes());
        let mut fragment = Fragment::default();
        add_trun(&mut fragment, &trun, 512, 100);
        assert_eq!((fragment.samples, fragment.ticks), (1, 1000));
    }

    /// A source that claims to be huge and holds zeros past its prefix, so tests can describe big
    /// files without allocating them.
    struct Sparse {
        prefix: Vec<u8>,
        len: u64,
    }

    impl crate::RangeSource for Sparse {
        fn len(&self) -> Result<u64, PortError> {
            Ok(self.len)
        }
        fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>, PortError> {
            assert!(offset + len <= self.len && len <= crate::MAX_BYTES_READ);
            let mut out = vec![0; len as usize];
            for (i, byte) in out.iter_mut().enumerate() {
                if let Some(&b) = self.prefix.get(offset as usize + i) {
                    *byte = b;
                }
            }
            Ok(out)
        }
    }

    #[test]
    fn an_absurd_moov_is_refused_without_reading_it() {
        let mut prefix = boxed(b"ftyp", b"isom\0\0\0\0");
        prefix.extend_from_slice(&(64u32 << 20).to_be_bytes());
        prefix.extend_from_slice(b"moov");
        let source = crate::Counted::new(Sparse { prefix, len: 100 << 20 });
        let err = crate::probe(&source).unwrap_err().to_string();
        assert!(
            err.contains("moov box is 67108856 bytes, more than the 16 MiB"),
            "{err}"
        );
        assert_eq!(source.reads(), 1);
    }

    #[test]
    fn a_huge_mdat_is_skipped_and_a_missing_moov_reported() {
        let mut prefix = boxed(b"ftyp", b"isom\0\0\0\0");
        prefix.extend_from_slice(b"\0\0\0\x01mdat");
        prefix.extend_from_slice(&(1u64 << 40).to_be_bytes());
        let source = crate::Counted::new(Sparse { prefix, len: 1 << 40 });
        let err = crate::probe(&source).unwrap_err().to_string();
        // The mdat ends exactly at the end of the file: there was no room for a moov.
        assert!(err.contains("no moov box"), "{err}");
        assert_eq!(source.reads(), 1);
    }

    #[test]
    fn heif_images_are_named() {
        let mut file = boxed(b"ftyp", b"heic\0\0\0\0mif1heic");
        file.extend(boxed(b"meta", &[0; 32]));
        file.extend(boxed(b"mdat", &[0; 64]));
        let err = crate::probe(&file).unwrap_err().to_string();
        assert_eq!(err, "a HEIF/AVIF image (brand 'heic'), not a video");
    }

    #[test]
    fn codec_names_follow_ffprobe() {
        assert_eq!(codec_name(*b"avc1"), "h264");
        assert_eq!(codec_name(*b"hev1"), "hevc");
        assert_eq!(codec_name(*b"av01"), "av1");
        assert_eq!(codec_name(*b"vp09"), "vp9");
        assert_eq!(codec_name(*b"xyz "), "xyz");
    }
}
