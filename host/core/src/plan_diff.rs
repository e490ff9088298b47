//! What changes between two plans for the same source: rungs added, removed or changed
//! (matched by name), the segment length and the thumbnail. `vodpipe policy diff` and
//! `policy publish` show it, so a policy change is read before it ships.

use serde::Serialize;

use crate::plan::{Plan, Rendition};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanDiff {
    pub added: Vec<Rendition>,
    pub removed: Vec<Rendition>,
    pub changed: Vec<RungChange>,
    /// Rungs the same in both plans, by name.
    pub unchanged: Vec<String>,
    pub segment_seconds: Option<FieldChange>,
    pub thumbnail: Option<FieldChange>,
}

/// One rung present in both plans, and what differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RungChange {
    pub name: String,
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: String,
    pub new: String,
}

impl PlanDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.segment_seconds.is_none()
            && self.thumbnail.is_none()
    }
}

/// The differences from `old` to `new`.
pub fn diff(old: &Plan, new: &Plan) -> PlanDiff {
    let find = |plan: &Plan, name: &str| plan.renditions.iter().find(|r| r.name == name).cloned();
    let mut result = PlanDiff {
        added: new
            .renditions
            .iter()
            .filter(|r| find(old, &r.name).is_none())
            .cloned()
            .collect(),
        removed: old
            .renditions
            .iter()
            .filter(|r| find(new, &r.name).is_none())
            .cloned()
            .collect(),
        changed: Vec::new(),
        unchanged: Vec::new(),
        segment_seconds: change("segment_seconds", old.segment_seconds, new.segment_seconds, |s| {
            format!("{s} s")
        }),
        thumbnail: change("thumbnail", &old.thumbnail, &new.thumbnail, |t| match t {
            Some(t) => format!("{}x{} at {} s", t.width, t.height, t.at_seconds),
            None => "none".into(),
        }),
    };
    for o in &old.renditions {
        let Some(n) = find(new, &o.name) else { continue };
        let fields = rung_changes(o, &n);
        if fields.is_empty() {
            result.unchanged.push(o.name.clone());
        } else {
            result.changed.push(RungChange {
                name: o.name.clone(),
                fields,
            });
        }
    }
    result
}

fn rung_changes(old: &Rendition, new: &Rendition) -> Vec<FieldChange> {
    let kbps = |b: &u64| format!("{} kb/s", b / 1000);
    [
        change("size", (old.width, old.height), (new.width, new.height), |(w, h)| {
            format!("{w}x{h}")
        }),
        change(
            "rate_control",
            old.quality_level,
            new.quality_level,
            |level| match level {
                None => "VBR".into(),
                Some(level) => format!("QVBR {level:.2}"),
            },
        ),
        // With QVBR, the bitrate the planner expects.
        change("video_bitrate", &old.video_bitrate, &new.video_bitrate, kbps),
        change("max_bitrate", &old.max_bitrate, &new.max_bitrate, kbps),
        change("profile", &old.profile, &new.profile, |p| p.to_string()),
        change("level", &old.level, &new.level, |l| l.to_string()),
        change("frame_rate_cap", old.frame_rate_cap, new.frame_rate_cap, |f| {
            format!("{f} fps")
        }),
        change("audio_bitrate", &old.audio_bitrate, &new.audio_bitrate, |a| match a {
            Some(b) => kbps(b),
            None => "none".into(),
        }),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn change<T: PartialEq>(field: &'static str, old: T, new: T, show: impl Fn(T) -> String) -> Option<FieldChange> {
    (old != new).then(|| FieldChange {
        field,
        old: show(old),
        new: show(new),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Thumbnail;

    fn rung(name: &str, height: u32, kbps: u64) -> Rendition {
        Rendition {
            bit_depth: 8,
            codec: crate::VideoCodec::H264,
            name: name.into(),
            width: height * 16 / 9,
            height,
            video_bitrate: kbps * 1000,
            max_bitrate: kbps * 1500,
            quality_level: None,
            profile: "high".into(),
            level: "4.0".into(),
            frame_rate_cap: 60.0,
            audio_bitrate: Some(128_000),
        }
    }

    fn plan(renditions: Vec<Rendition>, segment_seconds: u32) -> Plan {
        Plan {
            packaging: crate::Packaging::Ts,
            renditions,
            segment_seconds,
            thumbnail: Some(Thumbnail {
                at_seconds: 2.0,
                width: 640,
                height: 360,
            }),
        }
    }

    #[test]
    fn equal_plans_differ_in_nothing() {
        let p = plan(vec![rung("720p", 720, 3000), rung("360p", 360, 800)], 6);
        let d = diff(&p, &p);
        assert!(d.is_empty());
        assert_eq!(d.unchanged, ["720p", "360p"]);
    }

    #[test]
    fn a_changed_bitrate_is_a_changed_rung_with_both_values() {
        let old = plan(vec![rung("720p", 720, 3000)], 6);
        let new = plan(vec![rung("720p", 720, 2000)], 6);
        let d = diff(&old, &new);
        assert_eq!(d.changed.len(), 1);
        assert_eq!(
            d.changed[0].fields,
            [
                FieldChange {
                    field: "video_bitrate",
                    old: "3000 kb/s".into(),
                    new: "2000 kb/s".into()
                },
                FieldChange {
                    field: "max_bitrate",
                    old: "4500 kb/s".into(),
                    new: "3000 kb/s".into()
                },
            ]
        );
    }

    #[test]
    fn a_rung_turned_constant_quality_says_so_with_its_level() {
        let mut qvbr = rung("720p", 720, 3000);
        qvbr.quality_level = Some(8.0 + 1.0 / 3.0);
        let d = diff(&plan(vec![rung("720p", 720, 3000)], 6), &plan(vec![qvbr], 6));
        let field = &d.changed[0].fields[0];
        assert_eq!(
            (field.field, field.old.as_str(), field.new.as_str()),
            ("rate_control", "VBR", "QVBR 8.33")
        );
    }

    #[test]
    fn rungs_added_and_removed_by_name_and_segment_length() {
        let old = plan(vec![rung("720p", 720, 3000), rung("240p", 240, 400)], 6);
        let new = plan(vec![rung("1080p", 1080, 5000), rung("720p", 720, 3000)], 4);
        let d = diff(&old, &new);
        assert_eq!(d.added.iter().map(|r| &r.name).collect::<Vec<_>>(), ["1080p"]);
        assert_eq!(d.removed.iter().map(|r| &r.name).collect::<Vec<_>>(), ["240p"]);
        assert_eq!(d.unchanged, ["720p"]);
        let segments = d.segment_seconds.unwrap();
        assert_eq!((segments.old.as_str(), segments.new.as_str()), ("6 s", "4 s"));
    }

    #[test]
    fn thumbnail_changes_are_shown() {
        let old = plan(vec![rung("720p", 720, 3000)], 6);
        let mut new = old.clone();
        new.thumbnail = None;
        let d = diff(&old, &new);
        assert_eq!(d.thumbnail.unwrap().new, "none");
    }
}
