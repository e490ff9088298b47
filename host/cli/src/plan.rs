//! `vodpipe plan`: what the active policy does with a source, without encoding anything.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::anyhow;
use clap::Args;
use serde_json::json;
use vodpipe_core::ports::{Policy, Prober};
use vodpipe_core::{Analysis, JobContext, LadderPreset, Packaging, Plan, Probe, VideoCodec};
use vodpipe_embedded::analysis::SampleAnalyser;
use vodpipe_embedded::ffprobe::FfprobeProber;
use vodpipe_policy::DirFiles;
use vodpipe_runtime::reload::{Reload, load};
use vodpipe_runtime::{Limits, LoadedPolicy, PluginRuntime, PolicyHandle};

#[derive(Args)]
pub struct PlanArgs {
    /// A video file to probe with ffprobe.
    #[arg(required_unless_present_all = ["width", "height"], conflicts_with_all = ["width", "height"])]
    file: Option<PathBuf>,
    /// Plan for a source of this width instead of probing a file.
    #[arg(long, requires = "height")]
    width: Option<u32>,
    #[arg(long, requires = "width")]
    height: Option<u32>,
    /// Display rotation of the --width/--height source, degrees clockwise.
    #[arg(long, default_value_t = 0, value_parser = parse_rotation)]
    rotation: u32,
    /// Policy bundle directory (see `vodpipe policy init`); the built-in bundle when omitted.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Preview another preset of the bundle instead of its active one.
    #[arg(long)]
    preset: Option<String>,
    /// Print JSON: the source, the renditions and the MediaConvert job document.
    #[arg(long)]
    json: bool,
    /// Keep running and plan again whenever the --policy bundle changes on disk; a broken
    /// edit is reported and the last good plan stays.
    #[arg(long, requires = "policy", conflicts_with = "preset")]
    watch: bool,
}

fn parse_rotation(text: &str) -> Result<u32, String> {
    match text.parse() {
        Ok(r @ (0 | 90 | 180 | 270)) => Ok(r),
        _ => Err("must be 0, 90, 180 or 270".into()),
    }
}

pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let (source, input_uri) = match (&args.file, args.width, args.height) {
        (Some(file), _, _) => {
            let probe = FfprobeProber::default()
                .probe(file)
                .map_err(|e| anyhow!("{}: {e}", file.display()))?;
            let absolute = std::path::absolute(file)?;
            (probe, format!("file://{}", absolute.display()))
        }
        (None, Some(width), Some(height)) => {
            let mut probe = Probe::from_size(width, height);
            probe.rotation = args.rotation;
            (probe, "file:///source".to_owned())
        }
        _ => unreachable!("clap requires a file or both --width and --height"),
    };

    let runtime = PluginRuntime::new(crate::cache_dir(), Limits::default()).map_err(|e| anyhow!("{e}"))?;
    if args.watch {
        let dir = args.policy.as_deref().expect("clap requires --policy with --watch");
        let handle = PolicyHandle::from_dir(runtime, dir)?;
        show(&handle.current(), &source, &input_uri, args.json)?;
        eprintln!("watching {} for changes (Ctrl-C to stop)", dir.display());
        loop {
            std::thread::sleep(Duration::from_millis(250));
            match handle.poll() {
                None | Some(Ok(Reload::Unchanged)) => {}
                Some(Ok(Reload::Activated)) => show(&handle.current(), &source, &input_uri, args.json)?,
                Some(Err(e)) => eprintln!(
                    "\nrefused, the last good bundle stays active:\n{}",
                    e.report(&DirFiles(dir.to_owned()), None)
                ),
            }
        }
    }
    let files = crate::policy::files(args.policy.as_deref());
    let policy = load(&runtime, files.as_ref(), args.preset.as_deref())
        .map_err(|e| anyhow!(e.report(files.as_ref(), args.preset.as_deref())))?;
    let source = with_analysis(source, args.file.as_deref(), policy.preset());
    show(&policy, &source, &input_uri, args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// `probe` with the content analysis of `file` when `preset` asks for one, as the pipeline
/// plans an upload; a failed analysis is logged as a warning and planned without, as there.
pub fn with_analysis(mut probe: Probe, file: Option<&std::path::Path>, preset: &LadderPreset) -> Probe {
    if let (true, Some(file)) = (preset.analyse_content, file) {
        probe.analysis = SampleAnalyser::default().outcome(file, &probe, preset.frame_rate_cap);
    }
    probe
}

fn show(policy: &LoadedPolicy, source: &Probe, input_uri: &str, json: bool) -> anyhow::Result<()> {
    let plan = policy.plan(source)?;
    let context = JobContext {
        video_id: "preview".into(),
        input_uri: input_uri.to_owned(),
        output_prefix: "file:///media/preview/".into(),
        role: String::new(),
        queue: None,
    };
    let job = policy.build_job(&plan, &context)?;
    let warnings = vodpipe_policy::levels::plan_warnings(policy.preset(), &plan);

    if json {
        let output = json!({
            "policy": { "bundle": policy.bundle_name, "hash": policy.content_hash, "preset": policy.preset().name,
                        "plugins": policy.plugin_names().map(|(name, stage)| json!({"stage": stage, "plugin": name})) },
            "source": source,
            "renditions": plan.renditions,
            "segment_seconds": plan.segment_seconds,
            "thumbnail": plan.thumbnail,
            "warnings": warnings,
            "job": job.create_job,
            "job_metadata": job.metadata.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        });
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        let [(planner, _), (builder, _), _] = policy.plugin_names();
        println!(
            "policy `{}`, preset `{}`, planner `{planner}`, job builder `{builder}`",
            policy.bundle_name,
            policy.preset().name
        );
        print_source(source);
        print_plan(&plan);
        for warning in &warnings {
            println!("warning: {warning}");
        }
        let groups = job.to_value()["Settings"]["OutputGroups"]
            .as_array()
            .map_or(0, Vec::len);
        let plural = if groups == 1 { "" } else { "s" };
        println!("job: MediaConvert CreateJob, {groups} output group{plural} (--json shows it)");
    }
    Ok(())
}

fn print_source(source: &Probe) {
    let (w, h) = source.display_size();
    let mut facts = vec![format!("{w}x{h}")];
    if source.rotation != 0 {
        facts.push(format!("rotated {}°", source.rotation));
    }
    if source.duration_ms > 0 {
        facts.push(format!("{:.1} s", source.duration_ms as f64 / 1000.0));
    }
    if source.frame_rate > 0.0 {
        facts.push(format!("{:.2} fps", source.frame_rate));
    }
    if !source.video_codec.is_empty() {
        facts.push(source.video_codec.clone());
    }
    facts.push(if source.has_audio {
        "audio".into()
    } else {
        "no audio".into()
    });
    println!("source: {}", facts.join(", "));
    match &source.analysis {
        Analysis::NotRun => {}
        Analysis::Failed { reason } => println!("analysis: failed ({reason}); planned without it"),
        Analysis::Measured(a) => {
            let sizes: Vec<String> = a
                .samples
                .iter()
                .map(|sample| {
                    let points: Vec<String> = sample
                        .points
                        .iter()
                        .map(|p| format!("CRF {} {} kb/s", p.crf, p.bitrate / 1000))
                        .collect();
                    format!("{}x{} {}", sample.width, sample.height, points.join(", "))
                })
                .collect();
            println!(
                "analysis: {:.1} s sampled; {}",
                a.sampled_ms as f64 / 1000.0,
                sizes.join("; ")
            );
        }
    }
}

fn print_plan(plan: &Plan) {
    println!();
    println!(
        "  {:<8} {:>10} {:<10} {:>11} {:>11} {:<9} {:<6} {:>6} {:>9}",
        "NAME", "SIZE", "RATE", "VIDEO", "MAX", "PROFILE", "LEVEL", "FPS", "AUDIO"
    );
    for r in &plan.renditions {
        let audio = r.audio_bitrate.map_or("-".to_owned(), |a| format!("{} kb/s", a / 1000));
        // A constant-quality rendition's VIDEO is what the planner expects it to cost.
        let (rate, video) = match r.quality_level {
            None => ("VBR".to_owned(), format!("{} kb/s", r.video_bitrate / 1000)),
            Some(level) => (format!("QVBR {level:.2}"), format!("~{} kb/s", r.video_bitrate / 1000)),
        };
        println!(
            "  {:<8} {:>10} {:<10} {:>11} {:>11} {:<9} {:<6} {:>6} {:>9}",
            r.name,
            format!("{}x{}", r.width, r.height),
            rate,
            video,
            format!("{} kb/s", r.max_bitrate / 1000),
            match r.codec {
                VideoCodec::H264 => r.profile.clone(),
                codec => format!("{} {}b", codec.name(), r.bit_depth),
            },
            r.level,
            format!("{:.2}", r.frame_rate_cap)
                .trim_end_matches('0')
                .trim_end_matches('.'),
            audio
        );
    }
    println!();
    let thumbnail = plan.thumbnail.as_ref().map_or("none".to_owned(), |t| {
        format!("{}x{} at {:.1} s", t.width, t.height, t.at_seconds)
    });
    let packaging = match plan.packaging {
        Packaging::Ts => String::new(),
        Packaging::Cmaf => "; packaging: cmaf (fragmented MP4, HLS and DASH)".to_owned(),
    };
    println!(
        "segments: {} s; thumbnail: {thumbnail}{packaging}",
        plan.segment_seconds
    );
}
