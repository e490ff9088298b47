//! The conformance checker against outputs made here by ffmpeg's hls muxer (two-second clips,
//! one-second segments, two variants), with master and I-frame playlists and an MPD written
//! by the test: a good one passes, and each deliberately broken copy breaks the rule it aims
//! at. The fixtures' rates and byte ranges are worked out here from the files themselves, not
//! with the checker's code.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use tempfile::TempDir;
use vodpipe_test_support::conformance::{Violation, assert_conformant, check};
use vodpipe_test_support::media::{H264, ffmpeg, pattern, tone};

const VARIANTS: [(&str, &str); 2] = [("320x180", "180p"), ("160x90", "90p")];

/// `avc1.PPCCLL` from the first SPS of an MPEG-TS segment (Annex B, its first video TS
/// packet holds it whole) or from the `avcC` box of an init segment.
fn avc1(file: &Path) -> String {
    let data = fs::read(file).unwrap();
    let bytes = match data.windows(4).position(|w| w == b"avcC") {
        Some(at) => &data[at + 5..at + 8],
        None => {
            let sps = (0..data.len() - 7)
                .find(|&i| data[i..i + 3] == [0, 0, 1] && data[i + 3] & 0x9f == 7)
                .expect("an SPS in the segment");
            &data[sps + 4..sps + 7]
        }
    };
    format!("avc1.{:02x}{:02x}{:02x}", bytes[0], bytes[1], bytes[2])
}

/// A media playlist's segments: (URI, EXTINF).
fn segments(playlist: &Path) -> Vec<(String, f64)> {
    let text = fs::read_to_string(playlist).unwrap();
    let mut list = Vec::new();
    let mut duration = None;
    for line in text.lines() {
        if let Some(d) = line.strip_prefix("#EXTINF:") {
            duration = Some(d.trim_end_matches(',').parse::<f64>().unwrap());
        } else if !line.starts_with('#') && !line.is_empty() {
            list.push((line.to_owned(), duration.take().unwrap()));
        }
    }
    list
}

/// Peak (RFC 8216 4.1: the best rate of contiguous segments lasting 0.5 to 1.5 target
/// durations, here one second) and average bit rates of (bytes, seconds) segments.
fn rates(sizes: &[(u64, f64)]) -> (f64, f64) {
    let mut peak = 0f64;
    for start in 0..sizes.len() {
        let (mut bits, mut seconds) = (0.0, 0.0);
        for (bytes, duration) in &sizes[start..] {
            bits += *bytes as f64 * 8.0;
            seconds += duration;
            if seconds > 1.5 {
                break;
            }
            if seconds >= 0.5 {
                peak = peak.max(bits / seconds);
            }
        }
    }
    let bits: f64 = sizes.iter().map(|(b, _)| *b as f64 * 8.0).sum();
    let seconds: f64 = sizes.iter().map(|(_, d)| d).sum();
    (peak, bits / seconds)
}

fn file_rates(dir: &Path, playlist: &str) -> (f64, f64) {
    let sizes: Vec<(u64, f64)> = segments(&dir.join(playlist))
        .iter()
        .map(|(uri, d)| (fs::metadata(dir.join(uri)).unwrap().len(), *d))
        .collect();
    rates(&sizes)
}

/// One variant's segments from ffmpeg's hls muxer; `extra` are its options (`-an` and fMP4
/// ones for CMAF), `keyframes` where H.264's keyframes go.
fn hls_variant(dir: &Path, size: &str, name: &str, extra: &[&str], keyframes: &[&str]) {
    hls_variant_in(dir, size, name, extra, &[H264.as_slice(), keyframes].concat());
}

/// [`hls_variant`] with the video encoded by `video` (codec, format and keyframe options).
fn hls_variant_in(dir: &Path, size: &str, name: &str, extra: &[&str], video_encoder: &[&str]) {
    let (video, audio) = (pattern(size, "30", "2"), tone(440, "stereo", "2"));
    let segment_ext = if extra.contains(&"fmp4") { "m4s" } else { "ts" };
    let segment = dir.join(format!("index_{name}_%05d.{segment_ext}"));
    let init = format!("index_{name}_init.mp4");
    let mut args = vec!["-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &audio];
    args.extend(video_encoder);
    args.extend([
        "-c:a",
        "aac",
        "-f",
        "hls",
        "-hls_time",
        "1",
        "-hls_playlist_type",
        "vod",
    ]);
    args.extend([
        "-hls_fmp4_init_filename",
        init.as_str(),
        "-hls_segment_filename",
        segment.to_str().unwrap(),
    ]);
    args.extend(extra);
    ffmpeg(&args, &dir.join(format!("index_{name}.m3u8")));
}

const KEYFRAMES: [&str; 2] = ["-force_key_frames", "expr:gte(t,n_forced*1)"];

/// `index_<name>_iframes.m3u8` over (offset, length) ranges of the variant's segments;
/// returns its BANDWIDTH.
fn i_frame_playlist(dir: &Path, name: &str, ranges: &[(String, f64, u64, u64)], map: Option<&str>) -> u64 {
    let version = if map.is_some() { 7 } else { 4 };
    let mut text = format!(
        "#EXTM3U\n#EXT-X-VERSION:{version}\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-I-FRAMES-ONLY\n"
    );
    if let Some(init) = map {
        writeln!(text, "#EXT-X-MAP:URI=\"{init}\"").unwrap();
    }
    for (uri, duration, offset, length) in ranges {
        writeln!(
            text,
            "#EXTINF:{duration:.6},\n#EXT-X-BYTERANGE:{length}@{offset}\n{uri}"
        )
        .unwrap();
    }
    text.push_str("#EXT-X-ENDLIST\n");
    fs::write(dir.join(format!("index_{name}_iframes.m3u8")), text).unwrap();
    let sizes: Vec<(u64, f64)> = ranges.iter().map(|(_, d, _, l)| (*l, *d)).collect();
    rates(&sizes).0.ceil() as u64
}

/// The payload of the first `kind` box of an init segment.
fn box_payload<'a>(data: &'a [u8], kind: &[u8; 4]) -> &'a [u8] {
    let at = data.windows(4).position(|w| w == kind).expect("the box");
    let size = be32(data, at - 4) as usize;
    &data[at + 4..at - 4 + size]
}

/// `hvc1.P.C.TL.B…` from an init segment's `hvcC` (ISO/IEC 14496-15 8.3.3.1 and E.3).
fn hvc1(file: &Path) -> String {
    let data = fs::read(file).unwrap();
    let c = box_payload(&data, b"hvcC");
    let space = ["", "A", "B", "C"][usize::from(c[1] >> 6)];
    let tier = if c[1] & 0x20 != 0 { "H" } else { "L" };
    let compatibility = u32::from_be_bytes([c[2], c[3], c[4], c[5]]).reverse_bits();
    let mut constraints: Vec<u8> = c[6..12].to_vec();
    while constraints.last() == Some(&0) {
        constraints.pop();
    }
    let mut codec = format!("hvc1.{space}{}.{compatibility:X}.{tier}{}", c[1] & 0x1f, c[12]);
    for byte in constraints {
        write!(codec, ".{byte:X}").unwrap();
    }
    codec
}

/// `av01.P.LLT.DD` from an init segment's `av1C` (AV1 in ISOBMFF, "Codecs Parameter String").
fn av01(file: &Path) -> String {
    let data = fs::read(file).unwrap();
    let c = box_payload(&data, b"av1C");
    let (profile, level) = (c[1] >> 5, c[1] & 0x1f);
    let tier = if c[2] & 0x80 != 0 { "H" } else { "M" };
    let depth = match (c[2] & 0x40 != 0, c[2] & 0x20 != 0) {
        (true, true) => 12,
        (true, false) => 10,
        _ => 8,
    };
    format!("av01.{profile}.{level:02}{tier}.{depth:02}")
}

/// Each TS segment's first frame: from its start (PAT, PMT) to the TS packet starting its
/// second video PES (ffmpeg's muxer puts the video on PID 0x100).
fn ts_ranges(dir: &Path, name: &str) -> Vec<(String, f64, u64, u64)> {
    segments(&dir.join(format!("index_{name}.m3u8")))
        .into_iter()
        .map(|(uri, duration)| {
            let data = fs::read(dir.join(&uri)).unwrap();
            let second = data
                .chunks(188)
                .enumerate()
                .filter(|(_, p)| {
                    p[0] == 0x47 && p[1] & 0x40 != 0 && (u16::from(p[1] & 0x1f) << 8 | u16::from(p[2])) == 0x100
                })
                .nth(1)
                .map(|(i, _)| i as u64 * 188)
                .expect("a second video frame");
            (uri, duration, 0, second)
        })
        .collect()
}

fn be32(data: &[u8], at: usize) -> u64 {
    u64::from(u32::from_be_bytes(data[at..at + 4].try_into().unwrap()))
}

/// Each fMP4 segment's first frame: from its moof to the end of its first sample, by the
/// moof's `trun` (data offset from the moof, first sample size).
fn cmaf_ranges(dir: &Path, name: &str) -> Vec<(String, f64, u64, u64)> {
    segments(&dir.join(format!("index_{name}.m3u8")))
        .into_iter()
        .map(|(uri, duration)| {
            let data = fs::read(dir.join(&uri)).unwrap();
            let moof = data.windows(4).position(|w| w == b"moof").unwrap() - 4;
            let trun = data.windows(4).position(|w| w == b"trun").unwrap() + 4;
            let flags = be32(&data, trun) & 0xff_ffff;
            assert!(
                flags & 0x1 != 0 && flags & 0x200 != 0,
                "a trun with a data offset and sample sizes"
            );
            let mut at = trun + 8;
            let data_offset = be32(&data, at);
            at += 4 + if flags & 0x4 != 0 { 4 } else { 0 } + if flags & 0x100 != 0 { 4 } else { 0 };
            let first_size = be32(&data, at);
            (uri, duration, moof as u64, data_offset + first_size)
        })
        .collect()
}

/// A ladder as vodpipe publishes it in MPEG-TS: each segment with its audio.
fn ts_ladder() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut master = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    let mut i_frames = String::new();
    for (size, name) in VARIANTS {
        hls_variant(d, size, name, &[], &KEYFRAMES);
        let (peak, average) = file_rates(d, &format!("index_{name}.m3u8"));
        let codec = avc1(&d.join(format!("index_{name}_00000.ts")));
        writeln!(
            master,
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},RESOLUTION={size},CODECS=\"{codec},mp4a.40.2\",FRAME-RATE=30.000\nindex_{name}.m3u8",
            peak.ceil(),
            average.round()
        )
        .unwrap();
        let bandwidth = i_frame_playlist(d, name, &ts_ranges(d, name), None);
        writeln!(
            i_frames,
            "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={size},CODECS=\"{codec}\",URI=\"index_{name}_iframes.m3u8\""
        )
        .unwrap();
    }
    fs::write(d.join("index.m3u8"), master + &i_frames).unwrap();
    dir
}

/// A ladder as vodpipe publishes it in CMAF: video-only fMP4 variants, an audio rendition,
/// I-frame playlists and the MPD over the same files.
fn cmaf_ladder() -> TempDir {
    cmaf_ladder_in(&[H264.as_slice(), &KEYFRAMES].concat(), avc1)
}

/// [`cmaf_ladder`] with its video encoded by `video_encoder`, `codec_of` its init segment's
/// CODECS entry.
fn cmaf_ladder_in(video_encoder: &[&str], codec_of: fn(&Path) -> String) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fmp4 = ["-hls_segment_type", "fmp4"];
    let audio = [["-vn", "-b:a", "64k"].as_slice(), &fmp4].concat();
    hls_variant(d, "160x90", "audio", &audio, &[]);
    let (audio_peak, audio_average) = file_rates(d, "index_audio.m3u8");
    let mut master = String::from(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\
         #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio-64k\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"index_audio.m3u8\"\n",
    );
    let mut i_frames = String::new();
    let mut representations = String::new();
    let timeline = |playlist: &str| -> String {
        segments(&d.join(playlist))
            .iter()
            .map(|(_, s)| format!("<S d=\"{}\"/>", (s * 1000.0).round()))
            .collect()
    };
    for (size, name) in VARIANTS {
        hls_variant_in(d, size, name, &[["-an"].as_slice(), &fmp4].concat(), video_encoder);
        let (peak, average) = file_rates(d, &format!("index_{name}.m3u8"));
        let init = format!("index_{name}_init.mp4");
        let codec = codec_of(&d.join(&init));
        writeln!(
            master,
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},RESOLUTION={size},CODECS=\"{codec},mp4a.40.2\",FRAME-RATE=30.000,AUDIO=\"audio-64k\"\nindex_{name}.m3u8",
            (peak + audio_peak).ceil(),
            (average + audio_average).round()
        )
        .unwrap();
        let bandwidth = i_frame_playlist(d, name, &cmaf_ranges(d, name), Some(&init));
        writeln!(
            i_frames,
            "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={size},CODECS=\"{codec}\",URI=\"index_{name}_iframes.m3u8\""
        )
        .unwrap();
        let (width, height) = size.split_once('x').unwrap();
        writeln!(
            representations,
            "<Representation id=\"{name}\" bandwidth=\"{}\" width=\"{width}\" height=\"{height}\" codecs=\"{codec}\">\
             <SegmentTemplate timescale=\"1000\" initialization=\"{init}\" media=\"index_{name}_$Number%05d$.m4s\" startNumber=\"0\">\
             <SegmentTimeline>{}</SegmentTimeline></SegmentTemplate></Representation>",
            peak.ceil(),
            timeline(&format!("index_{name}.m3u8"))
        )
        .unwrap();
    }
    fs::write(d.join("index.m3u8"), master + &i_frames).unwrap();
    let mpd = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" \
         mediaPresentationDuration=\"PT2.0S\" minBufferTime=\"PT1.0S\">\n<Period id=\"0\" start=\"PT0S\">\n\
         <AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\" startWithSAP=\"1\">\n{representations}</AdaptationSet>\n\
         <AdaptationSet id=\"1\" contentType=\"audio\" mimeType=\"audio/mp4\" lang=\"en\">\n\
         <Representation id=\"audio\" bandwidth=\"{}\" audioSamplingRate=\"44100\" codecs=\"mp4a.40.2\">\
         <SegmentTemplate timescale=\"1000\" initialization=\"index_audio_init.mp4\" media=\"index_audio_$Number%05d$.m4s\" startNumber=\"0\">\
         <SegmentTimeline>{}</SegmentTimeline></SegmentTemplate></Representation>\n</AdaptationSet>\n</Period>\n</MPD>\n",
        audio_peak.ceil(),
        timeline("index_audio.m3u8")
    );
    fs::write(d.join("index.mpd"), mpd).unwrap();
    dir
}

fn listing(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("\n  {v}")).collect()
}

/// A copy of the output at `from`, for breaking.
fn copy(from: &Path) -> TempDir {
    let to = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.path().join(entry.file_name())).unwrap();
    }
    to
}

/// Replaces `from` (which must be there) by `to` in `file` of `dir`.
fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`:\n{text}");
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Breaks a copy of `good` with `breakage` and asserts the checker names every one of `rules`.
fn breaks(good: &Path, case: &str, rules: &[&str], breakage: impl FnOnce(&Path)) {
    let broken = copy(good);
    breakage(broken.path());
    let violations = check(&broken.path().join("index.m3u8"));
    for rule in rules {
        assert!(
            violations.iter().any(|v| v.rule == *rule),
            "{case}: expected a `{rule}` violation, found:{}",
            listing(&violations)
        );
    }
}

/// The line of `file` that starts with `prefix`.
fn line_of(dir: &Path, file: &str, prefix: &str) -> String {
    let text = fs::read_to_string(dir.join(file)).unwrap();
    text.lines().find(|l| l.starts_with(prefix)).unwrap().to_owned()
}

#[test]
fn mpeg_ts_ladder() {
    let good = ts_ladder();
    let g = good.path();
    let violations = check(&g.join("index.m3u8"));
    assert!(violations.is_empty(), "the good TS ladder:{}", listing(&violations));
    assert_conformant(&g.join("index.m3u8"));
    let broken = copy(g);
    edit(broken.path(), "index.m3u8", "#EXT-X-INDEPENDENT-SEGMENTS\n", "");
    let panic = std::panic::catch_unwind(|| assert_conformant(&broken.path().join("index.m3u8"))).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("(independent-segments; Apple HLS authoring 9.11"),
        "{message}"
    );

    breaks(g, "BANDWIDTH halved", &["bandwidth-peak"], |d| {
        let line = line_of(d, "index.m3u8", "#EXT-X-STREAM-INF");
        let bandwidth: u64 = line["#EXT-X-STREAM-INF:BANDWIDTH=".len()..]
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        edit(
            d,
            "index.m3u8",
            &format!("BANDWIDTH={bandwidth},"),
            &format!("BANDWIDTH={},", bandwidth / 2),
        );
    });
    breaks(g, "BANDWIDTH doubled", &["bandwidth-accuracy"], |d| {
        let line = line_of(d, "index.m3u8", "#EXT-X-STREAM-INF");
        let bandwidth: u64 = line["#EXT-X-STREAM-INF:BANDWIDTH=".len()..]
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        edit(
            d,
            "index.m3u8",
            &format!("BANDWIDTH={bandwidth},"),
            &format!("BANDWIDTH={},", bandwidth * 2),
        );
    });
    breaks(g, "AVERAGE-BANDWIDTH a fifth high", &["average-bandwidth"], |d| {
        let line = line_of(d, "index.m3u8", "#EXT-X-STREAM-INF");
        let average = line
            .split("AVERAGE-BANDWIDTH=")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap();
        let higher = average.parse::<u64>().unwrap() * 6 / 5;
        edit(
            d,
            "index.m3u8",
            &format!("AVERAGE-BANDWIDTH={average},"),
            &format!("AVERAGE-BANDWIDTH={higher},"),
        );
    });
    breaks(g, "no EXT-X-INDEPENDENT-SEGMENTS", &["independent-segments"], |d| {
        edit(d, "index.m3u8", "#EXT-X-INDEPENDENT-SEGMENTS\n", "");
    });
    breaks(g, "a segment starting on a P frame", &["segment-starts-idr"], |d| {
        // One key frame at the start only, and segments cut on time regardless.
        let gop = ["-g", "300", "-sc_threshold", "0", "-hls_flags", "split_by_time"];
        hls_variant(d, "160x90", "90p", &[], &gop);
    });
    breaks(g, "a byte range past its file", &["byterange-inside-file"], |d| {
        edit(
            d,
            "index_180p_iframes.m3u8",
            "#EXT-X-BYTERANGE:",
            "#EXT-X-BYTERANGE:99999999",
        );
    });
    breaks(g, "an I-frame range over two frames", &["iframe-decode"], |d| {
        let line = line_of(d, "index_180p_iframes.m3u8", "#EXT-X-BYTERANGE:");
        let length: u64 = line["#EXT-X-BYTERANGE:".len()..]
            .split('@')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        edit(
            d,
            "index_180p_iframes.m3u8",
            &line,
            &format!("#EXT-X-BYTERANGE:{}@0", length + 188 * 40),
        );
    });
    breaks(
        g,
        "an I-frame playlist's BANDWIDTH too low",
        &["iframe-bandwidth"],
        |d| {
            let line = line_of(d, "index.m3u8", "#EXT-X-I-FRAME-STREAM-INF");
            let bandwidth = line["#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=".len()..]
                .split(',')
                .next()
                .unwrap();
            edit(
                d,
                "index.m3u8",
                &line,
                &line.replace(&format!("BANDWIDTH={bandwidth},"), "BANDWIDTH=1000,"),
            );
        },
    );
    breaks(g, "EXT-X-TARGETDURATION too small", &["target-duration"], |d| {
        edit(
            d,
            "index_180p.m3u8",
            "#EXT-X-TARGETDURATION:1",
            "#EXT-X-TARGETDURATION:0",
        );
    });
    breaks(g, "a missing I-frame playlist", &["iframe-playlist-missing"], |d| {
        let line = line_of(d, "index.m3u8", "#EXT-X-I-FRAME-STREAM-INF");
        edit(d, "index.m3u8", &format!("{line}\n"), "");
    });
    breaks(g, "no EXT-X-I-FRAMES-ONLY", &["iframe-playlist-tag"], |d| {
        edit(d, "index_90p_iframes.m3u8", "#EXT-X-I-FRAMES-ONLY\n", "");
    });
    breaks(g, "byte ranges in a version 3 playlist", &["syntax-version"], |d| {
        edit(d, "index_90p_iframes.m3u8", "#EXT-X-VERSION:4", "#EXT-X-VERSION:3");
    });
    breaks(g, "a tag RFC 8216 does not define", &["syntax-unknown-tag"], |d| {
        edit(
            d,
            "index_90p.m3u8",
            "#EXT-X-ENDLIST",
            "#EXT-X-CUE-OUT:30\n#EXT-X-ENDLIST",
        );
    });
    breaks(g, "a malformed attribute list", &["syntax-attribute-list"], |d| {
        edit(d, "index.m3u8", ",RESOLUTION=", ", RESOLUTION=");
    });
    breaks(g, "no #EXTM3U", &["syntax-extm3u"], |d| {
        edit(d, "index_90p.m3u8", "#EXTM3U\n", "");
    });
    breaks(g, "a segment that is not there", &["syntax-uri"], |d| {
        fs::remove_file(d.join("index_90p_00001.ts")).unwrap();
    });
    breaks(g, "not VOD, not ended", &["vod-playlist-type", "vod-endlist"], |d| {
        edit(d, "index_90p.m3u8", "#EXT-X-PLAYLIST-TYPE:VOD\n", "");
        edit(d, "index_90p.m3u8", "#EXT-X-ENDLIST", "");
    });
    breaks(g, "no CODECS", &["variant-attributes"], |d| {
        let line = line_of(d, "index.m3u8", "#EXT-X-STREAM-INF");
        let codecs = line
            .split(",CODECS=")
            .nth(1)
            .unwrap()
            .split(",FRAME-RATE")
            .next()
            .unwrap()
            .to_owned();
        edit(d, "index.m3u8", &format!(",CODECS={codecs}"), "");
    });
    breaks(
        g,
        "CODECS, RESOLUTION and FRAME-RATE not the stream's",
        &["codecs-accuracy", "resolution-accuracy", "frame-rate-accuracy"],
        |d| {
            let line = line_of(d, "index.m3u8", "#EXT-X-STREAM-INF");
            let codec = line.split("CODECS=\"").nth(1).unwrap().split(',').next().unwrap();
            let wrong_level = format!("{}28", &codec[..codec.len() - 2]);
            edit(
                d,
                "index.m3u8",
                &format!("CODECS=\"{codec},"),
                &format!("CODECS=\"{wrong_level},"),
            );
            edit(d, "index.m3u8", "RESOLUTION=160x90,CODECS", "RESOLUTION=160x96,CODECS");
            edit(d, "index.m3u8", "FRAME-RATE=30.000", "FRAME-RATE=29.970");
        },
    );
    breaks(g, "a variant's audio left out of CODECS", &["codecs-accuracy"], |d| {
        edit(d, "index.m3u8", ",mp4a.40.2\"", "\"");
    });
    breaks(
        g,
        "segment boundaries moved in one variant",
        &["segment-alignment"],
        |d| {
            edit(d, "index_90p.m3u8", "#EXTINF:1.000000,", "#EXTINF:0.900000,");
        },
    );
}

#[test]
fn cmaf_ladder_with_dash() {
    let good = cmaf_ladder();
    let g = good.path();
    let violations = check(&g.join("index.m3u8"));
    assert!(violations.is_empty(), "the good CMAF ladder:{}", listing(&violations));

    breaks(g, "AUDIO= naming no group", &["audio-group-missing"], |d| {
        edit(d, "index.m3u8", "AUDIO=\"audio-64k\"", "AUDIO=\"audio-128k\"");
    });
    breaks(g, "the variants' peaks without their audio", &["bandwidth-peak"], |d| {
        let line = line_of(d, "index.m3u8", "#EXT-X-STREAM-INF");
        let bandwidth: u64 = line["#EXT-X-STREAM-INF:BANDWIDTH=".len()..]
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let (audio_peak, _) = file_rates(d, "index_audio.m3u8");
        let video_only = bandwidth - audio_peak.ceil() as u64 + 1;
        edit(
            d,
            "index.m3u8",
            &format!("BANDWIDTH={bandwidth},"),
            &format!("BANDWIDTH={video_only},"),
        );
    });
    breaks(g, "DEFAULT=YES without AUTOSELECT", &["media-autoselect"], |d| {
        edit(d, "index.m3u8", "AUTOSELECT=YES", "AUTOSELECT=NO");
    });
    breaks(g, "two defaults in a group", &["audio-group-default"], |d| {
        let line = line_of(d, "index.m3u8", "#EXT-X-MEDIA");
        let second = line.replace("NAME=\"English\"", "NAME=\"English 2\"");
        edit(d, "index.m3u8", &format!("{line}\n"), &format!("{line}\n{second}\n"));
    });
    breaks(g, "an EXT-X-MEDIA without NAME", &["media-attributes"], |d| {
        edit(d, "index.m3u8", "NAME=\"English\",", "");
    });
    breaks(g, "a LANGUAGE that is not BCP 47", &["media-language"], |d| {
        edit(d, "index.m3u8", "LANGUAGE=\"en\"", "LANGUAGE=\"en_US\"");
    });
    breaks(g, "no LANGUAGE", &["media-language-missing"], |d| {
        edit(d, "index.m3u8", "LANGUAGE=\"en\",", "");
    });
    breaks(
        g,
        "an audio rendition that is video",
        &["audio-rendition-content"],
        |d| {
            edit(d, "index.m3u8", "URI=\"index_audio.m3u8\"", "URI=\"index_90p.m3u8\"");
        },
    );
    breaks(
        g,
        "an I-frame stream's RESOLUTION not its variant's",
        &["iframe-attributes"],
        |d| {
            let line = line_of(d, "index.m3u8", "#EXT-X-I-FRAME-STREAM-INF");
            edit(
                d,
                "index.m3u8",
                &line,
                &line.replace("RESOLUTION=320x180", "RESOLUTION=640x360"),
            );
        },
    );
    breaks(g, "an I-frame range short of its frame", &["iframe-decode"], |d| {
        let line = line_of(d, "index_90p_iframes.m3u8", "#EXT-X-BYTERANGE:");
        let (length, offset) = line["#EXT-X-BYTERANGE:".len()..].split_once('@').unwrap();
        let shorter = length.parse::<u64>().unwrap() / 2;
        edit(
            d,
            "index_90p_iframes.m3u8",
            &line,
            &format!("#EXT-X-BYTERANGE:{shorter}@{offset}"),
        );
    });
    breaks(
        g,
        "a SegmentTimeline a second short",
        &["dash-timeline-duration"],
        |d| {
            edit(d, "index.mpd", "<S d=\"1000\"/><S d=\"1000\"/>", "<S d=\"1000\"/>");
        },
    );
    breaks(g, "a SegmentTemplate naming no files", &["dash-segment-files"], |d| {
        edit(
            d,
            "index.mpd",
            "media=\"index_90p_$Number%05d$.m4s\"",
            "media=\"index_90p_$Number%03d$.m4s\"",
        );
    });
    breaks(g, "an MPD ffprobe cannot read", &["dash-readable"], |d| {
        edit(d, "index.mpd", "</Period>", "");
    });
    breaks(g, "an fMP4 playlist at version 5", &["syntax-version"], |d| {
        edit(d, "index_180p.m3u8", "#EXT-X-VERSION:7", "#EXT-X-VERSION:5");
    });
}

/// HEVC and AV1 tracks in CMAF: their CODECS (built here from the init segments' `hvcC` and
/// `av1C`) pass, and a profile, level or bit depth that is not the stream's is named.
#[test]
fn hevc_and_av1_codecs_strings_are_held_to_the_stream() {
    let hevc = cmaf_ladder_in(
        &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p10le",
            "-tag:v",
            "hvc1",
            "-x265-params",
            "keyint=30:min-keyint=30:scenecut=0:open-gop=0:log-level=error",
        ],
        hvc1,
    );
    let h = hevc.path();
    let violations = check(&h.join("index.m3u8"));
    assert!(violations.is_empty(), "the good HEVC ladder:{}", listing(&violations));
    let codec = hvc1(&h.join("index_180p_init.mp4"));
    assert!(codec.starts_with("hvc1.2.4.L"), "Main 10, Main tier: {codec}");
    breaks(h, "Main for a Main 10 stream", &["codecs-accuracy"], |d| {
        edit(d, "index.m3u8", "hvc1.2.4.L", "hvc1.1.6.L");
    });
    breaks(h, "a level that is not the stream's", &["codecs-accuracy"], |d| {
        let level = codec.split('.').nth(3).unwrap();
        assert!(level.starts_with('L'), "{codec}");
        edit(d, "index.m3u8", &format!(".{level}"), ".L153");
    });
    breaks(h, "an hvc1 string without its level", &["codecs-accuracy"], |d| {
        edit(d, "index.m3u8", &format!("CODECS=\"{codec}"), "CODECS=\"hvc1.2.4");
    });

    let av1 = cmaf_ladder_in(
        &[
            "-c:v",
            "libsvtav1",
            "-preset",
            "12",
            "-pix_fmt",
            "yuv420p10le",
            "-g",
            "30",
        ],
        av01,
    );
    let a = av1.path();
    let violations = check(&a.join("index.m3u8"));
    assert!(violations.is_empty(), "the good AV1 ladder:{}", listing(&violations));
    let codec = av01(&a.join("index_180p_init.mp4"));
    assert!(
        codec.starts_with("av01.0.") && codec.ends_with("M.10"),
        "Main, 10-bit: {codec}"
    );
    breaks(a, "8-bit for a 10-bit stream", &["codecs-accuracy"], |d| {
        edit(
            d,
            "index.m3u8",
            &format!("{codec},"),
            &format!("{},", codec.replace("M.10", "M.08")),
        );
    });
    breaks(a, "a level that is not the stream's", &["codecs-accuracy"], |d| {
        edit(d, "index.m3u8", &format!("{codec},"), "av01.0.19M.10,");
    });
    breaks(a, "the High profile for a Main stream", &["codecs-accuracy"], |d| {
        edit(
            d,
            "index.m3u8",
            &format!("{codec},"),
            &format!("{},", codec.replacen("av01.0.", "av01.1.", 1)),
        );
    });
}
