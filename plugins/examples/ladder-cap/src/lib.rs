//! Planner: the preset's rungs that fit the source, at most `max_renditions` of them.
//!
//! Config (`[plugin]` table of the preset):
//! - `max_renditions` (default 3, 1..=12): how many renditions a plan may have;
//! - `keep` (default "largest"): which end of the ladder to keep, "largest" or "smallest".

use vodpipe_plugin_sdk::log;
use vodpipe_plugin_sdk::planner::{Config, Plan, Planner, Preset, Probe, Reader};

struct Settings {
    max_renditions: usize,
    keep_largest: bool,
}

impl Config for Settings {
    fn read(reader: &mut Reader) -> Self {
        Settings {
            max_renditions: reader.integer("max_renditions", 3, 1, 12) as usize,
            keep_largest: reader.string("keep", "largest", &["largest", "smallest"]) == "largest",
        }
    }
}

struct LadderCap;

impl Planner for LadderCap {
    type Config = Settings;

    fn plan(source: Probe, mut preset: Preset, settings: Settings) -> Result<Plan, String> {
        // Edit the ladder, then plan it. Rungs arrive largest first.
        preset.keep_fitting_rungs(&source);
        let found = preset.rungs.len();
        let kept = settings.max_renditions.min(found);
        if settings.keep_largest {
            preset.rungs.truncate(kept);
        } else {
            preset.rungs.drain(..found - kept);
        }
        log::info(&format!("kept {kept} of {found} rungs"));
        preset.plan(&source)
    }
}

vodpipe_plugin_sdk::export_planner!(LadderCap);
