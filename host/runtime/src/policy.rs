//! A bundle made runnable: its three plugins compiled and linked, their configs accepted.

use std::sync::Arc;

use vodpipe_core::action::check_actions;
use vodpipe_core::ports::Policy;
use vodpipe_core::{
    Action, CostModel, JobContext, JobDocument, JobResult, LadderPreset, Plan, PluginError, PluginFailure, Probe,
    Stage, Video,
};
use vodpipe_policy::{Bundle, StagePlugin};

use crate::bindings::{v0_1, v0_2, v0_3};
use crate::convert;
use crate::host::HostState;
use crate::runtime::PluginRuntime;

struct Loaded<P> {
    name: String,
    pre: P,
    config: String,
}

/// A stage plugin linked against the contract version it was built for.
enum Versioned<V1, V2, V3> {
    V0_1(V1),
    V0_2(V2),
    V0_3(V3),
}

/// Runs `$body` with `$pre` bound to the plugin's pre-instance and `$wit` to the conversions of
/// the contract version it was built for: one body for every version.
macro_rules! per_version {
    ($versioned:expr, |$pre:ident, $wit:ident| $body:expr) => {
        match $versioned {
            Versioned::V0_1($pre) => {
                use convert::v0_1 as $wit;
                $body
            }
            Versioned::V0_2($pre) => {
                use convert::v0_2 as $wit;
                $body
            }
            Versioned::V0_3($pre) => {
                use convert::v0_3 as $wit;
                $body
            }
        }
    };
}

/// `validate-config` of a stage plugin of any version, its problems in the domain's type.
macro_rules! validate {
    ($versioned:expr, $store:ident, $config:ident) => {
        per_version!($versioned, |pre, wit| pre
            .instantiate(&mut *$store)?
            .call_validate_config($store, $config)
            .map(|answer| answer.map_err(wit::problems_from)))
    };
}

type Planner = Versioned<
    v0_1::planner::PlannerPre<HostState>,
    v0_2::planner::PlannerPre<HostState>,
    v0_3::planner::PlannerPre<HostState>,
>;
type JobBuilder = Versioned<
    v0_1::job_builder::JobBuilderPre<HostState>,
    v0_2::job_builder::JobBuilderPre<HostState>,
    v0_3::job_builder::JobBuilderPre<HostState>,
>;
type PostProcessor = Versioned<
    v0_1::post_processor::PostProcessorPre<HostState>,
    v0_2::post_processor::PostProcessorPre<HostState>,
    v0_3::post_processor::PostProcessorPre<HostState>,
>;

/// The reference video of the activation dry run, as failures name it.
const DRY_RUN_SAMPLE: &str = "reference video 1920x1080, 30 fps, 60 s, 6 Mb/s, with audio";

/// The active policy: what runs for every video until a new bundle replaces it.
pub struct LoadedPolicy {
    runtime: Arc<PluginRuntime>,
    pub bundle_name: String,
    pub content_hash: String,
    preset: LadderPreset,
    cost_model: Option<CostModel>,
    planner: Loaded<Planner>,
    job_builder: Loaded<JobBuilder>,
    post_processor: Loaded<PostProcessor>,
}

impl LoadedPolicy {
    /// Compiles and links every plugin of `bundle`, checks each exports its stage's world and
    /// accepts its config. Returns every problem found, not just the first.
    pub fn load(runtime: &Arc<PluginRuntime>, bundle: &Bundle) -> Result<Self, Vec<PluginError>> {
        let mut errors = Vec::new();
        let planner = prepare(
            runtime,
            &bundle.planner,
            (
                v0_1::planner::PlannerPre::new,
                v0_2::planner::PlannerPre::new,
                v0_3::planner::PlannerPre::new,
            ),
            &mut errors,
        );
        let job_builder = prepare(
            runtime,
            &bundle.job_builder,
            (
                v0_1::job_builder::JobBuilderPre::new,
                v0_2::job_builder::JobBuilderPre::new,
                v0_3::job_builder::JobBuilderPre::new,
            ),
            &mut errors,
        );
        let post_processor = prepare(
            runtime,
            &bundle.post_processor,
            (
                v0_1::post_processor::PostProcessorPre::new,
                v0_2::post_processor::PostProcessorPre::new,
                v0_3::post_processor::PostProcessorPre::new,
            ),
            &mut errors,
        );
        let (Some(mut planner), Some(job_builder), Some(post_processor)) = (planner, job_builder, post_processor)
        else {
            return Err(errors);
        };
        // The planner's config is the preset's `[plugin]` table.
        planner.config = bundle.preset.plugin_config.to_string();
        let policy = Self {
            runtime: runtime.clone(),
            bundle_name: bundle.name.clone(),
            content_hash: bundle.content_hash.clone(),
            preset: bundle.preset.clone(),
            cost_model: bundle.cost_model.clone(),
            planner,
            job_builder,
            post_processor,
        };
        for stage in Stage::ALL {
            if let Err(e) = policy.validate_config(stage) {
                errors.push(e);
            }
        }
        if errors.is_empty()
            && let Err(e) = policy.dry_run()
        {
            errors.push(e);
        }
        if errors.is_empty() { Ok(policy) } else { Err(errors) }
    }

    /// Runs a reference video (1920x1080, 30 fps, with audio) through all three stages, so
    /// plugins that disagree with each other (say a segment length the job builder cannot
    /// align to its GOP) are refused at activation, not on the first upload.
    fn dry_run(&self) -> Result<(), PluginError> {
        let mut source = Probe::from_size(1920, 1080);
        (source.duration_ms, source.frame_rate, source.video_bitrate) = (60_000, 30.0, Some(6_000_000));
        // Said with every failure, so an author does not look for the upload that failed.
        let in_dry_run = |e: PluginError| PluginError {
            failure: PluginFailure::DryRun {
                sample: DRY_RUN_SAMPLE.to_owned(),
                failure: Box::new(e.failure),
            },
            ..e
        };
        let context = JobContext {
            video_id: "dry-run".into(),
            input_uri: "s3://dry-run/source".into(),
            output_prefix: "s3://dry-run/media/".into(),
            role: String::new(),
            queue: None,
        };
        let plan = self.plan(&source).map_err(in_dry_run)?;
        self.build_job(&plan, &context).map_err(in_dry_run)?;
        let video = Video {
            id: context.video_id.clone(),
            user_id: "dry-run".into(),
            title: "dry run".into(),
            status: vodpipe_core::VideoStatus::Processing,
            source_key: "source".into(),
        };
        let result = JobResult {
            job_id: "dry-run".into(),
            status: vodpipe_core::JobStatus::Complete,
            error_code: None,
            error_message: None,
            playlist_path: Some("index.m3u8".into()),
            outputs: plan
                .renditions
                .iter()
                .map(|r| vodpipe_core::JobOutput {
                    path: format!("index_{}.m3u8", r.name),
                    width: r.width,
                    height: r.height,
                    duration_ms: source.duration_ms,
                })
                .collect(),
            thumbnail_path: None,
            dash_manifest_path: (plan.packaging == vodpipe_core::Packaging::Cmaf).then(|| "index.mpd".into()),
        };
        self.post_process(&video, &result).map(|_| ()).map_err(in_dry_run)
    }

    /// The bundle's cost model, for cost estimates; `None` when its manifest names none.
    pub fn cost_model(&self) -> Option<&CostModel> {
        self.cost_model.as_ref()
    }

    /// Runs the stage plugin's `validate-config` on its config.
    pub fn validate_config(&self, stage: Stage) -> Result<(), PluginError> {
        let (name, config) = match stage {
            Stage::Planner => (&self.planner.name, &self.planner.config),
            Stage::JobBuilder => (&self.job_builder.name, &self.job_builder.config),
            Stage::PostProcessor => (&self.post_processor.name, &self.post_processor.config),
        };
        let answer = self.runtime.call(name, stage, |store| match stage {
            Stage::Planner => validate!(&self.planner.pre, store, config),
            Stage::JobBuilder => validate!(&self.job_builder.pre, store, config),
            Stage::PostProcessor => validate!(&self.post_processor.pre, store, config),
        })?;
        let problems = match answer {
            Ok(()) => return Ok(()),
            Err(problems) => problems,
        };
        self.check_size(name, stage, convert::problems_size(&problems))?;
        Err(PluginError {
            plugin: name.clone(),
            stage,
            failure: PluginFailure::Config(problems),
        })
    }

    fn check_size(&self, plugin: &str, stage: Stage, bytes: usize) -> Result<(), PluginError> {
        let limit = self.runtime.limits.output_bytes;
        if bytes > limit {
            return Err(PluginError {
                plugin: plugin.to_owned(),
                stage,
                failure: PluginFailure::OutputTooLarge(limit),
            });
        }
        Ok(())
    }

    fn refused(&self, plugin: &str, stage: Stage, message: String) -> PluginError {
        let message = match self.check_size(plugin, stage, message.len()) {
            Ok(()) => message,
            Err(e) => return e,
        };
        PluginError {
            plugin: plugin.to_owned(),
            stage,
            failure: PluginFailure::Refused(message),
        }
    }

    fn invalid(plugin: &str, stage: Stage, message: String) -> PluginError {
        PluginError {
            plugin: plugin.to_owned(),
            stage,
            failure: PluginFailure::InvalidOutput(message),
        }
    }

    pub fn plugin_names(&self) -> [(&str, Stage); 3] {
        [
            (&self.planner.name, Stage::Planner),
            (&self.job_builder.name, Stage::JobBuilder),
            (&self.post_processor.name, Stage::PostProcessor),
        ]
    }
}

impl Policy for LoadedPolicy {
    fn preset(&self) -> &LadderPreset {
        &self.preset
    }

    fn plan(&self, source: &Probe) -> Result<Plan, PluginError> {
        let (name, stage) = (&self.planner.name, Stage::Planner);
        let older = |message: String| PluginError {
            plugin: name.clone(),
            stage,
            failure: PluginFailure::OlderContract(message),
        };
        let plan = per_version!(&self.planner.pre, |pre, wit| {
            let (probe, preset) = (wit::probe(source), wit::preset(&self.preset).map_err(older)?);
            let answer = self.runtime.call(name, stage, |store| {
                pre.instantiate(&mut *store)?.call_plan(store, &probe, &preset)
            })?;
            let plan = answer.map_err(|message| self.refused(name, stage, message))?;
            self.check_size(name, stage, wit::plan_size(&plan))?;
            wit::plan_from(plan, &self.preset)
        });
        plan.check(source, &self.preset)
            .map_err(|problems| Self::invalid(name, stage, problems.join("; ")))?;
        Ok(plan)
    }

    fn build_job(&self, plan: &Plan, context: &JobContext) -> Result<JobDocument, PluginError> {
        let (name, stage, config) = (&self.job_builder.name, Stage::JobBuilder, &self.job_builder.config);
        let answer = per_version!(&self.job_builder.pre, |pre, wit| {
            let plan = wit::plan_to(plan).map_err(|message| PluginError {
                plugin: name.clone(),
                stage,
                failure: PluginFailure::OlderContract(message),
            })?;
            let context = wit::context(context);
            self.runtime
                .call(name, stage, |store| {
                    pre.instantiate(&mut *store)?.call_build(store, &plan, &context, config)
                })?
                .map(|d| (d.create_job, d.metadata))
        });
        let (create_job, metadata) = answer.map_err(|message| self.refused(name, stage, message))?;
        let size = create_job.len() + metadata.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        self.check_size(name, stage, size)?;
        JobDocument::parse(create_job, metadata).map_err(|why| Self::invalid(name, stage, why))
    }

    fn post_process(&self, video: &Video, result: &JobResult) -> Result<Vec<Action>, PluginError> {
        let (name, stage, config) = (
            &self.post_processor.name,
            Stage::PostProcessor,
            &self.post_processor.config,
        );
        let answer = per_version!(&self.post_processor.pre, |pre, wit| {
            let (video, result) = (wit::video(video), wit::job_result(result));
            self.runtime
                .call(name, stage, |store| {
                    pre.instantiate(&mut *store)?
                        .call_process(store, &video, &result, config)
                })?
                .map(|actions| {
                    (
                        wit::actions_size(&actions),
                        actions.into_iter().map(wit::action_from).collect(),
                    )
                })
        });
        let (size, actions): (usize, Vec<Action>) = answer.map_err(|message| self.refused(name, stage, message))?;
        self.check_size(name, stage, size)?;
        check_actions(&actions).map_err(|why| Self::invalid(name, stage, why))?;
        Ok(actions)
    }
}

/// The pre-instance constructors of one stage's world, one per contract version.
type Linkers<V1, V2, V3> = (
    fn(wasmtime::component::InstancePre<HostState>) -> wasmtime::Result<V1>,
    fn(wasmtime::component::InstancePre<HostState>) -> wasmtime::Result<V2>,
    fn(wasmtime::component::InstancePre<HostState>) -> wasmtime::Result<V3>,
);

/// Links a stage plugin against the contract version it was built for: the newest whose world
/// its exports fit.
fn prepare<V1, V2, V3>(
    runtime: &PluginRuntime,
    plugin: &StagePlugin,
    (v1, v2, v3): Linkers<V1, V2, V3>,
    errors: &mut Vec<PluginError>,
) -> Option<Loaded<Versioned<V1, V2, V3>>> {
    let name = plugin.name().to_owned();
    let result = runtime
        .prepare(&name, plugin.stage, &plugin.wasm, &plugin.sha256)
        .and_then(|pre| {
            v3(pre.clone()).map(Versioned::V0_3).or_else(|v3_error| {
                v2(pre.clone()).map(Versioned::V0_2).or_else(|v2_error| {
                    v1(pre).map(Versioned::V0_1).map_err(|v1_error| PluginError {
                        plugin: name.clone(),
                        stage: plugin.stage,
                        failure: PluginFailure::Load(format!(
                            "does not export the `{}` world of vodpipe:plugin@0.3.0 ({v3_error:#}), @0.2.0 \
                             ({v2_error:#}) or @0.1.0 ({v1_error:#})",
                            plugin.stage.world()
                        )),
                    })
                })
            })
        });
    match result {
        Ok(pre) => Some(Loaded {
            name,
            pre,
            config: plugin.config.to_string(),
        }),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}
