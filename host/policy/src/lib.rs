//! Policy files: TOML ladder presets (`ladders/*.toml`), the policy bundle (`bundle.toml`)
//! that names the plugin for each stage, pinned by sha256, and the active preset, and the
//! cost model (`pricing/aws.toml`) cost estimates are made with.
//!
//! Every mistake is reported with file, line:column and key path, all of them at once, and a
//! bundle with any mistake is not loaded at all.

mod diag;
mod fields;

pub mod bundle;
pub mod config_positions;
pub mod cost;
pub mod ladder;
pub mod levels;
pub mod pin;

pub use bundle::{Bundle, BundleFiles, DirFiles, MemoryFiles, StagePlugin};
pub use cost::parse_cost_model;
pub use diag::{Diagnostic, Diagnostics};
pub use ladder::{CheckedLadder, check_ladder, parse_ladder};
