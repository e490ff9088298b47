//! Content-aware planner: the preset's rungs, each encoded at a constant quality (QVBR)
//! chosen from the content analysis, never above what the source itself spends.
//!
//! 1. The rungs that fit the source, at the preset's bitrates (as `ladder-table`).
//! 2. `cap_to_source`: no rendition's budget above what the source spends on as many pixels.
//! 3. Every constant-quality rendition's peak is its budget: it never costs more than the
//!    preset's average for the rung (nor than the source spends), only less where the
//!    content allows.
//! 4. With the analysis measured: each rendition at the highest level from `quality_level`
//!    down to `min_quality_level` that is expected to cost at most 90% of its budget (room
//!    for the model's error under the peak); a rendition for which none is keeps VBR at its
//!    budget, as the preset has it. Then renditions at one level within `min_step` of a
//!    neighbour in expected bitrate are dropped.
//! 5. Without an analysis by design (not run: AWS mode, or a preset without
//!    `analyse_content`): every rendition at `quality_level`; the encoder adapts under the peak.
//! 6. With a failed analysis: the preset's bitrates as VBR (after the cap), and a warning.
//!
//! Config (`[plugin]` table of the preset):
//! - `quality_level` (default 9, 1..=10): the highest QVBR level a rung gets;
//! - `min_quality_level` (default 5, 1..=10, at most `quality_level`): the lowest constant
//!   quality a rung gets; below it, VBR at the budget;
//! - `min_step` (default 1.4, 1..=4): the smallest ratio of expected bitrates between
//!   neighbouring renditions at one level; 1 keeps every rendition;
//! - `cap_to_source` (default true).

use vodpipe_ladder_math::content_aware::{Levels, RateModel, choose_levels, drop_near_duplicates};
use vodpipe_ladder_math::{cap_to_source, plan, sdk};
use vodpipe_plugin_sdk::log;
use vodpipe_plugin_sdk::planner::{Analysis, Config, Plan, Planner, Preset, Probe, Reader};

struct LadderContentAware;

struct Settings {
    levels: Levels,
    min_step: f64,
    cap_to_source: bool,
}

impl Config for Settings {
    fn read(reader: &mut Reader) -> Self {
        let ceiling = reader.number("quality_level", 9.0, 1.0, 10.0);
        let floor = reader.number("min_quality_level", 5.0, 1.0, 10.0);
        if floor > ceiling {
            reader.problem("min_quality_level", format!("{floor} is above quality_level {ceiling}"));
        }
        Settings {
            levels: Levels {
                ceiling,
                floor: floor.min(ceiling),
            },
            min_step: reader.number("min_step", 1.4, 1.0, 4.0),
            cap_to_source: reader.boolean("cap_to_source", true),
        }
    }
}

impl Planner for LadderContentAware {
    type Config = Settings;

    fn plan(source: Probe, preset: Preset, settings: Settings) -> Result<Plan, String> {
        let source_rules = sdk::source(&source);
        let mut plan = plan(&source_rules, &sdk::ladder(preset), 1.0)?;
        let source_bitrate = source
            .video_bitrate
            .or(source.total_bitrate)
            .filter(|_| settings.cap_to_source);
        if let Some(bitrate) = source_bitrate {
            for note in cap_to_source(&mut plan, &source_rules, bitrate) {
                log::info(&note);
            }
        }
        let model = match &source.analysis {
            Analysis::NotRun => None,
            Analysis::Failed(reason) => {
                log::warn(&format!(
                    "the content analysis failed ({reason}); planning the preset's bitrates"
                ));
                return Ok(sdk::plan_out(plan));
            }
            Analysis::Measured(analysis) => {
                let samples = analysis
                    .samples
                    .iter()
                    .map(|s| (s.width, s.height, s.points.iter().map(|p| (p.crf, p.bitrate)).collect()))
                    .collect();
                let Some(model) = RateModel::new(samples) else {
                    log::warn("the content analysis measured too little to use; planning the preset's bitrates");
                    return Ok(sdk::plan_out(plan));
                };
                Some(model)
            }
        };
        let mut notes = choose_levels(&mut plan, model.as_ref(), settings.levels);
        notes.extend(drop_near_duplicates(&mut plan, settings.min_step));
        for note in notes {
            log::info(&note);
        }
        Ok(sdk::plan_out(plan))
    }
}

vodpipe_plugin_sdk::export_planner!(LadderContentAware);
