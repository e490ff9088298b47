//! The plugin stages per video, and the cost of a cold start, next to a native Rust build of
//! the same planner (the ladder rules crate the `ladder-table` plugin is compiled from).
//!
//! cargo bench -p vodpipe-runtime --bench stages

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use vodpipe_core::ports::Policy;
use vodpipe_core::{JobContext, JobOutput, JobResult, JobStatus, Probe, Video, VideoStatus};
use vodpipe_ladder_math as native;
use vodpipe_plugin_artifacts::builtin_files;
use vodpipe_policy::MemoryFiles;
use vodpipe_runtime::reload::load;
use vodpipe_runtime::{Limits, LoadedPolicy, PluginRuntime};

fn files() -> MemoryFiles {
    builtin_files()
}

fn source() -> Probe {
    Probe {
        width: 1920,
        height: 1080,
        rotation: 0,
        duration_ms: 60_000,
        frame_rate: 30.0,
        video_bitrate: Some(6_000_000),
        total_bitrate: Some(6_200_000),
        has_audio: true,
        container: "mov,mp4,m4a,3gp,3g2,mj2".into(),
        video_codec: "h264".into(),
        analysis: Default::default(),
    }
}

fn context() -> JobContext {
    JobContext {
        video_id: "01JDVP6Q7Z8X9Y0A1B2C3D4E5F".into(),
        input_uri: "s3://uploads/01JDVP6Q7Z8X9Y0A1B2C3D4E5F".into(),
        output_prefix: "s3://media/01JDVP6Q7Z8X9Y0A1B2C3D4E5F/".into(),
        role: "arn:aws:iam::123456789012:role/vodpipe-mediaconvert".into(),
        queue: None,
    }
}

fn video() -> Video {
    Video {
        id: "01JDVP6Q7Z8X9Y0A1B2C3D4E5F".into(),
        user_id: "user".into(),
        title: "title".into(),
        status: VideoStatus::Processing,
        source_key: "01JDVP6Q7Z8X9Y0A1B2C3D4E5F".into(),
    }
}

fn job_result() -> JobResult {
    JobResult {
        job_id: "job".into(),
        status: JobStatus::Complete,
        error_code: None,
        error_message: None,
        playlist_path: Some("index.m3u8".into()),
        outputs: ["1080p", "720p", "480p", "360p", "240p"]
            .iter()
            .map(|n| JobOutput {
                path: format!("index_{n}.m3u8"),
                width: 1920,
                height: 1080,
                duration_ms: 60_000,
            })
            .collect(),
        thumbnail_path: Some("thumbnails/thumb_poster.0000001.jpg".into()),
        dash_manifest_path: None,
    }
}

fn per_video(policy: &LoadedPolicy) {
    let plan = policy.plan(black_box(&source())).unwrap();
    let job = policy.build_job(&plan, &context()).unwrap();
    let actions = policy.post_process(&video(), &job_result()).unwrap();
    black_box((job, actions));
}

fn warm(c: &mut Criterion) {
    let runtime = PluginRuntime::new(None, Limits::default()).unwrap();
    let policy = load(&runtime, &files(), None).unwrap();
    let plan = policy.plan(&source()).unwrap();
    let mut group = c.benchmark_group("warm");
    group.bench_function("plan", |b| b.iter(|| policy.plan(black_box(&source())).unwrap()));
    group.bench_function("build_job", |b| {
        b.iter(|| policy.build_job(black_box(&plan), &context()).unwrap())
    });
    group.bench_function("post_process", |b| {
        b.iter(|| policy.post_process(&video(), &job_result()).unwrap())
    });
    group.bench_function("plan+build+post", |b| b.iter(|| per_video(&policy)));
    group.bench_function("job builder validate-config (instantiate + trivial call)", |b| {
        b.iter(|| policy.validate_config(vodpipe_core::Stage::JobBuilder).unwrap())
    });
    let doc = policy.build_job(&plan, &context()).unwrap().create_job.get().to_owned();
    group.bench_function("host parse of a job document", |b| {
        b.iter(|| vodpipe_core::JobDocument::parse(black_box(doc.clone()), Vec::new()).unwrap())
    });

    // The same planner compiled natively, with the same preset.
    let preset = policy.preset().clone();
    let ladder = native::Ladder {
        packaging: vodpipe_ladder_math::Packaging::Ts,
        rungs: preset
            .rungs
            .iter()
            .map(|r| native::Rung {
                codec: vodpipe_ladder_math::Codec::H264,
                name: r.name.clone(),
                short_side: r.short_side,
                video_bitrate: r.video_bitrate,
                max_bitrate: r.max_bitrate,
                profile: r.profile.clone(),
                level: r.level.clone(),
                audio_bitrate: r.audio_bitrate,
            })
            .collect(),
        allow_upscale: preset.allow_upscale,
        frame_rate_cap: preset.frame_rate_cap,
        segment_seconds: preset.segment_seconds,
        thumbnail_at_seconds: preset.thumbnail_at_seconds,
        thumbnail_width: preset.thumbnail_width,
    };
    let probe = source();
    let native_source = native::Source {
        width: probe.width,
        height: probe.height,
        frame_rate: probe.frame_rate,
        duration_ms: probe.duration_ms,
        has_audio: probe.has_audio,
    };
    group.bench_function("plan (native, no sandbox)", |b| {
        b.iter(|| native::plan(black_box(&native_source), black_box(&ladder), 1.0).unwrap())
    });
    group.finish();
}

fn cold(c: &mut Criterion) {
    let mut group = c.benchmark_group("cold");
    group.sample_size(10);
    // A new process with no cache: Cranelift compiles all three plugins.
    group.bench_function("first video, compiling", |b| {
        b.iter(|| {
            let runtime = PluginRuntime::new(None, Limits::default()).unwrap();
            per_video(&load(&runtime, &files(), None).unwrap());
        })
    });
    // A new process whose disk cache holds the precompiled plugins.
    let dir = tempfile::tempdir().unwrap();
    let prime = PluginRuntime::new(Some(dir.path().to_owned()), Limits::default()).unwrap();
    per_video(&load(&prime, &files(), None).unwrap());
    group.bench_function("first video, precompiled cache", |b| {
        b.iter(|| {
            let runtime: Arc<PluginRuntime> =
                PluginRuntime::new(Some(dir.path().to_owned()), Limits::default()).unwrap();
            per_video(&load(&runtime, &files(), None).unwrap());
            assert_eq!(runtime.cache_stats().compiled, 0);
        })
    });
    group.finish();
}

criterion_group!(benches, warm, cold);
criterion_main!(benches);
