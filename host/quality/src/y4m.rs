//! Splits the stacked reference-over-distorted pictures ffmpeg writes (y4m, 8-bit 4:2:0,
//! twice the rendition's height) into the two raw streams libvmaf's `vmaf` tool reads.
//!
//! One ffmpeg output per rendition carries both pictures of a pair in one frame, so the pair
//! can never be split across a blocked pipe: ffmpeg writing one side while `vmaf` waits on
//! the other would deadlock. Each side then has its own writer thread and a short queue, so
//! the order in which `vmaf` reads the two sides does not matter either.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::mpsc::sync_channel;

/// Frames queued per side: enough for any read order of `vmaf`, small enough to bound memory.
const QUEUE_FRAMES: usize = 4;

/// Copies every stacked frame of `stacked` into `reference` (top half) and `distorted`
/// (bottom half) as raw planar YUV. Returns the number of frames.
pub fn split_pairs(
    stacked: impl Read,
    reference: impl Write + Send,
    distorted: impl Write + Send,
) -> Result<u64, String> {
    let mut input = BufReader::with_capacity(1 << 20, stacked);
    let (width, stacked_height) = header(&mut input)?;
    if width % 2 != 0 || stacked_height % 4 != 0 {
        return Err(format!(
            "stacked pictures of {width}x{stacked_height} are not two 4:2:0 pictures"
        ));
    }
    let (luma, chroma_rows) = (width * stacked_height / 2, stacked_height / 4);
    let chroma_width = width / 2;
    let frame_bytes = width * stacked_height * 3 / 2;

    let (ref_tx, ref_rx) = sync_channel::<Vec<u8>>(QUEUE_FRAMES);
    let (dist_tx, dist_rx) = sync_channel::<Vec<u8>>(QUEUE_FRAMES);
    std::thread::scope(|scope| {
        let ref_writer = scope.spawn(move || drain(ref_rx, reference));
        let dist_writer = scope.spawn(move || drain(dist_rx, distorted));
        let mut frames = 0u64;
        let mut frame = vec![0u8; frame_bytes];
        let read = loop {
            let mut line = Vec::new();
            match input.read_until(b'\n', &mut line) {
                Ok(0) => break Ok(frames),
                Ok(_) if line.starts_with(b"FRAME") => {}
                Ok(_) => break Err(format!("frame {frames}: expected FRAME, found {:?}", lossy(&line))),
                Err(e) => break Err(format!("reading frame {frames}: {e}")),
            }
            if let Err(e) = input.read_exact(&mut frame) {
                break Err(format!("frame {frames} is cut short: {e}"));
            }
            // Y: top rows are the reference; U and V: the same, at half the rows.
            let (y, uv) = frame.split_at(luma * 2);
            let (u, v) = uv.split_at(chroma_width * chroma_rows * 2);
            let half = |plane: &[u8], top: bool| {
                let mid = plane.len() / 2;
                if top {
                    plane[..mid].to_vec()
                } else {
                    plane[mid..].to_vec()
                }
            };
            let side = |top: bool| [half(y, top), half(u, top), half(v, top)].concat();
            if ref_tx.send(side(true)).is_err() || dist_tx.send(side(false)).is_err() {
                break Err("vmaf stopped reading".to_owned());
            }
            frames += 1;
        };
        drop((ref_tx, dist_tx));
        let written = [ref_writer.join(), dist_writer.join()];
        let frames = read?;
        for w in written {
            w.map_err(|_| "a frame writer panicked".to_owned())??;
        }
        Ok(frames)
    })
}

fn drain(frames: std::sync::mpsc::Receiver<Vec<u8>>, mut out: impl Write) -> Result<(), String> {
    for frame in frames {
        out.write_all(&frame).map_err(|e| format!("writing to vmaf: {e}"))?;
    }
    out.flush().map_err(|e| format!("writing to vmaf: {e}"))
}

/// Width and height from the stream header; only 8-bit 4:2:0 is accepted.
fn header(input: &mut impl BufRead) -> Result<(usize, usize), String> {
    let mut line = Vec::new();
    input
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("reading the y4m header: {e}"))?;
    let text = lossy(&line);
    let mut fields = text.split_whitespace();
    if fields.next() != Some("YUV4MPEG2") {
        return Err(if line.is_empty() {
            "ffmpeg wrote no pictures".to_owned()
        } else {
            format!("not a y4m stream: {text:?}")
        });
    }
    let (mut width, mut height) = (None, None);
    for field in fields {
        match field.split_at(1) {
            ("W", w) => width = w.parse().ok(),
            ("H", h) => height = h.parse().ok(),
            ("C", c) if !["420", "420jpeg", "420mpeg2", "420paldv"].contains(&c) => {
                return Err(format!("y4m colour space {c} is not 8-bit 4:2:0"));
            }
            _ => {}
        }
    }
    match (width, height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => Err(format!("y4m header without a size: {text:?}")),
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4x4 stacked frame (two 4x2 pictures): every byte tells its plane and half.
    fn stacked_frame() -> Vec<u8> {
        let mut frame = Vec::new();
        frame.extend([1u8; 8]); // Y top
        frame.extend([2u8; 8]); // Y bottom
        frame.extend([3u8; 2]); // U top (2x1)
        frame.extend([4u8; 2]); // U bottom
        frame.extend([5u8; 2]); // V top
        frame.extend([6u8; 2]); // V bottom
        frame
    }

    #[test]
    fn each_frame_splits_into_its_top_and_bottom_picture() {
        let mut stream = b"YUV4MPEG2 W4 H4 F25:1 Ip A1:1 C420mpeg2 XYSCSS=420MPEG2\n".to_vec();
        for _ in 0..3 {
            stream.extend(b"FRAME\n");
            stream.extend(stacked_frame());
        }
        let (mut reference, mut distorted) = (Vec::new(), Vec::new());
        let frames = split_pairs(&stream[..], &mut reference, &mut distorted).unwrap();
        assert_eq!(frames, 3);
        let one_ref = [[1u8; 8].as_slice(), &[3, 3], &[5, 5]].concat();
        let one_dist = [[2u8; 8].as_slice(), &[4, 4], &[6, 6]].concat();
        assert_eq!(reference, one_ref.repeat(3));
        assert_eq!(distorted, one_dist.repeat(3));
    }

    #[test]
    fn a_cut_short_frame_or_other_format_is_an_error() {
        let mut stream = b"YUV4MPEG2 W4 H4 F25:1 C420mpeg2\nFRAME\n".to_vec();
        stream.extend(&stacked_frame()[..10]);
        let error = split_pairs(&stream[..], Vec::new(), Vec::new()).unwrap_err();
        assert!(error.contains("frame 0 is cut short"), "{error}");

        let ten_bit = b"YUV4MPEG2 W4 H4 F25:1 C420p10\n";
        let error = split_pairs(&ten_bit[..], Vec::new(), Vec::new()).unwrap_err();
        assert!(error.contains("not 8-bit 4:2:0"), "{error}");

        let error = split_pairs(&b""[..], Vec::new(), Vec::new()).unwrap_err();
        assert_eq!(error, "ffmpeg wrote no pictures");
    }
}
