//! Planner that applies the preset's rungs as written: no upscaling, short-side rungs,
//! even sizes that keep the aspect ratio. Takes no config.

use vodpipe_ladder_math::{plan, sdk};
use vodpipe_plugin_sdk::planner::{Plan, Planner, Preset, Probe};

struct LadderTable;

impl Planner for LadderTable {
    type Config = ();

    fn plan(source: Probe, preset: Preset, _config: ()) -> Result<Plan, String> {
        let plan = plan(&sdk::source(&source), &sdk::ladder(preset), 1.0)?;
        Ok(sdk::plan_out(plan))
    }
}

vodpipe_plugin_sdk::export_planner!(LadderTable);
