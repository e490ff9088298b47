//! The cost estimate of a plan with the bundle's cost model, as the reports show it.

use serde::Serialize;
use vodpipe_core::cost::{CostEstimate, Passes, estimate as estimate_with};
use vodpipe_core::ports::Policy;
use vodpipe_core::{JobContext, Plan, Probe};
use vodpipe_runtime::LoadedPolicy;

/// An estimate, or why there is none.
#[derive(Debug, Clone, Serialize)]
pub struct Cost {
    pub estimate: Option<CostEstimate>,
    pub unavailable: Option<String>,
}

impl Cost {
    pub fn estimate(&self) -> Option<&CostEstimate> {
        self.estimate.as_ref()
    }
}

/// Prices `plan` (for `source`) with `policy`'s cost model; the number of encoding passes is
/// read from the job document the policy builds for it.
pub fn estimate(policy: &LoadedPolicy, plan: &Plan, source: &Probe) -> Cost {
    let Some(model) = policy.cost_model() else {
        return Cost {
            estimate: None,
            unavailable: Some(format!(
                "bundle `{}` names no cost model ([cost] model)",
                policy.bundle_name
            )),
        };
    };
    let context = JobContext {
        video_id: "estimate".into(),
        input_uri: "file:///source".into(),
        output_prefix: "file:///media/estimate/".into(),
        role: String::new(),
        queue: None,
    };
    match policy.build_job(plan, &context) {
        Ok(job) => Cost {
            estimate: Some(estimate_with(model, plan, source, Passes::from_job(&job))),
            unavailable: None,
        },
        Err(e) => Cost {
            estimate: None,
            unavailable: Some(format!("the job builder failed: {e}")),
        },
    }
}

/// The estimate's figures and assumptions, one per line.
pub fn print(cost: &Cost, indent: &str) {
    match (&cost.estimate, &cost.unavailable) {
        (Some(e), _) => {
            println!(
                "{indent}cost (estimate): MediaConvert {} per source minute; storage ${:.4} per month per hour of content; egress ${:.2} per 1,000 views of an hour{}",
                usd(e.mediaconvert_usd_per_source_minute, 4),
                e.storage_usd_per_month_per_content_hour,
                e.egress_usd_per_1000_views_per_content_hour,
                e.egress_usd_per_1000_full_views
                    .map(|v| format!(" (${v:.2} per 1,000 full views of this source)"))
                    .unwrap_or_default()
            );
            println!("{indent}  assumptions:");
            for a in &e.assumptions {
                println!("{indent}  - {a}");
            }
        }
        (None, Some(reason)) => println!("{indent}cost: not estimated: {reason}"),
        (None, None) => {}
    }
}

/// Both sides' figures and the change, for `policy diff`.
pub fn print_change(old: &Cost, new: &Cost, indent: &str) {
    let (Some(o), Some(n)) = (old.estimate(), new.estimate()) else {
        for (side, cost) in [("old", old), ("new", new)] {
            if let Some(reason) = &cost.unavailable {
                println!("{indent}cost ({side}): not estimated: {reason}");
            }
        }
        return;
    };
    let line = |what: &str, o: Option<f64>, n: Option<f64>, decimals: usize| {
        let change = match (o, n) {
            (Some(o), Some(n)) => format!(" ({:+.1}%)", percent(o, n)),
            _ => String::new(),
        };
        println!(
            "{indent}{what:<46} {} -> {}{change}",
            usd(o, decimals),
            usd(n, decimals)
        );
    };
    line(
        "MediaConvert per source minute (estimate)",
        o.mediaconvert_usd_per_source_minute,
        n.mediaconvert_usd_per_source_minute,
        4,
    );
    line(
        "storage per month per hour of content",
        Some(o.storage_usd_per_month_per_content_hour),
        Some(n.storage_usd_per_month_per_content_hour),
        4,
    );
    line(
        "egress per 1,000 views of an hour",
        Some(o.egress_usd_per_1000_views_per_content_hour),
        Some(n.egress_usd_per_1000_views_per_content_hour),
        2,
    );
}

/// The change from `old` to `new` in percent; from zero to anything else is infinite.
pub fn percent(old: f64, new: f64) -> f64 {
    if old == 0.0 {
        if new == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        (new - old) / old * 100.0
    }
}

/// Dollars, or "no price" where the model has none.
fn usd(value: Option<f64>, decimals: usize) -> String {
    value.map_or("no price".to_owned(), |v| format!("${v:.decimals$}"))
}
