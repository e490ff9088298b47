//! Reading the per-frame statistics files of ffmpeg's `ssim` and `psnr` filters, pooled the
//! way ffmpeg pools them for its own summary line.

use std::path::Path;

/// Identical pictures have an infinite PSNR and SSIM in dB; reports cap both here (as x264
/// does for PSNR), so they stay numbers in JSON.
pub const MAX_DB: f64 = 100.0;

/// Pooled scores of one statistics file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pooled {
    pub db: f64,
    pub frames: u64,
}

/// SSIM over all planes ("All:" of each frame), averaged over frames, in dB:
/// `-10 log10(1 - mean)`.
pub fn ssim_db(path: &Path) -> Result<Pooled, String> {
    let (sum, frames) = fold(path, "All:")?;
    let mean = sum / frames as f64;
    Ok(Pooled {
        db: db(1.0 - mean, 1.0),
        frames,
    })
}

/// Luma PSNR from the mean squared error over all frames ("mse_y:"), not the mean of each
/// frame's PSNR: one perfect frame would otherwise make the mean infinite.
pub fn psnr_y_db(path: &Path) -> Result<Pooled, String> {
    let (sum, frames) = fold(path, "mse_y:")?;
    let mse = sum / frames as f64;
    Ok(Pooled {
        db: db(mse, 255.0 * 255.0),
        frames,
    })
}

/// `10 log10(signal / noise)`, capped at [`MAX_DB`].
fn db(noise: f64, signal: f64) -> f64 {
    if noise <= 0.0 {
        return MAX_DB;
    }
    (10.0 * (signal / noise).log10()).min(MAX_DB)
}

/// The sum of `key`'s value over the file's lines (one per frame), and the number of frames.
fn fold(path: &Path, key: &str) -> Result<(f64, u64), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (mut sum, mut frames) = (0.0, 0u64);
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let value = line
            .split_whitespace()
            .find_map(|field| field.strip_prefix(key))
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| format!("{}:{}: no `{key}` value in `{line}`", path.display(), n + 1))?;
        sum += value;
        frames += 1;
    }
    if frames == 0 {
        return Err(format!("{}: no frame was compared", path.display()));
    }
    Ok((sum, frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn ssim_pools_the_mean_of_all_planes_then_converts_to_db() {
        let f =
            file("n:1 Y:0.990000 U:0.995 V:0.995 All:0.990000 (20.000000)\nn:2 Y:0.999 U:1 V:1 All:0.999000 (30.0)\n");
        let pooled = ssim_db(f.path()).unwrap();
        assert_eq!(pooled.frames, 2);
        // mean 0.9945 -> -10 log10(0.0055) = 22.596 dB
        assert!((pooled.db - 22.596).abs() < 0.001, "{pooled:?}");
    }

    #[test]
    fn psnr_pools_the_squared_error_not_the_decibels() {
        let f = file(
            "n:1 mse_avg:0.00 mse_y:0.00 mse_u:0.00 mse_v:0.00 psnr_avg:inf psnr_y:inf psnr_u:inf psnr_v:inf\n\
             n:2 mse_avg:2.00 mse_y:2.00 mse_u:0.00 mse_v:0.00 psnr_avg:45.1 psnr_y:45.1 psnr_u:inf psnr_v:inf\n",
        );
        let pooled = psnr_y_db(f.path()).unwrap();
        // mean mse 1.0 -> 10 log10(65025) = 48.131 dB
        assert!((pooled.db - 48.131).abs() < 0.001, "{pooled:?}");
    }

    #[test]
    fn identical_pictures_score_the_cap() {
        let f = file("n:1 Y:1.000000 U:1.000000 V:1.000000 All:1.000000 (inf)\n");
        assert_eq!(ssim_db(f.path()).unwrap().db, MAX_DB);
    }

    #[test]
    fn an_empty_or_garbled_file_is_an_error_naming_the_line() {
        let empty = file("");
        assert!(ssim_db(empty.path()).unwrap_err().contains("no frame was compared"));
        let garbled = file("n:1 Y:0.9\n");
        let error = ssim_db(garbled.path()).unwrap_err();
        assert!(error.contains(":1: no `All:` value"), "{error}");
    }
}
