//! Planner: the shared ladder rules, then at most `max_renditions` renditions.
//!
//! Config (`[plugin]` table of the preset):
//! - `max_renditions` (default 3, 1..=12): how many renditions a plan may have;
//! - `keep` (default "largest"): which end of the ladder to keep, "largest" or "smallest".

use vodpipe_ladder_math::{plan, sdk};
use vodpipe_plugin_sdk::log;
use vodpipe_plugin_sdk::planner::{Config, Plan, Planner, Preset, Probe, Reader};

struct LadderCap;

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

impl Planner for LadderCap {
    type Config = Settings;

    fn plan(source: Probe, preset: Preset, settings: Settings) -> Result<Plan, String> {
        let mut plan = plan(&sdk::source(&source), &sdk::ladder(preset), 1.0)?;
        // The rules list renditions largest first.
        let found = plan.renditions.len();
        if found > settings.max_renditions {
            plan.renditions = if settings.keep_largest {
                plan.renditions[..settings.max_renditions].to_vec()
            } else {
                plan.renditions.split_off(found - settings.max_renditions)
            };
            log::info(&format!("kept {} of {found} renditions", settings.max_renditions));
        }
        Ok(sdk::plan_out(plan))
    }
}

vodpipe_plugin_sdk::export_planner!(LadderCap);
