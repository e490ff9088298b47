//! Planner: the shared ladder rules, then at most `max_renditions` renditions.
//!
//! Config (`[plugin]` table of the preset):
//! - `max_renditions` (default 3, 1..=12): how many renditions a plan may have;
//! - `keep` (default "largest"): which end of the ladder to keep, "largest" or "smallest".

use vodpipe_ladder_math::{plan, sdk};
use vodpipe_plugin_sdk::config::{Problem, Reader};
use vodpipe_plugin_sdk::log;
use vodpipe_plugin_sdk::planner::{ConfigProblem, Plan, Planner, Preset, Probe};

struct LadderCap;

struct Settings {
    max_renditions: usize,
    keep_largest: bool,
}

fn settings(config: &str) -> Result<Settings, Vec<Problem>> {
    let mut reader = Reader::parse(config)?;
    let max = reader.number("max_renditions", 3.0, 1.0, 12.0);
    if max.fract() != 0.0 {
        reader.problem("max_renditions", format!("{max} is not a whole number"));
    }
    let keep = reader.string("keep", "largest", &["largest", "smallest"]);
    reader.finish()?;
    Ok(Settings {
        max_renditions: max as usize,
        keep_largest: keep == "largest",
    })
}

impl Planner for LadderCap {
    fn validate_config(config: &str) -> Result<(), Vec<ConfigProblem>> {
        settings(config)
            .map(|_| ())
            .map_err(|p| p.into_iter().map(Into::into).collect())
    }

    fn plan(source: Probe, preset: Preset) -> Result<Plan, String> {
        let settings =
            settings(&preset.config).map_err(|p| format!("invalid plugin config: {}: {}", p[0].key, p[0].message))?;
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
