//! Reading the per-picture statistics files of ffmpeg's `ssim` and `psnr` filters, pooled
//! into one luma figure each.

use std::path::Path;

/// Identical pictures have an infinite SSIM in dB; reports cap it here, so it stays a number
/// in JSON.
pub const MAX_SSIM_DB: f64 = 100.0;
/// Identical pictures have an infinite PSNR; reports cap it at libvmaf's figure for 8-bit
/// pictures (an error of 255^2 / 10^6).
pub const MAX_PSNR_DB: f64 = 60.0;

/// Pooled scores of one statistics file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pooled {
    pub db: f64,
    pub frames: u64,
}

/// Luma SSIM averaged over pictures, in dB: `-10 log10(1 - mean)`.
fn pool_ssim_db(per_picture: &[f64]) -> f64 {
    let mean = per_picture.iter().sum::<f64>() / per_picture.len().max(1) as f64;
    db(1.0 - mean, 1.0, MAX_SSIM_DB)
}

/// Luma SSIM from an ffmpeg `ssim` statistics file ("Y:" of each picture).
pub fn ssim_db(path: &Path) -> Result<Pooled, String> {
    let values = fold(path, "Y:")?;
    Ok(Pooled {
        db: pool_ssim_db(&values),
        frames: values.len() as u64,
    })
}

/// Luma PSNR from an ffmpeg `psnr` statistics file ("mse_y:" of each picture).
pub fn psnr_y_db(path: &Path) -> Result<Pooled, String> {
    let errors = fold(path, "mse_y:")?;
    let peak = 255.0 * 255.0;
    let mse = errors
        .iter()
        .map(|e| e.max(peak / 10f64.powf(MAX_PSNR_DB / 10.0)))
        .sum::<f64>()
        / errors.len() as f64;
    Ok(Pooled {
        db: db(mse, peak, MAX_PSNR_DB),
        frames: errors.len() as u64,
    })
}

/// `10 log10(signal / noise)`, capped at `cap`.
fn db(noise: f64, signal: f64, cap: f64) -> f64 {
    if noise <= 0.0 {
        return cap;
    }
    (10.0 * (signal / noise).log10()).min(cap)
}

/// `key`'s value on each of the file's lines (one per picture).
fn fold(path: &Path, key: &str) -> Result<Vec<f64>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut values = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let value = line
            .split_whitespace()
            .find_map(|field| field.strip_prefix(key))
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| format!("{}:{}: no `{key}` value in `{line}`", path.display(), n + 1))?;
        values.push(value);
    }
    if values.is_empty() {
        return Err(format!("{}: no frame was compared", path.display()));
    }
    Ok(values)
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
        // mean mse (0.0650 at the cap + 2.0) / 2 -> 10 log10(65025 / 1.0325) = 47.99 dB
        assert!((pooled.db - 47.99).abs() < 0.01, "{pooled:?}");
    }

    #[test]
    fn identical_pictures_score_the_cap() {
        let f = file("n:1 Y:1.000000 U:1.000000 V:1.000000 All:1.000000 (inf)\n");
        assert_eq!(ssim_db(f.path()).unwrap().db, MAX_SSIM_DB);
    }

    #[test]
    fn an_empty_or_garbled_file_is_an_error_naming_the_line() {
        let empty = file("");
        assert!(ssim_db(empty.path()).unwrap_err().contains("no frame was compared"));
        let garbled = file("n:1 U:0.9\n");
        let error = ssim_db(garbled.path()).unwrap_err();
        assert!(error.contains(":1: no `Y:` value"), "{error}");
    }
}
