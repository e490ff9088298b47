//! Host bindings for the three worlds of `plugins/wit`. The planner world's types are the
//! shared ones; the other worlds reuse them so a plan converts once.

pub mod planner {
    wasmtime::component::bindgen!({
        path: "../../plugins/wit/v0.1.0",
        world: "vodpipe:plugin/planner@0.1.0",
    });
}

pub mod job_builder {
    wasmtime::component::bindgen!({
        path: "../../plugins/wit/v0.1.0",
        world: "vodpipe:plugin/job-builder@0.1.0",
        with: {
            "vodpipe:plugin/types": crate::bindings::planner::vodpipe::plugin::types,
            "vodpipe:plugin/log": crate::bindings::planner::vodpipe::plugin::log,
        },
    });
}

pub mod post_processor {
    wasmtime::component::bindgen!({
        path: "../../plugins/wit/v0.1.0",
        world: "vodpipe:plugin/post-processor@0.1.0",
        with: {
            "vodpipe:plugin/types": crate::bindings::planner::vodpipe::plugin::types,
            "vodpipe:plugin/log": crate::bindings::planner::vodpipe::plugin::log,
        },
    });
}

pub use planner::vodpipe::plugin::{log, types};
