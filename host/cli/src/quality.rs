//! `vodpipe quality`: what a policy delivers for one source. The source goes through the
//! pipeline's own encode (the plan, job document and executor of `vodpipe process`), then
//! every rendition is measured against it (vodpipe-quality), and the plan is priced with the
//! bundle's cost model.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use clap::Args;
use serde::Serialize;
use vodpipe_core::ports::{Policy, Prober};
use vodpipe_core::{Probe, VideoStatus};
use vodpipe_embedded::ffprobe::FfprobeProber;
use vodpipe_quality::chart::{self, Series};
use vodpipe_quality::{Measurer, Rendition, Sampling, Scores};
use vodpipe_runtime::reload::load;
use vodpipe_runtime::{Limits, LoadedPolicy, PluginRuntime};

#[derive(Args)]
pub struct QualityArgs {
    /// The video to encode and measure.
    file: PathBuf,
    /// Policy bundle directory; the built-in bundle when omitted.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Preset(s) of the bundle to measure (repeat for several: one chart, one line each);
    /// the bundle's active preset when omitted.
    #[arg(long)]
    preset: Vec<String>,
    /// Print JSON: one report, or an array of reports for several presets.
    #[arg(long)]
    json: bool,
    /// Where the encodes, the reports (`<source>.json`) and the chart (`<source>.svg`) go.
    #[arg(long, default_value = "vodpipe-quality")]
    out: PathBuf,
    /// Keep the encoded media (removed after measuring otherwise).
    #[arg(long)]
    keep_media: bool,
    #[command(flatten)]
    pub sampling: SamplingArg,
}

/// `--sample N`, shared by `vodpipe quality` and `vodpipe policy diff --encode`.
#[derive(Debug, Clone, clap::Args)]
pub struct SamplingArg {
    /// Score VMAF, SSIM and PSNR on one picture in N (3 or more, spread without a period;
    /// each with the picture before it for VMAF's motion), or on every picture with 1.
    #[arg(long, value_name = "N", default_value_t = vodpipe_quality::sampling::DEFAULT,
          value_parser = parse_sampling)]
    pub sample: Sampling,
}

fn parse_sampling(text: &str) -> Result<Sampling, String> {
    let n: u32 = text.parse().map_err(|_| format!("`{text}` is not a whole number"))?;
    Sampling::one_in(n)
}

/// What `vodpipe quality` reports for one preset.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub source: SourceInfo,
    pub preset: String,
    pub policy: PolicyInfo,
    pub renditions: Vec<Scores>,
    /// Wall time of the encode (plan, job, ffmpeg, read-back, publish).
    pub encode_seconds: f64,
    /// CPU time of the encode's processes.
    pub encode_cpu_seconds: f64,
    pub measure_seconds: f64,
    pub vmaf_model: &'static str,
    /// One picture in this many was scored (1: every picture).
    pub sample_one_in: u32,
    /// Why VMAF is `null`, when it is.
    pub vmaf_unavailable: Option<String>,
    pub cost: Option<vodpipe_core::cost::CostEstimate>,
    /// Why `cost` is `null`, when it is.
    pub cost_unavailable: Option<String>,
    /// The rate–quality chart of every preset measured in this run.
    pub chart: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    pub path: String,
    #[serde(flatten)]
    pub probe: Probe,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyInfo {
    pub bundle: String,
    pub hash: String,
}

pub fn run(args: QualityArgs) -> anyhow::Result<ExitCode> {
    let probe = FfprobeProber::default()
        .probe(&args.file)
        .map_err(|e| anyhow!("{}: {e}", args.file.display()))?;
    let runtime = PluginRuntime::new(crate::cache_dir(), Limits::default()).map_err(|e| anyhow!("{e}"))?;
    let files = crate::policy::files(args.policy.as_deref());
    let presets: Vec<Option<&str>> = if args.preset.is_empty() {
        vec![None]
    } else {
        args.preset.iter().map(|p| Some(p.as_str())).collect()
    };
    let stem = args
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "source".into());
    let measurer = Measurer {
        sampling: args.sampling.sample,
        ..Measurer::default()
    };
    if let Err(reason) = &measurer.vmaf {
        eprintln!("warning: VMAF will be null: {reason}");
    }

    let mut reports = Vec::new();
    for preset in presets {
        let policy = load(&runtime, files.as_ref(), preset)?;
        let work = args.out.join(&stem).join(&policy.preset().name);
        let report = measure_preset(&args.file, &probe, &policy, &measurer, &work, args.keep_media)?;
        reports.push(report);
    }

    let chart_path = args.out.join(format!("{stem}.svg"));
    std::fs::write(&chart_path, chart_of(&stem, &reports))
        .with_context(|| format!("writing {}", chart_path.display()))?;
    for r in &mut reports {
        r.chart = Some(chart_path.display().to_string());
    }
    let report_path = args.out.join(format!("{stem}.json"));
    let value = if reports.len() == 1 {
        serde_json::to_value(&reports[0])?
    } else {
        serde_json::to_value(&reports)?
    };
    std::fs::write(&report_path, serde_json::to_string_pretty(&value)?)
        .with_context(|| format!("writing {}", report_path.display()))?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_source(&args.file, &probe);
        for r in &reports {
            print_report(r);
        }
        println!("report: {}", report_path.display());
        println!("chart:  {}", chart_path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Encodes `file` with `policy` into `work` and measures it.
pub fn measure_preset(
    file: &Path,
    probe: &Probe,
    policy: &LoadedPolicy,
    measurer: &Measurer,
    work: &Path,
    keep_media: bool,
) -> anyhow::Result<Report> {
    let preset = policy.preset().name.clone();
    // Planned first, so a preset that cannot plan this source says so before any encode.
    let plan = policy
        .plan(probe)
        .map_err(|e| anyhow!("preset `{preset}` cannot plan {}: {e}", file.display()))?;
    if work.exists() {
        std::fs::remove_dir_all(work).with_context(|| format!("clearing {}", work.display()))?;
    }
    let data = work.join("data");
    let cpu_before = vodpipe_quality::children_cpu_seconds();
    let started = Instant::now();
    let processed = crate::process::process_file(file, policy, &data, 60, false)?;
    let encode_seconds = started.elapsed().as_secs_f64();
    let encode_cpu_seconds = vodpipe_quality::children_cpu_seconds() - cpu_before;
    let record = processed.record;
    if record.status != VideoStatus::Done {
        bail!(
            "preset `{preset}`: the encode of {} failed: {}",
            file.display(),
            record.failure_reason.as_deref().unwrap_or("no reason given")
        );
    }

    let renditions: Vec<Rendition> = record
        .renditions
        .iter()
        .map(|r| Rendition {
            name: r.name.clone(),
            width: r.width,
            height: r.height,
            playlist: processed.media_dir.join(&r.playlist_path),
        })
        .collect();
    let stats = work.join("measure");
    std::fs::create_dir_all(&stats)?;
    let measured = measurer
        .measure(file, Some(probe.display_size()), &renditions, &stats)
        .map_err(|e| anyhow!("preset `{preset}`: {e}"))?;
    if !keep_media {
        std::fs::remove_dir_all(&data).with_context(|| format!("removing {}", data.display()))?;
    }

    // The plan the video was encoded with (after the content analysis, when the preset asks
    // for one), not the preview above.
    let encoded = record.plan.as_ref().unwrap_or(&plan);
    let cost = crate::cost::estimate(policy, encoded, probe);
    Ok(Report {
        source: SourceInfo {
            path: file.display().to_string(),
            probe: probe.clone(),
        },
        preset,
        policy: PolicyInfo {
            bundle: policy.bundle_name.clone(),
            hash: policy.content_hash.clone(),
        },
        renditions: measured.renditions,
        encode_seconds,
        encode_cpu_seconds,
        measure_seconds: measured.seconds,
        vmaf_model: vodpipe_quality::vmaf::MODEL,
        sample_one_in: measured.sampling.n(),
        vmaf_unavailable: measured.vmaf_unavailable,
        cost: cost.estimate,
        cost_unavailable: cost.unavailable,
        chart: None,
    })
}

/// The rate–quality chart of `reports`: VMAF where every rendition has it, else PSNR.
pub fn chart_of(title: &str, reports: &[Report]) -> String {
    let with_vmaf = reports.iter().flat_map(|r| &r.renditions).all(|s| s.vmaf.is_some());
    let (metric, score): (&str, fn(&Scores) -> Option<f64>) = if with_vmaf {
        ("VMAF", |s| s.vmaf)
    } else {
        ("PSNR (dB)", |s| s.psnr_db)
    };
    let series: Vec<Series> = reports
        .iter()
        .map(|r| Series {
            label: r.preset.clone(),
            points: r
                .renditions
                .iter()
                .filter_map(|s| Some((s.avg_kbps, score(s)?, s.name.clone())))
                .collect(),
        })
        .collect();
    chart::svg(title, metric, &series)
}

fn print_source(file: &Path, probe: &Probe) {
    let (w, h) = probe.display_size();
    println!(
        "{}: {w}x{h}, {:.3} fps, {:.1} s, {}{}",
        file.display(),
        probe.frame_rate,
        probe.duration_ms as f64 / 1000.0,
        probe.video_codec,
        probe
            .video_bitrate
            .map(|b| format!(" at {:.0} kb/s", b as f64 / 1000.0))
            .unwrap_or_default()
    );
}

fn print_report(r: &Report) {
    println!(
        "\npreset `{}` (bundle `{}` {})",
        r.preset,
        r.policy.bundle,
        &r.policy.hash[..12.min(r.policy.hash.len())]
    );
    println!(
        "  {:<8} {:>10} {:>9} {:>9} {:>7} {:>8} {:>8}",
        "rung", "size", "avg kb/s", "peak kb/s", "VMAF", "SSIM dB", "PSNR dB"
    );
    let figure = |v: Option<f64>, decimals: usize| v.map_or("-".to_owned(), |v| format!("{v:.decimals$}"));
    for s in &r.renditions {
        println!(
            "  {:<8} {:>10} {:>9.0} {:>9.0} {:>7} {:>8} {:>8}",
            s.name,
            format!("{}x{}", s.width, s.height),
            s.avg_kbps,
            s.peak_kbps,
            figure(s.vmaf, 2),
            figure(s.ssim_db, 2),
            figure(s.psnr_db, 2)
        );
    }
    let total: f64 = r.renditions.iter().map(|s| s.avg_kbps).sum();
    println!("  total {total:.0} kb/s over {} renditions", r.renditions.len());
    println!(
        "  encode {:.1} s ({:.1} CPU s), measure {:.1} s ({:.2} of the encode, {})",
        r.encode_seconds,
        r.encode_cpu_seconds,
        r.measure_seconds,
        r.measure_seconds / r.encode_seconds.max(1e-9),
        Sampling::one_in(r.sample_one_in).map_or_else(|e| e, Sampling::describe)
    );
    if let Some(reason) = &r.vmaf_unavailable {
        println!("  VMAF not measured: {reason}");
    }
    let cost = crate::cost::Cost {
        estimate: r.cost.clone(),
        unavailable: r.cost_unavailable.clone(),
    };
    crate::cost::print(&cost, "  ");
}
