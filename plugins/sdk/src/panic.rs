//! A panic hook that tells the host where and why the plugin panicked.
//!
//! Plugins are built with `panic = "abort"`, and a component has no stderr the host can
//! read, so without this hook a panic reaches the host as a bare `unreachable` trap. The
//! hook writes one error-level log line, `panicked at FILE:LINE:COLUMN: MESSAGE`, just
//! before the abort; the host reports that line as the cause of the trap.

use std::sync::Once;

/// What starts the line the host looks for in a call that traps.
pub const PANIC_LINE_PREFIX: &str = "panicked at ";

/// Installs the hook; the export glue calls it at the start of every exported call (a
/// plugin instance serves one call, so "once per instance" is "once per call").
pub fn install_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| std::panic::set_hook(Box::new(|info| crate::log::error(&panic_line(info)))));
}

fn panic_line(info: &std::panic::PanicHookInfo<'_>) -> String {
    let location = info.location().map_or_else(
        || "an unknown location".to_owned(),
        |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
    );
    let message = info
        .payload_as_str()
        .unwrap_or("(a panic payload that is not a string)");
    format!("{PANIC_LINE_PREFIX}{location}: {message}")
}
