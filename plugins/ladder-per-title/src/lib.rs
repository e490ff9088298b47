//! Per-title planner: the same rungs as `ladder-table`, with every video bitrate shifted
//! by how much detail the source carries. A source encoded at few bits per pixel (flat,
//! simple content) needs less; a busy one more.
//!
//! Then no rendition spends more than the source spends on as many pixels
//! (`vodpipe_ladder_math::cap_to_source`): an already-compressed, low-bitrate source never
//! gets a rung above what it has.
//!
//! Config (`[plugin]` table of the preset):
//! - `reference_bpp` (default 0.1): bits per pixel per frame that maps to factor 1.0;
//! - `min_factor` (default 0.6), `max_factor` (default 1.4): clamp of the shift;
//! - `cap_to_source` (default true): the cap above.

use vodpipe_ladder_math::{cap_to_source, plan, sdk};
use vodpipe_plugin_sdk::log;
use vodpipe_plugin_sdk::planner::{Config, Plan, Planner, Preset, Probe, Reader};

struct LadderPerTitle;

struct Settings {
    reference_bpp: f64,
    min_factor: f64,
    max_factor: f64,
    cap_to_source: bool,
}

impl Config for Settings {
    fn read(reader: &mut Reader) -> Self {
        Settings {
            reference_bpp: reader.number("reference_bpp", 0.1, 0.001, 10.0),
            min_factor: reader.number("min_factor", 0.6, 0.1, 1.0),
            max_factor: reader.number("max_factor", 1.4, 1.0, 4.0),
            cap_to_source: reader.boolean("cap_to_source", true),
        }
    }
}

impl Planner for LadderPerTitle {
    type Config = Settings;

    fn plan(source: Probe, preset: Preset, settings: Settings) -> Result<Plan, String> {
        let factor = match source.bits_per_pixel {
            Some(bpp) => (bpp / settings.reference_bpp).clamp(settings.min_factor, settings.max_factor),
            None => 1.0,
        };
        log::info(&format!(
            "bitrate factor {factor:.3} for a {}x{} source",
            source.width, source.height
        ));
        let source_rules = sdk::source(&source);
        let mut plan = plan(&source_rules, &sdk::ladder(preset), factor)?;
        if settings.cap_to_source
            && let Some(bitrate) = source.video_bitrate.or(source.total_bitrate)
        {
            for note in cap_to_source(&mut plan, &source_rules, bitrate) {
                log::info(&note);
            }
        }
        Ok(sdk::plan_out(plan))
    }
}

vodpipe_plugin_sdk::export_planner!(LadderPerTitle);
