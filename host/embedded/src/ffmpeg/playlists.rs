//! What a finished job wrote, read back: each rendition's playlist checked and measured, and
//! the HLS master playlist written from it (BANDWIDTH, AVERAGE-BANDWIDTH, CODECS true to the
//! stream); in CMAF also each video rendition's I-frame playlist, the audio renditions'
//! `EXT-X-MEDIA` and the DASH MPD over the same segments.

use std::fmt::Write as _;
use std::path::Path;

use vodpipe_core::{JobOutput, Packaging};

use super::fmp4::{self, Fragment, InitSegment};
use super::job::{AudioRendition, Encoding, HlsJob, Variant};
use super::ts;
use crate::child;
use crate::ffprobe::FfprobeProber;
use vodpipe_core::ports::Prober;

/// Reads back what ffmpeg wrote and writes the master playlist with the attributes players
/// use to choose a variant: BANDWIDTH (peak segment bitrate), AVERAGE-BANDWIDTH, RESOLUTION,
/// CODECS and FRAME-RATE.
pub(super) fn finish(job: &HlsJob) -> Result<(Vec<JobOutput>, String), String> {
    if job.packaging == Packaging::Cmaf {
        return finish_cmaf(job);
    }
    let prober = FfprobeProber::default();
    let mut outputs = Vec::new();
    let mut i_frame_lines = String::new();
    let mut master = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for v in &job.variants {
        let name = format!("{}{}.m3u8", job.manifest, v.modifier);
        let playlist = job.output_dir.join(&name);
        let (peak, average, duration_ms) = bandwidth(&playlist)?;
        // The job fixed size and frame rate; only a frame rate kept from the source needs a look.
        let frame_rate = match v.frame_rate {
            Some((num, den)) => num as f64 / den as f64,
            None => prober.probe(&playlist).map_err(|e| format!("{name}: {e}"))?.frame_rate,
        };
        // MPEG-TS carries H.264 only (the job reader refuses the others there).
        let Encoding::H264 { profile, level } = v.encoding else {
            return Err(format!("{name}: only H.264 is written in MPEG-TS"));
        };
        // The level the job asked for is the one x264 wrote; with AUTO, x264 chose: read it.
        let level_idc = match level {
            Some(level) => level.idc(),
            None => stream_level_idc(&playlist).map_err(|e| format!("{name}: {e}"))?,
        };
        let video_codec = profile.avc1(level_idc);
        let codecs = match &v.audio {
            Some(_) => format!("{video_codec},mp4a.40.2"),
            None => video_codec.clone(),
        };
        if v.i_frame_playlist {
            let segments = segments(&playlist)?;
            let (uri, bandwidth) = write_i_frame_playlist(job, &v.modifier, None, &ts_i_frames(job, &segments)?)?;
            writeln!(
                i_frame_lines,
                "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={}x{},CODECS=\"{video_codec}\",URI=\"{uri}\"",
                v.width, v.height
            )
            .unwrap();
        }
        writeln!(
            master,
            "#EXT-X-STREAM-INF:BANDWIDTH={peak},AVERAGE-BANDWIDTH={average},RESOLUTION={}x{},CODECS=\"{codecs}\",FRAME-RATE={:.3}",
            v.width, v.height, frame_rate
        )
        .unwrap();
        writeln!(master, "{name}").unwrap();
        outputs.push(JobOutput {
            path: name,
            width: v.width as u32,
            height: v.height as u32,
            duration_ms,
        });
    }
    master.push_str(&i_frame_lines);
    let master_name = format!("{}.m3u8", job.manifest);
    write_file(job, &master_name, &master)?;
    thumbnail_written(job)?;
    Ok((outputs, master_name))
}

/// Writes `name` in the job's directory whole or not at all (a temporary file renamed).
fn write_file(job: &HlsJob, name: &str, text: &str) -> Result<(), String> {
    let tmp = job.output_dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, job.output_dir.join(name)))
        .map_err(|e| format!("cannot write {name}: {e}"))
}

fn thumbnail_written(job: &HlsJob) -> Result<(), String> {
    match &job.thumbnail {
        Some(t) if !t.path.is_file() => Err(format!("no thumbnail was captured at {:.1} s", t.at_seconds)),
        _ => Ok(()),
    }
}

/// One CMAF track as written: its playlist's segments, its init segment's track, each
/// segment's fragment of it, and the rates over its segments.
struct Track {
    playlist: String,
    init: String,
    segments: Vec<(String, f64)>,
    track: fmp4::Track,
    fragments: Vec<Fragment>,
    peak: u64,
    average: u64,
    duration_ms: u64,
}

fn read_track(job: &HlsJob, modifier: &str) -> Result<Track, String> {
    let playlist = format!("{}{modifier}.m3u8", job.manifest);
    let init = format!("{}{modifier}_init.mp4", job.manifest);
    let path = job.output_dir.join(&playlist);
    let (peak, average, duration_ms) = bandwidth(&path)?;
    let segments = segments(&path)?;
    let init_bytes = std::fs::read(job.output_dir.join(&init)).map_err(|e| format!("{init}: {e}"))?;
    let InitSegment { tracks } = fmp4::read_init(&init_bytes).map_err(|e| format!("{init}: {e}"))?;
    let [track] = <[fmp4::Track; 1]>::try_from(tracks).map_err(|t| format!("{init}: {} tracks, not one", t.len()))?;
    let mut fragments = Vec::new();
    for (uri, _) in &segments {
        let bytes = std::fs::read(job.output_dir.join(uri)).map_err(|e| format!("{uri}: {e}"))?;
        let fragment = fmp4::read_fragments(&bytes)
            .map_err(|e| format!("{uri}: {e}"))?
            .into_iter()
            .find(|f| f.track_id == track.track_id)
            .ok_or_else(|| format!("{uri}: no fragment of track {}", track.track_id))?;
        fragments.push(fragment);
    }
    Ok(Track {
        playlist,
        init,
        segments,
        track,
        fragments,
        peak,
        average,
        duration_ms,
    })
}

/// The CMAF layout: the audio tracks as `EXT-X-MEDIA` renditions of their groups, each video
/// track a variant (its rates summed with its audio group's, RFC 8216 4.3.4.2) with an
/// I-frame playlist, and the DASH MPD over the same files.
fn finish_cmaf(job: &HlsJob) -> Result<(Vec<JobOutput>, String), String> {
    let language = source_language(&job.input);
    let audios: Vec<(&AudioRendition, Track)> = job
        .audio_renditions
        .iter()
        .map(|a| read_track(job, &a.modifier).map(|t| (a, t)))
        .collect::<Result<_, _>>()?;
    let videos: Vec<(&Variant, Track)> = job
        .variants
        .iter()
        .map(|v| read_track(job, &v.modifier).map(|t| (v, t)))
        .collect::<Result<_, _>>()?;

    let mut master = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for (a, track) in &audios {
        let name = language.as_ref().map_or("Audio".to_owned(), |(_, name)| name.clone());
        write!(
            master,
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{}\",NAME=\"{name}\",",
            a.group
        )
        .unwrap();
        // Apple's authoring rules want a LANGUAGE on every audio rendition: `und` when unknown.
        let tag = language.as_ref().map_or("und", |(tag, _)| tag.as_str());
        write!(master, "LANGUAGE=\"{tag}\",").unwrap();
        writeln!(
            master,
            "DEFAULT={},AUTOSELECT=YES,CHANNELS=\"{}\",URI=\"{}\"",
            if a.default { "YES" } else { "NO" },
            a.audio.channels,
            track.playlist
        )
        .unwrap();
    }
    let mut outputs = Vec::new();
    let mut i_frame_lines = String::new();
    for (v, track) in &videos {
        let audio = match &v.audio_group {
            Some(group) => audios.iter().find(|(a, _)| &a.group == group).map(|(_, t)| t),
            None => None,
        };
        let (peak, average) = audio.map_or((track.peak, track.average), |a| {
            (track.peak + a.peak, track.average + a.average)
        });
        let codecs = match audio {
            Some(a) => format!("{},{}", track.track.codec, a.track.codec),
            None => track.track.codec.clone(),
        };
        let frame_rate = match v.frame_rate {
            Some((num, den)) => num as f64 / den as f64,
            None => frame_rate(track)?,
        };
        write!(
            master,
            "#EXT-X-STREAM-INF:BANDWIDTH={peak},AVERAGE-BANDWIDTH={average},RESOLUTION={}x{},CODECS=\"{codecs}\",FRAME-RATE={frame_rate:.3}",
            v.width, v.height
        )
        .unwrap();
        if let Some(group) = &v.audio_group {
            write!(master, ",AUDIO=\"{group}\"").unwrap();
        }
        writeln!(master, "\n{}", track.playlist).unwrap();
        if v.i_frame_playlist {
            let (name, bandwidth) =
                write_i_frame_playlist(job, &v.modifier, Some(&track.init), &cmaf_i_frames(track)?)?;
            writeln!(
                i_frame_lines,
                "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={}x{},CODECS=\"{}\",URI=\"{name}\"",
                v.width, v.height, track.track.codec
            )
            .unwrap();
        }
        outputs.push(JobOutput {
            path: track.playlist.clone(),
            width: v.width as u32,
            height: v.height as u32,
            duration_ms: track.duration_ms,
        });
    }
    master.push_str(&i_frame_lines);
    write_file(
        job,
        &format!("{}.mpd", job.manifest),
        &mpd(&videos, &audios, language.as_ref()),
    )?;
    let master_name = format!("{}.m3u8", job.manifest);
    write_file(job, &master_name, &master)?;
    thumbnail_written(job)?;
    Ok((outputs, master_name))
}

/// Frames per second of a track whose rate the job kept from the source: its first
/// fragment's samples over their duration.
fn frame_rate(track: &Track) -> Result<f64, String> {
    let f = track.fragments.first().ok_or("no fragments")?;
    if f.duration == 0 {
        return Err(format!("{}: its first fragment has no duration", track.playlist));
    }
    Ok(f64::from(f.sample_count) * f64::from(track.track.timescale) / f.duration as f64)
}

/// One entry of an I-frame playlist: a segment's first frame as a byte range of it.
struct IFrame<'a> {
    uri: &'a str,
    duration: f64,
    offset: u64,
    length: u64,
}

/// `<manifest><modifier>_iframes.m3u8` (RFC 8216 4.3.3.6, 4.3.2.2): each segment's first frame,
/// an IDR, as a byte range; `map` names the init segment in CMAF (a MPEG-TS range starts at
/// its segment's PAT and PMT instead). Returns its name and BANDWIDTH, the peak (RFC 8216 4.1)
/// of the ranges' bits over their segments' durations.
fn write_i_frame_playlist(
    job: &HlsJob,
    modifier: &str,
    map: Option<&str>,
    frames: &[IFrame],
) -> Result<(String, u64), String> {
    let name = format!("{}{modifier}_iframes.m3u8", job.manifest);
    let target = frames
        .iter()
        .map(|f| f.duration.round() as u64)
        .max()
        .unwrap_or(1)
        .max(1);
    // EXT-X-I-FRAMES-ONLY needs version 4, EXT-X-MAP in an I-frame playlist 5; CMAF is 7.
    let version = if map.is_some() { 7 } else { 4 };
    let mut text = format!(
        "#EXTM3U\n#EXT-X-VERSION:{version}\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:1\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-I-FRAMES-ONLY\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    );
    if let Some(init) = map {
        writeln!(text, "#EXT-X-MAP:URI=\"{init}\"").unwrap();
    }
    for f in frames {
        writeln!(
            text,
            "#EXTINF:{:.6},\n#EXT-X-BYTERANGE:{}@{}\n{}",
            f.duration, f.length, f.offset, f.uri
        )
        .unwrap();
    }
    text.push_str("#EXT-X-ENDLIST\n");
    write_file(job, &name, &text)?;
    let ranges: Vec<(f64, f64)> = frames.iter().map(|f| (f.length as f64 * 8.0, f.duration)).collect();
    Ok((name, peak_rate(&ranges).ceil() as u64))
}

/// A CMAF track's I-frames: from each segment's moof through its first sample, a sync sample.
fn cmaf_i_frames(track: &Track) -> Result<Vec<IFrame<'_>>, String> {
    track
        .segments
        .iter()
        .zip(&track.fragments)
        .map(|((uri, duration), fragment)| {
            if !fragment.starts_with_sync_sample {
                return Err(format!("{uri} does not start with a keyframe"));
            }
            Ok(IFrame {
                uri,
                duration: *duration,
                offset: fragment.moof_offset,
                length: fragment.first_sample_end - fragment.moof_offset,
            })
        })
        .collect()
}

/// A MPEG-TS playlist's I-frames: from each segment's start (its PAT and PMT) to the end of
/// its first video frame, a random access point.
fn ts_i_frames<'a>(job: &HlsJob, segments: &'a [(String, f64)]) -> Result<Vec<IFrame<'a>>, String> {
    segments
        .iter()
        .map(|(uri, duration)| {
            let bytes = std::fs::read(job.output_dir.join(uri)).map_err(|e| format!("{uri}: {e}"))?;
            let first = ts::first_video_frame(&bytes).map_err(|e| format!("{uri}: {e}"))?;
            if !first.random_access {
                return Err(format!("{uri} does not start with a keyframe"));
            }
            Ok(IFrame {
                uri,
                duration: *duration,
                offset: 0,
                length: first.end,
            })
        })
        .collect()
}

/// A static DASH MPD (live profile: one file per segment) over the CMAF tracks: an adaptation
/// set per video codec, one per audio group; each representation a SegmentTemplate with the
/// exact SegmentTimeline of its fragments.
fn mpd(
    videos: &[(&Variant, Track)],
    audios: &[(&AudioRendition, Track)],
    language: Option<&(String, String)>,
) -> String {
    let duration_ms = videos.iter().map(|(_, t)| t.duration_ms).max().unwrap_or(0);
    let seconds = |ms: u64| format!("PT{}.{:03}S", ms / 1000, ms % 1000);
    let max_segment_ms = videos
        .iter()
        .flat_map(|(_, t)| t.segments.iter().map(|(_, d)| (d * 1000.0).ceil() as u64))
        .max()
        .unwrap_or(1000);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" \
         profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" mediaPresentationDuration=\"{}\" \
         minBufferTime=\"{}\">\n  <Period id=\"0\" start=\"PT0S\">\n",
        seconds(duration_ms),
        seconds(max_segment_ms)
    );
    let mut families: Vec<&str> = Vec::new();
    for (_, t) in videos {
        let family = t.track.codec.split('.').next().unwrap_or_default();
        if !families.contains(&family) {
            families.push(family);
        }
    }
    let mut set_id = 0;
    for family in families {
        writeln!(
            xml,
            "    <AdaptationSet id=\"{set_id}\" contentType=\"video\" mimeType=\"video/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\">"
        )
        .unwrap();
        set_id += 1;
        for (v, t) in videos.iter().filter(|(_, t)| t.track.codec.starts_with(family)) {
            let frame_rate = match v.frame_rate {
                Some((num, den)) => format!("{num}/{den}"),
                None => format!("{:.3}", frame_rate(t).unwrap_or(0.0)),
            };
            writeln!(
                xml,
                "      <Representation id=\"{}\" bandwidth=\"{}\" width=\"{}\" height=\"{}\" sar=\"1:1\" frameRate=\"{frame_rate}\" codecs=\"{}\">",
                v.modifier.trim_start_matches('_'),
                t.peak,
                v.width,
                v.height,
                t.track.codec
            )
            .unwrap();
            segment_template(&mut xml, t);
            xml.push_str("      </Representation>\n");
        }
        xml.push_str("    </AdaptationSet>\n");
    }
    for (a, t) in audios {
        write!(
            xml,
            "    <AdaptationSet id=\"{set_id}\" contentType=\"audio\" mimeType=\"audio/mp4\" segmentAlignment=\"true\""
        )
        .unwrap();
        set_id += 1;
        if let Some((tag, _)) = language {
            write!(xml, " lang=\"{tag}\"").unwrap();
        }
        writeln!(
            xml,
            ">\n      <Representation id=\"{}\" bandwidth=\"{}\" audioSamplingRate=\"{}\" codecs=\"{}\">\n        \
             <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"{}\"/>",
            a.modifier.trim_start_matches('_'),
            t.peak,
            a.audio.sample_rate,
            t.track.codec,
            a.audio.channels
        )
        .unwrap();
        segment_template(&mut xml, t);
        xml.push_str("      </Representation>\n    </AdaptationSet>\n");
    }
    xml.push_str("  </Period>\n</MPD>\n");
    xml
}

/// The SegmentTemplate of a track whose segments are `<stem>_00001.m4s` on: runs of equal
/// durations written once with a repeat count.
fn segment_template(xml: &mut String, t: &Track) {
    let stem = t.init.trim_end_matches("_init.mp4");
    writeln!(
        xml,
        "        <SegmentTemplate timescale=\"{}\" initialization=\"{}\" media=\"{stem}_$Number%05d$.m4s\" startNumber=\"1\">\n          <SegmentTimeline>",
        t.track.timescale, t.init
    )
    .unwrap();
    let mut runs: Vec<(u64, u64, u64)> = Vec::new();
    for f in &t.fragments {
        match runs.last_mut() {
            Some((start, d, r)) if *d == f.duration && *start + *d * (*r + 1) == f.base_media_decode_time => *r += 1,
            _ => runs.push((f.base_media_decode_time, f.duration, 0)),
        }
    }
    for (start, d, r) in runs {
        if r == 0 {
            writeln!(xml, "            <S t=\"{start}\" d=\"{d}\"/>").unwrap();
        } else {
            writeln!(xml, "            <S t=\"{start}\" d=\"{d}\" r=\"{r}\"/>").unwrap();
        }
    }
    xml.push_str("          </SegmentTimeline>\n        </SegmentTemplate>\n");
}

/// The source's first audio track's language as a BCP 47 tag and a name for players' menus,
/// when it has one (ISO 639-2 as containers store it; the common ones as their two-letter
/// tags, as HLS and DASH prefer).
fn source_language(input: &Path) -> Option<(String, String)> {
    let output = child::command("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream_tags=language",
        ])
        .args(["-of", "default=noprint_wrappers=1:nokey=1"])
        .arg(input)
        .output()
        .ok()?;
    let code = String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()?
        .trim()
        .to_ascii_lowercase();
    language_tag(&code)
}

/// `eng` → (`en`, `English`); `und` and malformed codes → none; an unlisted ISO 639-2 code
/// stays itself (valid BCP 47) and names itself.
fn language_tag(code: &str) -> Option<(String, String)> {
    const COMMON: [(&str, &str, &str); 16] = [
        ("eng", "en", "English"),
        ("fra", "fr", "Français"),
        ("fre", "fr", "Français"),
        ("deu", "de", "Deutsch"),
        ("ger", "de", "Deutsch"),
        ("spa", "es", "Español"),
        ("ita", "it", "Italiano"),
        ("por", "pt", "Português"),
        ("nld", "nl", "Nederlands"),
        ("dut", "nl", "Nederlands"),
        ("jpn", "ja", "日本語"),
        ("zho", "zh", "中文"),
        ("chi", "zh", "中文"),
        ("kor", "ko", "한국어"),
        ("rus", "ru", "Русский"),
        ("ara", "ar", "العربية"),
    ];
    if code.is_empty()
        || code == "und"
        || !code.chars().all(|c| c.is_ascii_lowercase())
        || !(2..=3).contains(&code.len())
    {
        return None;
    }
    Some(
        match COMMON.iter().find(|(three, two, _)| *three == code || *two == code) {
            Some((_, two, name)) => ((*two).to_owned(), (*name).to_owned()),
            None => (code.to_owned(), code.to_owned()),
        },
    )
}

/// A media playlist's segments (URI, EXTINF seconds), in order.
fn segments(playlist: &Path) -> Result<Vec<(String, f64)>, String> {
    let text = std::fs::read_to_string(playlist).map_err(|e| format!("{}: {e}", playlist.display()))?;
    let mut list = Vec::new();
    let mut duration = None;
    for line in text.lines() {
        if let Some(d) = line.strip_prefix("#EXTINF:") {
            duration = d
                .trim_end_matches(',')
                .split(',')
                .next()
                .and_then(|d| d.parse::<f64>().ok());
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let d = duration.take().ok_or(format!("segment {line} has no duration"))?;
            list.push((line.trim().to_owned(), d));
        }
    }
    Ok(list)
}

/// Peak and average bits per second over a media playlist's segments, and its duration in
/// milliseconds: what BANDWIDTH and AVERAGE-BANDWIDTH state. The peak is RFC 8216 4.1's: the
/// highest rate of any run of contiguous segments lasting 0.5 to 1.5 target durations (a
/// short last segment alone is not a peak), rounded up so sums of peaks stay above the truth.
pub fn bandwidth(playlist: &Path) -> Result<(u64, u64, u64), String> {
    let dir = playlist.parent().unwrap_or(Path::new("."));
    let mut runs = Vec::new();
    for (uri, duration) in segments(playlist)? {
        let size = std::fs::metadata(dir.join(&uri))
            .map_err(|e| format!("segment {uri}: {e}"))?
            .len();
        if size == 0 {
            return Err(format!("segment {uri} was written empty (is the disk full?)"));
        }
        runs.push((size as f64 * 8.0, duration));
    }
    let (bits, seconds) = runs.iter().fold((0.0, 0.0), |(b, s), (bits, d)| (b + bits, s + d));
    if seconds == 0.0 {
        return Err(format!("{} lists no segments", playlist.display()));
    }
    Ok((
        peak_rate(&runs).ceil() as u64,
        (bits / seconds).round() as u64,
        (seconds * 1000.0).round() as u64,
    ))
}

/// RFC 8216 4.1's peak segment bit rate of (bits, seconds) entries: the highest rate of any
/// contiguous run lasting 0.5 to 1.5 target durations (the longest entry, rounded), or the
/// whole list's rate when no run does.
fn peak_rate(entries: &[(f64, f64)]) -> f64 {
    let target = entries.iter().map(|(_, d)| d.round()).fold(1.0, f64::max);
    let (low, high) = (0.5 * target - 1e-9, 1.5 * target + 1e-9);
    let mut peak: Option<f64> = None;
    for start in 0..entries.len() {
        let (mut bits, mut seconds) = (0.0, 0.0);
        for (b, d) in &entries[start..] {
            (bits, seconds) = (bits + b, seconds + d);
            if seconds > high {
                break;
            }
            if seconds >= low {
                peak = Some(peak.map_or(bits / seconds, |p: f64| p.max(bits / seconds)));
            }
        }
    }
    peak.unwrap_or_else(|| {
        let (bits, seconds) = entries.iter().fold((0.0, 0.0), |(b, s), (bits, d)| (b + bits, s + d));
        if seconds > 0.0 { bits / seconds } else { 0.0 }
    })
}

/// The `level_idc` in the first video stream's SPS, as ffprobe reads it.
fn stream_level_idc(playlist: &Path) -> Result<u8, String> {
    let output = child::command("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=level"])
        .args(["-of", "default=noprint_wrappers=1:nokey=1"])
        .arg(playlist)
        .output()
        .map_err(|e| format!("cannot run ffprobe: {e}"))?;
    // A playlist's stream is printed once per program it is in, too: the first line is it.
    let text = String::from_utf8_lossy(&output.stdout);
    match text.lines().next().unwrap_or_default().trim().parse::<u8>() {
        Ok(idc) if output.status.success() && idc > 0 => Ok(idc),
        _ => Err(format!(
            "ffprobe read no H.264 level ({})",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
    }
}

pub(super) fn relative(base: &Path, path: &Path) -> Option<String> {
    path.strip_prefix(base).ok().map(|p| p.display().to_string())
}
