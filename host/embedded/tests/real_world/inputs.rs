//! The uploads of the real world, made by ffmpeg at test time: small (1–3 s, low resolution
//! where the case allows) so the whole corpus runs in a couple of minutes on two cores.

use std::path::{Path, PathBuf};

pub use vodpipe_test_support::media::{H264, ffmpeg, pattern, tone};

/// Video from `video` (a lavfi source) and, if given, audio from `audio`, encoded with the
/// given codec arguments into `dir/name`.
pub fn make(dir: &Path, name: &str, video: &str, audio: Option<&str>, codecs: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["-f", "lavfi", "-i", video];
    if let Some(audio) = audio {
        args.extend(["-f", "lavfi", "-i", audio]);
    }
    args.extend(codecs);
    ffmpeg(&args, &out);
    out
}

/// 320x240 at 30 fps for 2 s with a stereo tone, H.264 and AAC in MP4: the base of the
/// remuxed and damaged cases.
pub fn plain(dir: &Path, name: &str) -> PathBuf {
    let mut codecs = H264.to_vec();
    codecs.extend(["-c:a", "aac"]);
    make(
        dir,
        name,
        &pattern("320x240", "30", "2"),
        Some(&tone(440, "stereo", "2")),
        &codecs,
    )
}

/// A phone video: the pixels stored as shot, the display matrix saying how to turn them
/// (ffmpeg writes the matrix from the `rotate` tag when remuxing).
pub fn rotated(dir: &Path, degrees: u32) -> PathBuf {
    let base = plain(dir, "unrotated.mp4");
    let out = dir.join(format!("rotated-{degrees}.mp4"));
    let tag = format!("rotate={degrees}");
    ffmpeg(
        &["-i", base.to_str().unwrap(), "-c", "copy", "-metadata:s:v:0", &tag],
        &out,
    );
    out
}

/// Every case's file, named as an uploader's would be.
pub fn h264_10_bit(dir: &Path) -> PathBuf {
    make(
        dir,
        "h264-10bit.mp4",
        &pattern("320x240", "30", "2"),
        Some(&tone(440, "stereo", "2")),
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p10le",
            "-c:a",
            "aac",
        ],
    )
}

pub fn hevc_opus_matroska(dir: &Path) -> PathBuf {
    make(
        dir,
        "hevc-opus.mkv",
        &pattern("320x240", "30", "2"),
        Some(&tone(440, "stereo", "2")),
        &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
            "-c:a",
            "libopus",
        ],
    )
}

pub fn vp9_webm_silent(dir: &Path) -> PathBuf {
    make(
        dir,
        "vp9.webm",
        &pattern("320x240", "30", "2"),
        None,
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "400k",
        ],
    )
}

pub fn av1_mp4(dir: &Path) -> PathBuf {
    make(
        dir,
        "av1.mp4",
        &pattern("320x240", "30", "2"),
        Some(&tone(440, "stereo", "2")),
        &[
            "-c:v",
            "libsvtav1",
            "-preset",
            "12",
            "-svtav1-params",
            "verbosity=0",
            "-c:a",
            "aac",
        ],
    )
}

/// Frames 0–19 at 30 fps, 20–39 at 15 fps, 40–59 at 60 fps: a phone's variable frame rate.
pub fn variable_frame_rate(dir: &Path) -> PathBuf {
    let video = format!(
        "{},settb=1/1000,setpts='if(lt(N,20),N/30,if(lt(N,40),(20+(N-20)*2)/30,(60+(N-40)/2)/30))/TB'",
        pattern("320x240", "30", "2")
    );
    let mut codecs = H264.to_vec();
    codecs.extend([
        "-fps_mode",
        "vfr",
        "-video_track_timescale",
        "1000",
        "-c:a",
        "aac",
        "-shortest",
    ]);
    make(dir, "vfr.mp4", &video, Some(&tone(440, "stereo", "3")), &codecs)
}

/// 1279x719: x264 cannot code odd sizes in 4:2:0, so this is 4:4:4, as screen recorders write.
pub fn odd_size(dir: &Path) -> PathBuf {
    make(
        dir,
        "1279x719.mp4",
        &pattern("1279x719", "30", "1"),
        Some(&tone(440, "stereo", "1")),
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv444p",
            "-c:a",
            "aac",
        ],
    )
}

pub fn frame_rate(dir: &Path, name: &str, size: &str, rate: &str, seconds: &str) -> PathBuf {
    let mut codecs = H264.to_vec();
    codecs.extend(["-c:a", "aac"]);
    make(
        dir,
        name,
        &pattern(size, rate, seconds),
        Some(&tone(440, "stereo", seconds)),
        &codecs,
    )
}

/// PAL widescreen as a DVD or a broadcast recorder stores it: 720x576 pixels that are
/// displayed 16:9 (sample aspect ratio 64:45, so 1024x576 in square pixels).
pub fn anamorphic(dir: &Path) -> PathBuf {
    let mut codecs = H264.to_vec();
    codecs.extend(["-c:a", "aac"]);
    make(
        dir,
        "anamorphic.mp4",
        &format!("{},setsar=64/45", pattern("720x576", "25", "2")),
        Some(&tone(440, "stereo", "2")),
        &codecs,
    )
}

/// NTSC DV as a camcorder records it: 720x480 at 29.97 frames (59.94 fields) a second, bottom
/// field first, 4:3 (sample aspect ratio 8:9, 640x480 in square pixels). The pattern scrolls
/// fast, so the two fields of a frame differ and a frame not deinterlaced shows combs.
pub fn interlaced(dir: &Path) -> PathBuf {
    make(
        dir,
        "camcorder.mp4",
        &format!(
            "{},scroll=h=0.02,interlace=scan=bff,setsar=8/9",
            pattern("720x480", "60000/1001", "2")
        ),
        Some(&tone(440, "stereo", "2")),
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-flags",
            "+ildct+ilme",
            "-x264opts",
            "bff=1",
            "-c:a",
            "aac",
        ],
    )
}

/// As long as the built-in preset's thumbnail time (2.0 s), to the frame.
pub fn as_long_as_the_thumbnail_time(dir: &Path) -> PathBuf {
    frame_rate(dir, "two-seconds.mp4", "320x240", "30", "2")
}

pub fn one_frame(dir: &Path) -> PathBuf {
    let mut codecs = H264.to_vec();
    codecs.extend(["-frames:v", "1"]);
    make(dir, "one-frame.mp4", &pattern("320x240", "30", "1"), None, &codecs)
}

/// Commentary as a second track: the first (default) track is the tone, the second silence.
pub fn two_audio_tracks(dir: &Path) -> PathBuf {
    let out = dir.join("two-tracks.mp4");
    let video = pattern("320x240", "30", "2");
    let first = tone(440, "stereo", "2");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &video,
            "-f",
            "lavfi",
            "-i",
            &first,
            "-f",
            "lavfi",
            "-i",
            "anullsrc=channel_layout=stereo:sample_rate=48000",
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-map",
            "2:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ],
        &out,
    );
    out
}

pub fn surround(dir: &Path) -> PathBuf {
    let mut codecs = H264.to_vec();
    codecs.extend(["-c:a", "aac"]);
    make(
        dir,
        "surround.mp4",
        &pattern("320x240", "30", "2"),
        Some(&tone(440, "5.1", "2")),
        &codecs,
    )
}

pub fn audio_only(dir: &Path) -> PathBuf {
    let out = dir.join("podcast.mp4");
    ffmpeg(&["-f", "lavfi", "-i", &tone(440, "stereo", "2"), "-c:a", "aac"], &out);
    out
}

/// A photo uploaded by mistake, with a video's name.
pub fn still_image(dir: &Path) -> PathBuf {
    let out = dir.join("holiday.mp4");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &pattern("640x480", "1", "1"),
            "-frames:v",
            "1",
            "-f",
            "image2",
            "-c:v",
            "mjpeg",
        ],
        &out,
    );
    out
}

/// A song with its album cover: the cover is a "video" stream marked as an attached picture.
pub fn mp3_with_cover_art(dir: &Path) -> PathBuf {
    let cover = dir.join("cover.png");
    ffmpeg(
        &["-f", "lavfi", "-i", &pattern("300x300", "1", "1"), "-frames:v", "1"],
        &cover,
    );
    let out = dir.join("song.mp3");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &tone(440, "stereo", "2"),
            "-i",
            cover.to_str().unwrap(),
            "-map",
            "0:a",
            "-map",
            "1:v",
            "-c:a",
            "libmp3lame",
            "-c:v",
            "png",
            "-disposition:v",
            "attached_pic",
            "-id3v2_version",
            "3",
        ],
        &out,
    );
    out
}

/// 64 KiB of noise (a fixed xorshift sequence, so every run sees the same bytes).
pub fn random_bytes(dir: &Path) -> PathBuf {
    let out = dir.join("noise.mp4");
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let bytes: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    std::fs::write(&out, bytes).unwrap();
    out
}

/// The first half of an MP4 whose index (moov) is at the end, as an interrupted upload leaves it.
pub fn truncated(dir: &Path) -> PathBuf {
    let whole = plain(dir, "whole.mp4");
    let bytes = std::fs::read(&whole).unwrap();
    let out = dir.join("truncated.mp4");
    std::fs::write(&out, &bytes[..bytes.len() / 2]).unwrap();
    out
}
