//! Between the domain's types and the plugin contract's, for each contract version.

/// Bytes of a plugin's config problems: every string.
use vodpipe_core as core;

pub fn problems_size(problems: &[vodpipe_core::ConfigProblem]) -> usize {
    problems.iter().map(|p| p.key.len() + p.message.len()).sum()
}

/// What an older contract cannot say of a preset: a rung of another codec than H.264.
fn h264_only(rungs: impl IntoIterator<Item = (String, core::VideoCodec)>, version: &str) -> Result<(), String> {
    match rungs.into_iter().find(|(_, codec)| *codec != core::VideoCodec::H264) {
        Some((name, codec)) => Err(format!(
            "the `{name}` rung is {}, which vodpipe:plugin@{version} cannot carry (it knows H.264 only): rebuild \
             the plugin against 0.3.0",
            codec.name()
        )),
        None => Ok(()),
    }
}

/// What an older job builder cannot write: CMAF packaging, or another codec than H.264.
fn older_job_builder(plan: &core::Plan, version: &str) -> Result<(), String> {
    if plan.packaging != core::Packaging::Ts {
        return Err(format!(
            "the preset asks for `{}` packaging and vodpipe:plugin@{version} job builders write MPEG-TS only: \
             rebuild the plugin against 0.3.0",
            plan.packaging.name()
        ));
    }
    h264_only(plan.renditions.iter().map(|r| (r.name.clone(), r.codec)), version)
}

/// Conversions of the types every contract version shares (each version has its own copies).
/// What a version adds to them is named: fields of the job result copied as they are, and
/// actions that carry one path.
macro_rules! common {
    () => {
        common!(job_result_fields: [], path_actions: []);
    };
    (job_result_fields: [$($field:ident),*], path_actions: [$($path_action:ident),*]) => {
        pub fn context(c: &core::JobContext) -> wit::JobContext {
            wit::JobContext {
                video_id: c.video_id.clone(),
                input_uri: c.input_uri.clone(),
                output_prefix: c.output_prefix.clone(),
                role: c.role.clone(),
                queue: c.queue.clone(),
            }
        }

        pub fn video(v: &core::Video) -> wit::Video {
            wit::Video {
                id: v.id.clone(),
                user_id: v.user_id.clone(),
                title: v.title.clone(),
                status: match v.status {
                    core::VideoStatus::Processing => wit::VideoStatus::Processing,
                    core::VideoStatus::Done => wit::VideoStatus::Done,
                    core::VideoStatus::Failed => wit::VideoStatus::Failed,
                },
                source_key: v.source_key.clone(),
            }
        }

        pub fn job_result(r: &core::JobResult) -> wit::JobResult {
            wit::JobResult {
                job_id: r.job_id.clone(),
                status: match r.status {
                    core::JobStatus::Complete => wit::JobStatus::Complete,
                    core::JobStatus::Error => wit::JobStatus::Error,
                },
                error_code: r.error_code,
                error_message: r.error_message.clone(),
                playlist_path: r.playlist_path.clone(),
                outputs: r
                    .outputs
                    .iter()
                    .map(|o| wit::JobOutput {
                        path: o.path.clone(),
                        width: o.width,
                        height: o.height,
                        duration_ms: o.duration_ms,
                    })
                    .collect(),
                thumbnail_path: r.thumbnail_path.clone(),
                $($field: r.$field.clone(),)*
            }
        }

        pub fn action_from(a: wit::Action) -> core::Action {
            match a {
                wit::Action::SetDone => core::Action::SetDone,
                wit::Action::SetFailed(reason) => {
                    core::Action::SetFailed(reason.chars().take(core::action::MAX_REASON_CHARS).collect())
                }
                wit::Action::RecordPlayback(p) => core::Action::RecordPlayback(p),
                wit::Action::RecordThumbnail(p) => core::Action::RecordThumbnail(p),
                wit::Action::RecordRenditions(list) => core::Action::RecordRenditions(
                    list.into_iter()
                        .map(|r| core::Rendered {
                            name: r.name,
                            width: r.width,
                            height: r.height,
                            playlist_path: r.playlist_path,
                        })
                        .collect(),
                ),
                wit::Action::RecordDuration(ms) => core::Action::RecordDuration(ms),
                wit::Action::DeleteSource => core::Action::DeleteSource,
                $(wit::Action::$path_action(p) => core::Action::$path_action(p),)*
            }
        }

        fn thumbnail_from(t: wit::Thumbnail) -> core::Thumbnail {
            core::Thumbnail {
                at_seconds: t.at_seconds,
                width: t.width,
                height: t.height,
            }
        }

        fn thumbnail_to(t: &core::Thumbnail) -> wit::Thumbnail {
            wit::Thumbnail {
                at_seconds: t.at_seconds,
                width: t.width,
                height: t.height,
            }
        }

        pub fn problems_from(problems: Vec<wit::ConfigProblem>) -> Vec<core::ConfigProblem> {
            problems
                .into_iter()
                .map(|p| core::ConfigProblem {
                    key: p.key,
                    message: p.message,
                })
                .collect()
        }

        /// Bytes a list of actions occupied as it crossed the boundary: a word per action
        /// plus every string.
        pub fn actions_size(actions: &[wit::Action]) -> usize {
            actions
                .iter()
                .map(|a| match a {
                    wit::Action::SetFailed(s)
                    | wit::Action::RecordPlayback(s)
                    | wit::Action::RecordThumbnail(s)
                    $(| wit::Action::$path_action(s))* => 8 + s.len(),
                    wit::Action::RecordRenditions(list) => list
                        .iter()
                        .map(|r| 16 + r.name.len() + r.playlist_path.len())
                        .sum::<usize>(),
                    _ => 8,
                })
                .sum()
        }
    };
}

/// The first contract: no content analysis, every rung and rendition an average bitrate.
pub mod v0_1 {
    use vodpipe_core as core;

    use crate::bindings::v0_1::types as wit;

    common!();

    pub fn probe(p: &core::Probe) -> wit::Probe {
        wit::Probe {
            width: p.width,
            height: p.height,
            rotation: p.rotation,
            duration_ms: p.duration_ms,
            frame_rate: p.frame_rate,
            video_bitrate: p.video_bitrate,
            total_bitrate: p.total_bitrate,
            has_audio: p.has_audio,
            container: p.container.clone(),
            video_codec: p.video_codec.clone(),
        }
    }

    pub fn preset(p: &core::LadderPreset) -> Result<wit::Preset, String> {
        super::h264_only(p.rungs.iter().map(|r| (r.name.clone(), r.codec)), "0.1.0")?;
        Ok(wit::Preset {
            name: p.name.clone(),
            segment_seconds: p.segment_seconds,
            frame_rate_cap: p.frame_rate_cap,
            allow_upscale: p.allow_upscale,
            thumbnail_at_seconds: p.thumbnail_at_seconds,
            thumbnail_width: p.thumbnail_width,
            rungs: p
                .rungs
                .iter()
                .map(|r| wit::Rung {
                    name: r.name.clone(),
                    short_side: r.short_side,
                    video_bitrate: r.video_bitrate,
                    max_bitrate: r.max_bitrate,
                    profile: r.profile.clone(),
                    level: r.level.clone(),
                    audio_bitrate: r.audio_bitrate,
                })
                .collect(),
            config: p.plugin_config.to_string(),
        })
    }

    /// A 0.1.0 plan is H.264, packaged as the preset says.
    pub fn plan_from(p: wit::Plan, preset: &core::LadderPreset) -> core::Plan {
        core::Plan {
            renditions: p
                .renditions
                .into_iter()
                .map(|r| core::Rendition {
                    name: r.name,
                    width: r.width,
                    height: r.height,
                    video_bitrate: r.video_bitrate,
                    max_bitrate: r.max_bitrate,
                    codec: core::VideoCodec::H264,
                    bit_depth: 8,
                    profile: r.profile,
                    level: r.level,
                    frame_rate_cap: r.frame_rate_cap,
                    quality_level: None,
                    audio_bitrate: r.audio_bitrate,
                })
                .collect(),
            segment_seconds: p.segment_seconds,
            thumbnail: p.thumbnail.map(thumbnail_from),
            packaging: preset.packaging,
        }
    }

    /// A constant-quality rendition reaches a 0.1.0 job builder as an average bitrate: the one
    /// the planner expected, under its peak (0.1.0 has no other rate control).
    pub fn plan_to(p: &core::Plan) -> Result<wit::Plan, String> {
        super::older_job_builder(p, "0.1.0")?;
        Ok(wit::Plan {
            renditions: p
                .renditions
                .iter()
                .map(|r| wit::Rendition {
                    name: r.name.clone(),
                    width: r.width,
                    height: r.height,
                    video_bitrate: r.video_bitrate,
                    max_bitrate: r.max_bitrate,
                    profile: r.profile.clone(),
                    level: r.level.clone(),
                    frame_rate_cap: r.frame_rate_cap,
                    audio_bitrate: r.audio_bitrate,
                })
                .collect(),
            segment_seconds: p.segment_seconds,
            thumbnail: p.thumbnail.as_ref().map(thumbnail_to),
        })
    }

    /// Bytes of a plan as it crossed the boundary: fixed-size fields plus every string.
    pub fn plan_size(p: &wit::Plan) -> usize {
        p.renditions
            .iter()
            .map(|r| 48 + r.name.len() + r.profile.len() + r.level.len())
            .sum::<usize>()
            + 32
    }
}

/// Conversions of what 0.2.0 and 0.3.0 share: the probe with its analysis, the plan's size,
/// and H.264's profile and level enums.
macro_rules! since_0_2 {
    () => {
        pub fn probe(p: &core::Probe) -> wit::Probe {
            wit::Probe {
                width: p.width,
                height: p.height,
                rotation: p.rotation,
                duration_ms: p.duration_ms,
                frame_rate: p.frame_rate,
                video_bitrate: p.video_bitrate,
                total_bitrate: p.total_bitrate,
                has_audio: p.has_audio,
                container: p.container.clone(),
                video_codec: p.video_codec.clone(),
                bits_per_pixel: p.bits_per_pixel(),
                analysis: match &p.analysis {
                    core::Analysis::NotRun => wit::Analysis::NotRun,
                    core::Analysis::Failed { reason } => wit::Analysis::Failed(reason.clone()),
                    core::Analysis::Measured(a) => wit::Analysis::Measured(wit::ContentAnalysis {
                        frame_rate: a.frame_rate,
                        sampled_ms: a.sampled_ms,
                        samples: a
                            .samples
                            .iter()
                            .map(|sample| wit::SizeSample {
                                width: sample.width,
                                height: sample.height,
                                points: sample
                                    .points
                                    .iter()
                                    .map(|point| wit::RatePoint {
                                        crf: point.crf,
                                        bitrate: point.bitrate,
                                    })
                                    .collect(),
                            })
                            .collect(),
                    }),
                },
            }
        }

        /// Bytes of a plan as it crossed the boundary: fixed-size fields plus every string.
        pub fn plan_size(p: &wit::Plan) -> usize {
            p.renditions.iter().map(|r| 64 + r.name.len()).sum::<usize>() + 32
        }

        const PROFILES: [(wit::Profile, &str); 3] = [
            (wit::Profile::Baseline, "baseline"),
            (wit::Profile::Main, "main"),
            (wit::Profile::High, "high"),
        ];

        const LEVELS: [(wit::Level, &str); 20] = [
            (wit::Level::Auto, "auto"),
            (wit::Level::L1, "1.0"),
            (wit::Level::L11, "1.1"),
            (wit::Level::L12, "1.2"),
            (wit::Level::L13, "1.3"),
            (wit::Level::L2, "2.0"),
            (wit::Level::L21, "2.1"),
            (wit::Level::L22, "2.2"),
            (wit::Level::L3, "3.0"),
            (wit::Level::L31, "3.1"),
            (wit::Level::L32, "3.2"),
            (wit::Level::L4, "4.0"),
            (wit::Level::L41, "4.1"),
            (wit::Level::L42, "4.2"),
            (wit::Level::L5, "5.0"),
            (wit::Level::L51, "5.1"),
            (wit::Level::L52, "5.2"),
            (wit::Level::L6, "6.0"),
            (wit::Level::L61, "6.1"),
            (wit::Level::L62, "6.2"),
        ];

        fn profile_name(profile: wit::Profile) -> &'static str {
            PROFILES
                .iter()
                .find(|(p, _)| *p == profile)
                .map_or("high", |(_, name)| name)
        }

        /// A checked preset's profile; anything else (never seen: presets are checked when read)
        /// is `high`, which the plan check then names.
        fn profile_to(name: &str) -> wit::Profile {
            PROFILES
                .iter()
                .find(|(_, n)| *n == name)
                .map_or(wit::Profile::High, |(p, _)| *p)
        }

        fn level_name(level: wit::Level) -> &'static str {
            LEVELS
                .iter()
                .find(|(l, _)| *l == level)
                .map_or("auto", |(_, name)| name)
        }

        /// A checked preset's level (`"4"` is `"4.0"`).
        fn level_to(name: &str) -> wit::Level {
            let name = if name.contains('.') || name == "auto" {
                name.to_owned()
            } else {
                format!("{name}.0")
            };
            LEVELS
                .iter()
                .find(|(_, n)| *n == name)
                .map_or(wit::Level::Auto, |(l, _)| *l)
        }
    };
}

/// The second contract: the analysis in the probe, rate control as a variant, profile and
/// level as enums; H.264 in MPEG-TS only.
pub mod v0_2 {
    use vodpipe_core as core;

    use crate::bindings::v0_2::types as wit;

    common!();
    since_0_2!();

    pub fn preset(p: &core::LadderPreset) -> Result<wit::Preset, String> {
        super::h264_only(p.rungs.iter().map(|r| (r.name.clone(), r.codec)), "0.2.0")?;
        Ok(wit::Preset {
            name: p.name.clone(),
            segment_seconds: p.segment_seconds,
            frame_rate_cap: p.frame_rate_cap,
            allow_upscale: p.allow_upscale,
            thumbnail_at_seconds: p.thumbnail_at_seconds,
            thumbnail_width: p.thumbnail_width,
            rungs: p
                .rungs
                .iter()
                .map(|r| wit::Rung {
                    name: r.name.clone(),
                    short_side: r.short_side,
                    rate: wit::RateControl::Vbr(wit::VbrRate {
                        bitrate: r.video_bitrate,
                        max_bitrate: r.max_bitrate,
                    }),
                    profile: profile_to(&r.profile),
                    level: level_to(&r.level),
                    audio_bitrate: r.audio_bitrate,
                })
                .collect(),
            analyse_content: p.analyse_content,
            config: p.plugin_config.to_string(),
        })
    }

    /// A 0.2.0 plan is H.264, packaged as the preset says.
    pub fn plan_from(p: wit::Plan, preset: &core::LadderPreset) -> core::Plan {
        core::Plan {
            renditions: p
                .renditions
                .into_iter()
                .map(|r| {
                    let (video_bitrate, max_bitrate, quality_level) = match r.rate {
                        wit::RateControl::Vbr(v) => (v.bitrate, v.max_bitrate, None),
                        wit::RateControl::Qvbr(q) => (q.expected_bitrate, q.max_bitrate, Some(q.quality_level)),
                    };
                    core::Rendition {
                        name: r.name,
                        width: r.width,
                        height: r.height,
                        video_bitrate,
                        max_bitrate,
                        quality_level,
                        codec: core::VideoCodec::H264,
                        bit_depth: 8,
                        profile: profile_name(r.profile).to_owned(),
                        level: level_name(r.level).to_owned(),
                        frame_rate_cap: r.frame_rate_cap,
                        audio_bitrate: r.audio_bitrate,
                    }
                })
                .collect(),
            segment_seconds: p.segment_seconds,
            thumbnail: p.thumbnail.map(thumbnail_from),
            packaging: preset.packaging,
        }
    }

    pub fn plan_to(p: &core::Plan) -> Result<wit::Plan, String> {
        super::older_job_builder(p, "0.2.0")?;
        Ok(wit::Plan {
            renditions: p
                .renditions
                .iter()
                .map(|r| wit::Rendition {
                    name: r.name.clone(),
                    width: r.width,
                    height: r.height,
                    rate: match r.quality_level {
                        None => wit::RateControl::Vbr(wit::VbrRate {
                            bitrate: r.video_bitrate,
                            max_bitrate: r.max_bitrate,
                        }),
                        Some(quality_level) => wit::RateControl::Qvbr(wit::QvbrRate {
                            quality_level,
                            max_bitrate: r.max_bitrate,
                            expected_bitrate: r.video_bitrate,
                        }),
                    },
                    profile: profile_to(&r.profile),
                    level: level_to(&r.level),
                    frame_rate_cap: r.frame_rate_cap,
                    audio_bitrate: r.audio_bitrate,
                })
                .collect(),
            segment_seconds: p.segment_seconds,
            thumbnail: p.thumbnail.as_ref().map(thumbnail_to),
        })
    }
}

/// The current contract: packaging on presets and plans, the video codec on rungs and
/// renditions, the DASH manifest in the job result and its action.
pub mod v0_3 {
    use vodpipe_core as core;

    use crate::bindings::v0_3::types as wit;

    common!(job_result_fields: [dash_manifest_path], path_actions: [RecordDashManifest]);
    since_0_2!();

    pub fn preset(p: &core::LadderPreset) -> Result<wit::Preset, String> {
        Ok(wit::Preset {
            name: p.name.clone(),
            segment_seconds: p.segment_seconds,
            frame_rate_cap: p.frame_rate_cap,
            allow_upscale: p.allow_upscale,
            thumbnail_at_seconds: p.thumbnail_at_seconds,
            thumbnail_width: p.thumbnail_width,
            rungs: p
                .rungs
                .iter()
                .map(|r| wit::Rung {
                    name: r.name.clone(),
                    short_side: r.short_side,
                    rate: wit::RateControl::Vbr(wit::VbrRate {
                        bitrate: r.video_bitrate,
                        max_bitrate: r.max_bitrate,
                    }),
                    codec: codec_to(r.codec, r.bit_depth, &r.profile, &r.level),
                    audio_bitrate: r.audio_bitrate,
                })
                .collect(),
            analyse_content: p.analyse_content,
            packaging: packaging_to(p.packaging),
            config: p.plugin_config.to_string(),
        })
    }

    pub fn plan_from(p: wit::Plan, _preset: &core::LadderPreset) -> core::Plan {
        core::Plan {
            renditions: p
                .renditions
                .into_iter()
                .map(|r| {
                    let (codec, bit_depth, profile, level) = codec_from(r.codec);
                    let (video_bitrate, max_bitrate, quality_level) = match r.rate {
                        wit::RateControl::Vbr(v) => (v.bitrate, v.max_bitrate, None),
                        wit::RateControl::Qvbr(q) => (q.expected_bitrate, q.max_bitrate, Some(q.quality_level)),
                    };
                    core::Rendition {
                        name: r.name,
                        width: r.width,
                        height: r.height,
                        video_bitrate,
                        max_bitrate,
                        quality_level,
                        codec,
                        bit_depth,
                        profile: profile.to_owned(),
                        level: level.to_owned(),
                        frame_rate_cap: r.frame_rate_cap,
                        audio_bitrate: r.audio_bitrate,
                    }
                })
                .collect(),
            segment_seconds: p.segment_seconds,
            thumbnail: p.thumbnail.map(thumbnail_from),
            packaging: match p.packaging {
                wit::Packaging::Ts => core::Packaging::Ts,
                wit::Packaging::Cmaf => core::Packaging::Cmaf,
            },
        }
    }

    pub fn plan_to(p: &core::Plan) -> Result<wit::Plan, String> {
        Ok(wit::Plan {
            renditions: p
                .renditions
                .iter()
                .map(|r| wit::Rendition {
                    name: r.name.clone(),
                    width: r.width,
                    height: r.height,
                    rate: match r.quality_level {
                        None => wit::RateControl::Vbr(wit::VbrRate {
                            bitrate: r.video_bitrate,
                            max_bitrate: r.max_bitrate,
                        }),
                        Some(quality_level) => wit::RateControl::Qvbr(wit::QvbrRate {
                            quality_level,
                            max_bitrate: r.max_bitrate,
                            expected_bitrate: r.video_bitrate,
                        }),
                    },
                    codec: codec_to(r.codec, r.bit_depth, &r.profile, &r.level),
                    frame_rate_cap: r.frame_rate_cap,
                    audio_bitrate: r.audio_bitrate,
                })
                .collect(),
            segment_seconds: p.segment_seconds,
            thumbnail: p.thumbnail.as_ref().map(thumbnail_to),
            packaging: packaging_to(p.packaging),
        })
    }

    fn packaging_to(packaging: core::Packaging) -> wit::Packaging {
        match packaging {
            core::Packaging::Ts => wit::Packaging::Ts,
            core::Packaging::Cmaf => wit::Packaging::Cmaf,
        }
    }

    fn bit_depth_to(bits: u8) -> wit::BitDepth {
        if bits == 10 {
            wit::BitDepth::Ten
        } else {
            wit::BitDepth::Eight
        }
    }

    /// The domain's codec fields as the contract's variant (H.264's profile and level in it).
    fn codec_to(codec: core::VideoCodec, bit_depth: u8, profile: &str, level: &str) -> wit::VideoCodec {
        match codec {
            core::VideoCodec::H264 => wit::VideoCodec::H264(wit::H264Format {
                profile: profile_to(profile),
                level: level_to(level),
            }),
            core::VideoCodec::Hevc => wit::VideoCodec::Hevc(bit_depth_to(bit_depth)),
            core::VideoCodec::Av1 => wit::VideoCodec::Av1(bit_depth_to(bit_depth)),
        }
    }

    /// The contract's codec as the domain's: codec, bit depth, profile and level (`main` and
    /// `auto` for HEVC and AV1).
    fn codec_from(codec: wit::VideoCodec) -> (core::VideoCodec, u8, &'static str, &'static str) {
        let bits = |depth| match depth {
            wit::BitDepth::Eight => 8,
            wit::BitDepth::Ten => 10,
        };
        match codec {
            wit::VideoCodec::H264(h264) => (
                core::VideoCodec::H264,
                8,
                profile_name(h264.profile),
                level_name(h264.level),
            ),
            wit::VideoCodec::Hevc(depth) => (core::VideoCodec::Hevc, bits(depth), "main", "auto"),
            wit::VideoCodec::Av1(depth) => (core::VideoCodec::Av1, bits(depth), "main", "auto"),
        }
    }
}

#[cfg(test)]
mod tests {
    use vodpipe_core as core;

    use crate::bindings::{v0_2, v0_3};

    fn plan(quality_level: Option<f64>) -> core::Plan {
        core::Plan {
            renditions: vec![core::Rendition {
                name: "720p".into(),
                width: 1280,
                height: 720,
                video_bitrate: 1_100_000,
                max_bitrate: 4_500_000,
                quality_level,
                codec: core::VideoCodec::H264,
                bit_depth: 8,
                profile: "high".into(),
                level: "4".into(),
                frame_rate_cap: 30.0,
                audio_bitrate: Some(128_000),
            }],
            segment_seconds: 6,
            thumbnail: None,
            packaging: core::Packaging::Ts,
        }
    }

    #[test]
    fn a_0_1_0_job_builder_sees_constant_quality_as_its_expected_average() {
        let old = super::v0_1::plan_to(&plan(Some(8.333))).unwrap();
        let r = &old.renditions[0];
        assert_eq!((r.video_bitrate, r.max_bitrate), (1_100_000, 4_500_000));
        assert_eq!((r.profile.as_str(), r.level.as_str()), ("high", "4"));
    }

    #[test]
    fn a_plan_crosses_0_2_0_and_back_unchanged() {
        for quality_level in [None, Some(8.333)] {
            let plan = plan(quality_level);
            let wit = super::v0_2::plan_to(&plan).unwrap();
            let r = &wit.renditions[0];
            assert_eq!(
                (r.profile, r.level),
                (v0_2::types::Profile::High, v0_2::types::Level::L4)
            );
            match (&r.rate, quality_level) {
                (v0_2::types::RateControl::Vbr(v), None) => assert_eq!(v.bitrate, 1_100_000),
                (v0_2::types::RateControl::Qvbr(q), Some(level)) => {
                    assert_eq!((q.quality_level, q.expected_bitrate), (level, 1_100_000))
                }
                (rate, _) => panic!("{rate:?}"),
            }
            let mut back = super::v0_2::plan_from(wit, &preset(core::Packaging::Ts));
            assert_eq!(back.renditions[0].level, "4.0", "levels come back in their full name");
            back.renditions[0].level = "4".into();
            assert_eq!(back, plan);
        }
    }

    fn preset(packaging: core::Packaging) -> core::LadderPreset {
        core::LadderPreset {
            name: "p".into(),
            description: String::new(),
            segment_seconds: 6,
            frame_rate_cap: 30.0,
            allow_upscale: false,
            thumbnail_at_seconds: None,
            thumbnail_width: 640,
            rungs: Vec::new(),
            analyse_content: false,
            planner: None,
            packaging,
            plugin_config: serde_json::json!({}),
        }
    }

    #[test]
    fn a_plan_of_every_codec_crosses_0_3_0_and_back_unchanged() {
        let mut plan = plan(Some(8.333));
        plan.packaging = core::Packaging::Cmaf;
        let mut hevc = plan.renditions[0].clone();
        (hevc.name, hevc.codec, hevc.bit_depth, hevc.profile, hevc.level) = (
            "720p-hevc".into(),
            core::VideoCodec::Hevc,
            10,
            "main".into(),
            "auto".into(),
        );
        let mut av1 = hevc.clone();
        (av1.name, av1.codec, av1.bit_depth) = ("720p-av1".into(), core::VideoCodec::Av1, 8);
        plan.renditions.extend([hevc, av1]);
        let wit = super::v0_3::plan_to(&plan).unwrap();
        assert_eq!(wit.packaging, v0_3::types::Packaging::Cmaf);
        assert!(matches!(
            wit.renditions[1].codec,
            v0_3::types::VideoCodec::Hevc(v0_3::types::BitDepth::Ten)
        ));
        let mut back = super::v0_3::plan_from(wit, &preset(core::Packaging::Ts));
        back.renditions[0].level = "4".into();
        assert_eq!(back, plan, "0.3.0 carries its own packaging, not the preset's");
    }

    #[test]
    fn the_dash_manifest_crosses_0_3_0_both_ways() {
        let result = core::JobResult {
            job_id: "j".into(),
            status: core::JobStatus::Complete,
            error_code: None,
            error_message: None,
            playlist_path: Some("index.m3u8".into()),
            outputs: Vec::new(),
            thumbnail_path: None,
            dash_manifest_path: Some("index.mpd".into()),
        };
        let wit = super::v0_3::job_result(&result);
        assert_eq!(wit.dash_manifest_path.as_deref(), Some("index.mpd"));
        // Older contracts have no such field; the rest reaches them as it is.
        assert_eq!(
            super::v0_2::job_result(&result).playlist_path.as_deref(),
            Some("index.m3u8")
        );

        let action = v0_3::types::Action::RecordDashManifest("index.mpd".into());
        assert_eq!(
            super::v0_3::actions_size(std::slice::from_ref(&action)),
            8 + "index.mpd".len()
        );
        assert_eq!(
            super::v0_3::action_from(action),
            core::Action::RecordDashManifest("index.mpd".into())
        );
    }

    #[test]
    fn older_contracts_refuse_what_they_cannot_carry() {
        let mut cmaf = plan(None);
        cmaf.packaging = core::Packaging::Cmaf;
        let refused = super::v0_2::plan_to(&cmaf).unwrap_err();
        assert!(
            refused.contains("`cmaf` packaging") && refused.contains("0.2.0"),
            "{refused}"
        );
        let mut hevc = plan(None);
        hevc.renditions[0].codec = core::VideoCodec::Hevc;
        let refused = super::v0_1::plan_to(&hevc).unwrap_err();
        assert!(refused.contains("`720p` rung is hevc"), "{refused}");
        // An old planner plans for a CMAF preset: the host packages its plan as the preset says.
        let old = super::v0_2::plan_to(&plan(None)).unwrap();
        assert_eq!(
            super::v0_2::plan_from(old, &preset(core::Packaging::Cmaf)).packaging,
            core::Packaging::Cmaf
        );
    }
}
