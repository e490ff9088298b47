//! Log lines for the host's logs. The host tags them with plugin name and stage.

#[cfg(feature = "job-builder")]
use crate::job_builder::vodpipe::plugin::log as imported;
#[cfg(feature = "planner")]
use crate::planner::vodpipe::plugin::log as imported;
#[cfg(feature = "post-processor")]
use crate::post_processor::vodpipe::plugin::log as imported;

#[cfg(any(feature = "planner", feature = "job-builder", feature = "post-processor"))]
fn write(level: imported::Level, message: &str) {
    imported::write(level, message);
}

#[cfg(not(any(feature = "planner", feature = "job-builder", feature = "post-processor")))]
fn write(_level: (), _message: &str) {}

macro_rules! level_fn {
    ($name:ident, $level:ident) => {
        pub fn $name(message: &str) {
            #[cfg(any(feature = "planner", feature = "job-builder", feature = "post-processor"))]
            write(imported::Level::$level, message);
            #[cfg(not(any(feature = "planner", feature = "job-builder", feature = "post-processor")))]
            write((), message);
        }
    };
}

level_fn!(debug, Debug);
level_fn!(info, Info);
level_fn!(warn, Warn);
level_fn!(error, Error);
