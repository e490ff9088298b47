//! The vodpipe plugin SDK.
//!
//! A plugin is one trait impl and one export macro. Enable exactly one of the features
//! `planner`, `job-builder` or `post-processor`, implement the matching trait and export it:
//!
//! ```ignore
//! use vodpipe_plugin_sdk::planner::{Planner, Plan, Preset, Probe};
//! struct Mine;
//! impl Planner for Mine {
//!     fn plan(source: Probe, preset: Preset) -> Result<Plan, String> { todo!() }
//! }
//! vodpipe_plugin_sdk::export_planner!(Mine);
//! ```
//!
//! Plugins never do I/O: they receive their inputs as arguments and return data that the
//! host checks. Log lines go through [`log`] and reach the host's logs tagged with the
//! plugin name and stage.

#[cfg(any(
    all(feature = "planner", feature = "job-builder"),
    all(feature = "planner", feature = "post-processor"),
    all(feature = "job-builder", feature = "post-processor"),
))]
compile_error!("enable exactly one of the features `planner`, `job-builder`, `post-processor`");

pub mod config;
pub mod log;

#[cfg(feature = "planner")]
pub mod planner {
    wit_bindgen::generate!({
        path: "../wit/v0.1.0",
        world: "vodpipe:plugin/planner@0.1.0",
        pub_export_macro: true,
        export_macro_name: "__export_planner_world",
        default_bindings_module: "vodpipe_plugin_sdk::planner",
    });
    pub use self::vodpipe::plugin::types::*;

    impl From<crate::config::Problem> for ConfigProblem {
        fn from(p: crate::config::Problem) -> Self {
            ConfigProblem {
                key: p.key,
                message: p.message,
            }
        }
    }

    /// The planner stage: source probe + ladder preset → plan.
    pub trait Planner {
        /// Checks the preset's `[plugin]` table (a JSON object) before it is ever used.
        fn validate_config(_config: &str) -> Result<(), Vec<ConfigProblem>> {
            Ok(())
        }
        fn plan(source: Probe, preset: Preset) -> Result<Plan, String>;
    }

    impl<T: Planner> Guest for T {
        fn validate_config(config: String) -> Result<(), Vec<ConfigProblem>> {
            <T as Planner>::validate_config(&config)
        }
        fn plan(source: Probe, preset: Preset) -> Result<Plan, String> {
            <T as Planner>::plan(source, preset)
        }
    }

    impl Probe {
        /// Width and height as the viewer sees them, with the rotation applied.
        pub fn display_size(&self) -> (u32, u32) {
            if self.rotation % 180 == 90 {
                (self.height, self.width)
            } else {
                (self.width, self.height)
            }
        }
    }

    /// Exports a [`Planner`] implementation as this component's planner world.
    #[macro_export]
    macro_rules! export_planner {
        ($ty:ident) => {
            $crate::planner::__export_planner_world!($ty with_types_in $crate::planner);
        };
    }
}

#[cfg(feature = "job-builder")]
pub mod job_builder {
    wit_bindgen::generate!({
        path: "../wit/v0.1.0",
        world: "vodpipe:plugin/job-builder@0.1.0",
        pub_export_macro: true,
        export_macro_name: "__export_job_builder_world",
        default_bindings_module: "vodpipe_plugin_sdk::job_builder",
    });
    pub use self::vodpipe::plugin::types::*;

    impl From<crate::config::Problem> for ConfigProblem {
        fn from(p: crate::config::Problem) -> Self {
            ConfigProblem {
                key: p.key,
                message: p.message,
            }
        }
    }

    /// The job-builder stage: plan + job context → MediaConvert `CreateJob` document.
    pub trait JobBuilder {
        /// Checks the bundle's `[job_builder.config]` table (a JSON object).
        fn validate_config(_config: &str) -> Result<(), Vec<ConfigProblem>> {
            Ok(())
        }
        fn build(plan: Plan, context: JobContext, config: &str) -> Result<JobDocument, String>;
    }

    impl<T: JobBuilder> Guest for T {
        fn validate_config(config: String) -> Result<(), Vec<ConfigProblem>> {
            <T as JobBuilder>::validate_config(&config)
        }
        fn build(plan: Plan, context: JobContext, config: String) -> Result<JobDocument, String> {
            <T as JobBuilder>::build(plan, context, &config)
        }
    }

    /// Exports a [`JobBuilder`] implementation as this component's job-builder world.
    #[macro_export]
    macro_rules! export_job_builder {
        ($ty:ident) => {
            $crate::job_builder::__export_job_builder_world!($ty with_types_in $crate::job_builder);
        };
    }
}

#[cfg(feature = "post-processor")]
pub mod post_processor {
    wit_bindgen::generate!({
        path: "../wit/v0.1.0",
        world: "vodpipe:plugin/post-processor@0.1.0",
        pub_export_macro: true,
        export_macro_name: "__export_post_processor_world",
        default_bindings_module: "vodpipe_plugin_sdk::post_processor",
    });
    pub use self::vodpipe::plugin::types::*;

    impl From<crate::config::Problem> for ConfigProblem {
        fn from(p: crate::config::Problem) -> Self {
            ConfigProblem {
                key: p.key,
                message: p.message,
            }
        }
    }

    /// The post-processor stage: video record + job result → actions for the host.
    pub trait PostProcessor {
        /// Checks the bundle's `[post_processor.config]` table (a JSON object).
        fn validate_config(_config: &str) -> Result<(), Vec<ConfigProblem>> {
            Ok(())
        }
        fn process(video: Video, result: JobResult, config: &str) -> Result<Vec<Action>, String>;
    }

    impl<T: PostProcessor> Guest for T {
        fn validate_config(config: String) -> Result<(), Vec<ConfigProblem>> {
            <T as PostProcessor>::validate_config(&config)
        }
        fn process(video: Video, result: JobResult, config: String) -> Result<Vec<Action>, String> {
            <T as PostProcessor>::process(video, result, &config)
        }
    }

    /// Exports a [`PostProcessor`] implementation as this component's post-processor world.
    #[macro_export]
    macro_rules! export_post_processor {
        ($ty:ident) => {
            $crate::post_processor::__export_post_processor_world!($ty with_types_in $crate::post_processor);
        };
    }
}
