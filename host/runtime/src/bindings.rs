//! Host bindings for the worlds of `plugins/wit`, one module per contract version the host
//! loads. Within a version the planner world's types are the shared ones; the other worlds
//! reuse them so a plan converts once.

macro_rules! contract {
    ($path:literal, $planner:literal, $job_builder:literal, $post_processor:literal) => {
        pub mod planner {
            wasmtime::component::bindgen!({
                path: $path,
                world: $planner,
            });
        }

        pub mod job_builder {
            wasmtime::component::bindgen!({
                path: $path,
                world: $job_builder,
                with: {
                    "vodpipe:plugin/types": super::planner::vodpipe::plugin::types,
                    "vodpipe:plugin/log": super::planner::vodpipe::plugin::log,
                },
            });
        }

        pub mod post_processor {
            wasmtime::component::bindgen!({
                path: $path,
                world: $post_processor,
                with: {
                    "vodpipe:plugin/types": super::planner::vodpipe::plugin::types,
                    "vodpipe:plugin/log": super::planner::vodpipe::plugin::log,
                },
            });
        }

        pub use planner::vodpipe::plugin::{log, types};
    };
}

/// The first contract: still loaded, so plugins built for it keep working.
pub mod v0_1 {
    contract!(
        "../../plugins/wit/v0.1.0",
        "vodpipe:plugin/planner@0.1.0",
        "vodpipe:plugin/job-builder@0.1.0",
        "vodpipe:plugin/post-processor@0.1.0"
    );
}

/// The second contract: rate control as a variant, the content analysis.
pub mod v0_2 {
    contract!(
        "../../plugins/wit/v0.2.0",
        "vodpipe:plugin/planner@0.2.0",
        "vodpipe:plugin/job-builder@0.2.0",
        "vodpipe:plugin/post-processor@0.2.0"
    );
}

/// The current contract (what the SDK builds): packaging on presets and plans, the video codec
/// on rungs and renditions.
pub mod v0_3 {
    contract!(
        "../../plugins/wit/v0.3.0",
        "vodpipe:plugin/planner@0.3.0",
        "vodpipe:plugin/job-builder@0.3.0",
        "vodpipe:plugin/post-processor@0.3.0"
    );
}
