//! PLUGIN_NAME: a vodpipe planner. It keeps the preset's rungs that fit the source, at
//! most `max_renditions` of them, and plans them with the SDK's `Preset::plan`.
//!
//! Config (the `[plugin]` table of the ladder preset):
//! - `max_renditions` (default 12, 1..=12): how many renditions a plan may have.

use vodpipe_plugin_sdk::log;
use vodpipe_plugin_sdk::planner::{Config, Plan, Planner, Preset, Probe, Reader};

struct Settings {
    max_renditions: usize,
}

impl Config for Settings {
    fn read(reader: &mut Reader) -> Self {
        Settings {
            max_renditions: reader.integer("max_renditions", 12, 1, 12) as usize,
        }
    }
}

struct PluginName;

impl Planner for PluginName {
    type Config = Settings;

    fn plan(source: Probe, mut preset: Preset, settings: Settings) -> Result<Plan, String> {
        // Edit the ladder (rungs arrive largest first), then plan it.
        preset.keep_fitting_rungs(&source);
        preset.rungs.truncate(settings.max_renditions);
        log::info(&format!("planning {} rungs", preset.rungs.len()));
        preset.plan(&source)
    }
}

vodpipe_plugin_sdk::export_planner!(PluginName);
