//! Policy files: TOML ladder presets (`ladders/*.toml`) and the policy bundle
//! (`bundle.toml`) that names the plugin for each stage, pinned by sha256, and the active
//! preset.
//!
//! Every mistake is reported with file, line:column and key path, all of them at once, and a
//! bundle with any mistake is not loaded at all.

mod diag;
mod fields;

pub mod bundle;
pub mod ladder;
pub mod levels;

pub use bundle::{Bundle, BundleFiles, DirFiles, MemoryFiles, StagePlugin};
pub use diag::{Diagnostic, Diagnostics};
pub use ladder::{CheckedLadder, check_ladder, parse_ladder};
