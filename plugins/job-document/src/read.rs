//! Reading a job document strictly: every key the types do not have is refused by its path
//! (all of them, not just the first), and a value the types cannot hold stops the reading at
//! its path. Paths are written as a person would look them up:
//! `Settings.OutputGroups[0].Outputs[1].VideoDescription.Width`, with a key that is not a
//! plain name quoted (`Settings["Output Groups"]`).

use std::fmt;

use crate::CreateJob;

/// A setting a job document cannot have, or a value it cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// e.g. `Settings.OutputGroups[0].Outputs[1].VideoDescription.Width`; `(document)` for the
    /// whole document.
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl CreateJob {
    /// Reads a document strictly: the request, or every unknown key met and the first value
    /// that does not fit, each by its path.
    pub fn read(document: &serde_json::Value) -> Result<Self, Vec<Problem>> {
        match Self::read_all(document) {
            (Some(job), problems) if problems.is_empty() => Ok(job),
            (_, problems) => Err(problems),
        }
    }

    /// Reads what can be read: the request when every value fits (unknown keys aside), and
    /// the problems: every unknown key met, and the first value that does not fit. A reader
    /// with checks of its own can then add what it finds, so one answer says all it can.
    pub fn read_all(document: &serde_json::Value) -> (Option<Self>, Vec<Problem>) {
        // serde would also take a struct's fields from a list, in order.
        if !document.is_object() {
            return (None, vec![Problem::new("(document)", "must be a JSON object")]);
        }
        let mut problems = Vec::new();
        let read = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(document, &mut |path| {
            problems.push(Problem::new(
                ignored_path(&path),
                "is not a setting vodpipe's job documents have",
            ))
        }));
        match read {
            Ok(job) => {
                // What serde reads leniently (a struct's fields from a list, a choice from a
                // one-key map, `null` for an absent key) shows when the job is written back.
                let written = serde_json::to_value(&job).expect("a job document always serializes");
                same_shape(document, &written, &PathText::default(), &mut problems);
                (Some(job), problems)
            }
            Err(error) => {
                problems.push(value_problem(&error));
                (None, problems)
            }
        }
    }
}

/// Adds a problem where `given` is written differently from how the job it reads as would
/// be `written`. Keys only `given` has are unknown keys (already named) or empty lists and
/// maps (written as absent); keys only `written` has are defaults.
fn same_shape(given: &serde_json::Value, written: &serde_json::Value, path: &PathText, problems: &mut Vec<Problem>) {
    use serde_json::Value;
    match (given, written) {
        (Value::Object(given), Value::Object(written)) => {
            for (key, value) in given {
                let mut inner = path.clone();
                inner.key(key);
                match written.get(key) {
                    Some(written) => same_shape(value, written, &inner, problems),
                    None if value.is_null() => problems.push(Problem::new(
                        inner.finish(),
                        "is null: leave the key out for the default",
                    )),
                    None => {}
                }
            }
        }
        (Value::Array(given), Value::Array(written)) => {
            for (index, (given, written)) in given.iter().zip(written).enumerate() {
                let mut inner = path.clone();
                inner.index(index);
                same_shape(given, written, &inner, problems);
            }
        }
        (given, written) if std::mem::discriminant(given) != std::mem::discriminant(written) => {
            let kind = match written {
                Value::Object(_) => "an object",
                Value::Array(_) => "a list",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "true or false",
                Value::Null => "left out",
            };
            problems.push(Problem::new(path.clone().finish(), format!("must be {kind}")));
        }
        _ => {}
    }
}

/// `Settings.Inputs: missing field`… is said as `Settings.Inputs: is required`, at the field.
fn value_problem<E: fmt::Display>(error: &serde_path_to_error::Error<E>) -> Problem {
    let mut path = PathText::default();
    for segment in error.path() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => path.index(*index),
            serde_path_to_error::Segment::Map { key } => path.key(key),
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    let message = error.inner().to_string();
    // serde's words for a missing field: "missing field `Name`" (plus, from a JSON text, its
    // position).
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field)
    {
        path.key(field);
        return Problem::new(path.finish(), "is required");
    }
    Problem::new(path.finish(), message)
}

fn ignored_path(path: &serde_ignored::Path) -> String {
    fn walk(path: &serde_ignored::Path, text: &mut PathText) {
        match path {
            serde_ignored::Path::Root => {}
            serde_ignored::Path::Seq { parent, index } => {
                walk(parent, text);
                text.index(*index);
            }
            serde_ignored::Path::Map { parent, key } => {
                walk(parent, text);
                text.key(key);
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => walk(parent, text),
        }
    }
    let mut text = PathText::default();
    walk(path, &mut text);
    text.finish()
}

#[derive(Default, Clone)]
struct PathText(String);

impl PathText {
    fn key(&mut self, key: &str) {
        let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match (self.0.is_empty(), plain) {
            (true, true) => self.0.push_str(key),
            (false, true) => {
                self.0.push('.');
                self.0.push_str(key);
            }
            (_, false) => self.0.push_str(&format!("[{key:?}]")),
        }
    }

    fn index(&mut self, index: usize) {
        self.0.push_str(&format!("[{index}]"));
    }

    fn finish(self) -> String {
        if self.0.is_empty() {
            "(document)".to_owned()
        } else {
            self.0
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn problems(document: serde_json::Value) -> Vec<String> {
        CreateJob::read(&document)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn minimal() -> serde_json::Value {
        json!({
            "Role": "",
            "Settings": {
                "Inputs": [{ "FileInput": "file:///in.mp4" }],
                "OutputGroups": [{
                    "OutputGroupSettings": {
                        "Type": "HLS_GROUP_SETTINGS",
                        "HlsGroupSettings": { "Destination": "file:///out/index", "SegmentLength": 6 }
                    },
                    "Outputs": [{
                        "NameModifier": "_360p",
                        "VideoDescription": {
                            "Width": 640, "Height": 360,
                            "CodecSettings": { "Codec": "H_264", "H264Settings": { "RateControlMode": "VBR", "Bitrate": 800000 } }
                        }
                    }]
                }]
            }
        })
    }

    #[test]
    fn a_document_of_known_settings_reads_and_writes_back_the_same() {
        let job = CreateJob::read(&minimal()).unwrap();
        assert_eq!(
            job.settings.output_groups[0].outputs[0]
                .video_description
                .as_ref()
                .unwrap()
                .width,
            640
        );
        assert_eq!(serde_json::to_value(&job).unwrap(), minimal());
    }

    #[test]
    fn qvbr_reads_with_its_quality_level_in_thirds() {
        let mut document = minimal();
        let h264 = &mut document["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["CodecSettings"]["H264Settings"];
        *h264 = json!({
            "RateControlMode": "QVBR",
            "MaxBitrate": 3000000,
            "QvbrSettings": { "QvbrQualityLevel": 7, "QvbrQualityLevelFineTune": 0.25 }
        });
        let job = CreateJob::read(&document).unwrap();
        let h264 = job.settings.output_groups[0].outputs[0]
            .video_description
            .as_ref()
            .unwrap()
            .codec_settings
            .h264_settings
            .clone();
        let h264 = h264.unwrap();
        assert_eq!(h264.rate_control_mode, crate::RateControlMode::Qvbr);
        let level = h264.qvbr_settings.unwrap().quality_level().unwrap();
        assert!((level - 22.0 / 3.0).abs() < 1e-9, "{level}");
        let auto = crate::H264QvbrSettings {
            qvbr_quality_level: None,
            qvbr_quality_level_fine_tune: Some(0.5),
        };
        assert_eq!(auto.quality_level(), None);
    }

    #[test]
    fn every_unknown_key_is_named_by_its_path() {
        let mut document = minimal();
        document["Settings"]["Inputs"][0]["DeblockFilter"] = "ENABLED".into();
        let h264 = &mut document["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["CodecSettings"]["H264Settings"];
        h264["QvbrSetings"] = json!({ "QvbrQualityLevel": 7 });
        document["Output Groups"] = json!([]);
        let found = problems(document);
        let unknown = "is not a setting vodpipe's job documents have";
        assert!(found.contains(&format!("[\"Output Groups\"]: {unknown}")), "{found:?}");
        assert!(
            found.contains(&format!("Settings.Inputs[0].DeblockFilter: {unknown}")),
            "{found:?}"
        );
        assert!(
            found.contains(&format!(
                "Settings.OutputGroups[0].Outputs[0].VideoDescription.CodecSettings.H264Settings.QvbrSetings: {unknown}"
            )),
            "{found:?}"
        );
        assert_eq!(found.len(), 3, "{found:?}");
    }

    #[test]
    fn a_value_outside_what_vodpipe_speaks_is_refused_where_it_stands() {
        let mut document = minimal();
        document["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["CodecSettings"]["H264Settings"]["RateControlMode"] =
            "CBR".into();
        let found = problems(document);
        assert_eq!(
            found,
            [
                "Settings.OutputGroups[0].Outputs[0].VideoDescription.CodecSettings.H264Settings.RateControlMode: \
              unknown variant `CBR`, expected `VBR` or `QVBR`"
            ]
        );
        let mut document = minimal();
        document["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["Width"] = (-1).into();
        let found = problems(document);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .starts_with("Settings.OutputGroups[0].Outputs[0].VideoDescription.Width: invalid value: integer `-1`"),
            "{found:?}"
        );
    }

    #[test]
    fn shapes_serde_would_read_leniently_are_refused_by_path() {
        let mut document = minimal();
        let input = &mut document["Settings"]["Inputs"][0];
        input["VideoSelector"] = json!(["AUTO"]);
        input["AudioSelectors"] = json!({ "Audio Selector 1": [null] });
        let h264 = &mut document["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["CodecSettings"]["H264Settings"];
        h264["RateControlMode"] = json!({ "VBR": null });
        h264["MaxBitrate"] = json!(null);
        let h264_at = "Settings.OutputGroups[0].Outputs[0].VideoDescription.CodecSettings.H264Settings";
        let mut found = problems(document);
        found.sort();
        let mut expected = vec![
            "Settings.Inputs[0].VideoSelector: must be an object".to_owned(),
            "Settings.Inputs[0].AudioSelectors[\"Audio Selector 1\"]: must be an object".to_owned(),
            format!("{h264_at}.RateControlMode: must be a string"),
            format!("{h264_at}.MaxBitrate: is null: leave the key out for the default"),
        ];
        expected.sort();
        assert_eq!(found, expected);
        // Empty lists and maps are what leaving them out means.
        let mut document = minimal();
        document["Settings"]["Inputs"][0]["AudioSelectors"] = json!({});
        document["Settings"]["OutputGroups"][0]["Outputs"][0]["AudioDescriptions"] = json!([]);
        assert!(CreateJob::read(&document).is_ok());
    }

    #[test]
    fn a_missing_field_is_named_at_its_place() {
        let mut document = minimal();
        document["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["HlsGroupSettings"]
            .as_object_mut()
            .unwrap()
            .remove("SegmentLength");
        assert_eq!(
            problems(document),
            ["Settings.OutputGroups[0].OutputGroupSettings.HlsGroupSettings.SegmentLength: is required"]
        );
        assert_eq!(
            problems(json!({ "Settings": { "Inputs": [] } })),
            ["Settings.OutputGroups: is required"]
        );
    }

    #[test]
    fn something_other_than_an_object_is_refused_as_a_whole() {
        for document in [
            json!(["", { "Inputs": [], "OutputGroups": [] }]),
            json!("Settings"),
            json!(null),
        ] {
            assert_eq!(problems(document), ["(document): must be a JSON object"]);
        }
    }
}
