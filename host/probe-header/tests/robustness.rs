//! Uploads are untrusted: files that are not videos get a reason, and no input panics the prober
//! or makes it read past its budget.

mod common;

use std::path::Path;

use common::{Fixtures, H264, XorShift, av_source, ffmpeg, small_mp4};
use vodpipe_probe_header::{Counted, MAX_BYTES_READ, MAX_READS, PortError, probe};

fn not_a_video(bytes: &[u8]) -> String {
    match probe(&bytes) {
        Err(PortError::Rejected(why)) => why,
        other => panic!("expected NotAVideo, got {other:?}"),
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn files_that_are_not_videos_say_why() {
    let fixtures = Fixtures::new();
    let jpeg = fixtures.make("still.jpg", |out| {
        ffmpeg(&["-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1"], out);
    });
    assert_eq!(
        not_a_video(&read(&jpeg)),
        "not an MP4/MOV or Matroska/WebM file: it starts like a JPEG image"
    );
    let audio = fixtures.make("audio.m4a", |out| {
        ffmpeg(&["-f", "lavfi", "-i", "sine", "-t", "1", "-c:a", "aac"], out);
    });
    assert_eq!(
        not_a_video(&read(&audio)),
        "the file has no video track (an audio-only file?)"
    );
    let audio = fixtures.make("audio.webm", |out| {
        ffmpeg(&["-f", "lavfi", "-i", "sine", "-t", "1", "-c:a", "libopus"], out);
    });
    assert_eq!(
        not_a_video(&read(&audio)),
        "the file has no video track (an audio-only file?)"
    );

    assert_eq!(
        not_a_video(b"Hello, this is text.\n"),
        r#"not an MP4/MOV or Matroska/WebM file: starts with 48 65 6c 6c 6f 2c 20 74 ("Hello, t")"#
    );
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let noise: Vec<u8> = (0..100_000).map(|_| rng.next() as u8).collect();
    assert!(not_a_video(&noise).starts_with("not an MP4/MOV or Matroska/WebM file: starts with "));
    assert_eq!(not_a_video(&[]), "the file is empty");
}

#[test]
fn truncated_uploads() {
    let fixtures = Fixtures::new();
    // moov at the end: cut anywhere in mdat and it is gone.
    let at_end = read(&small_mp4(&fixtures, "at-end.mp4", &[]));
    let why = not_a_video(&at_end[..at_end.len() / 2]);
    assert!(
        why.starts_with("the MP4 has no moov box (truncated upload?): the \"mdat\" box at byte"),
        "{why}"
    );

    // moov at the start: a cut in mdat leaves the headers whole, and ffprobe answers too.
    let fast = read(&small_mp4(&fixtures, "faststart.mp4", &["-movflags", "+faststart"]));
    let whole = probe(&fast.as_slice()).unwrap();
    let cut = probe(&&fast[..fast.len() / 2]).unwrap();
    assert_eq!(
        (cut.width, cut.height, cut.duration_ms),
        (whole.width, whole.height, whole.duration_ms)
    );

    // A cut inside moov.
    let moov = fast.windows(4).position(|w| w == b"moov").unwrap();
    let why = not_a_video(&fast[..moov + 100]);
    assert!(why.starts_with("the moov box is cut off"), "{why}");
}

/// Truncates real files at many offsets and flips bytes in their headers: every probe must return
/// (Ok or Err) without panicking and within the read budget.
#[test]
fn truncated_and_corrupted_files_never_panic() {
    let fixtures = Fixtures::new();
    let files = [
        small_mp4(&fixtures, "at-end.mp4", &[]),
        small_mp4(&fixtures, "faststart.mp4", &["-movflags", "+faststart"]),
        small_mp4(
            &fixtures,
            "fragmented.mp4",
            &["-g", "5", "-movflags", "frag_keyframe+empty_moov"],
        ),
        fixtures.make("small.webm", |out| {
            let mut args = av_source("320x240", "25", "1");
            args.extend(common::VP9_OPUS.map(String::from));
            ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>(), out);
        }),
        fixtures.make("small.mov", |out| {
            let mut args = vec!["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "1"];
            args.extend(H264);
            ffmpeg(&args, out);
        }),
    ];
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let mut outcomes = [0usize; 2];
    for path in &files {
        let mut bytes = read(path);
        let len = bytes.len();
        assert!(probe(&bytes.as_slice()).is_ok(), "{} probes whole", path.display());

        // Every offset in the first 4 KiB (signatures, ftyp, moov or EBML headers), then ~300 more.
        let cuts = (0..4096.min(len)).chain((0..300).map(|_| rng.below(len)));
        for cut in cuts {
            outcomes[check(&bytes[..cut]) as usize] += 1;
        }

        // Byte flips where the headers are: the first and the last 64 KiB (moov at the end).
        let header_zone = |rng: &mut XorShift| {
            let at = rng.below(len.min(65_536));
            if rng.next().is_multiple_of(2) { at } else { len - 1 - at }
        };
        for _ in 0..1500 {
            let flips: Vec<(usize, u8)> = (0..1 + rng.below(4))
                .map(|_| (header_zone(&mut rng), 1u8 << rng.below(8)))
                .collect();
            for &(at, bit) in &flips {
                bytes[at] ^= bit;
            }
            // Also the nastiest values a size field can take.
            if rng.next().is_multiple_of(4) {
                let at = header_zone(&mut rng).min(len.saturating_sub(4));
                let nasty = [0u32, 1, 7, 8, u32::MAX, 0x7FFF_FFFF][rng.below(6)];
                let saved: [u8; 4] = bytes[at..at + 4].try_into().unwrap();
                bytes[at..at + 4].copy_from_slice(&nasty.to_be_bytes());
                outcomes[check(&bytes) as usize] += 1;
                bytes[at..at + 4].copy_from_slice(&saved);
            } else {
                outcomes[check(&bytes) as usize] += 1;
            }
            for &(at, bit) in flips.iter().rev() {
                bytes[at] ^= bit;
            }
        }
    }
    eprintln!("corrupted probes: {} errors, {} answers", outcomes[0], outcomes[1]);
    assert!(outcomes[0] > 0 && outcomes[1] > 0);
}

/// Probes `bytes`, checking the budget; true if it answered.
fn check(bytes: &[u8]) -> bool {
    let source = Counted::new(bytes);
    let result = probe(&source);
    assert!(
        source.bytes_read() <= MAX_BYTES_READ && source.reads() <= u64::from(MAX_READS),
        "read {} bytes in {} reads",
        source.bytes_read(),
        source.reads()
    );
    if let Ok(p) = &result {
        assert!(
            p.width > 0 && p.height > 0 && p.rotation % 90 == 0 && p.rotation < 360,
            "{p:?}"
        );
        assert!(p.frame_rate.is_finite() && p.frame_rate >= 0.0, "{p:?}");
    }
    result.is_ok()
}
