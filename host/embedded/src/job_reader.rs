//! Reading a MediaConvert `CreateJob` request key by key: every key must be one the embedded
//! transcoder understands, with a value it can honour, or the job is refused with the path
//! of the field. Nothing is silently dropped.

use serde_json::{Map, Value};

/// A setting the embedded transcoder cannot honour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// e.g. `Settings.OutputGroups[0].Outputs[1].VideoDescription.Width`
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// One JSON object being read; [`Obj::finish`] refuses the keys nobody asked for.
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
    known: Vec<&'static str>,
}

impl<'a> Obj<'a> {
    pub fn root(value: &'a Value, problems: &mut Vec<Unsupported>) -> Option<Self> {
        match value.as_object() {
            Some(map) => Some(Self {
                map,
                path: String::new(),
                known: Vec::new(),
            }),
            None => {
                problems.push(Unsupported {
                    path: "(document)".into(),
                    message: "must be a JSON object".into(),
                });
                None
            }
        }
    }

    /// Where `key` of this object is: `Parent.Key`, or `Parent["key"]` for a key that is not a
    /// plain name (empty, or with spaces, dots, quotes), so every problem names a place to find.
    pub fn path(&self, key: &str) -> String {
        let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match (self.path.is_empty(), plain) {
            (true, true) => key.to_owned(),
            (false, true) => format!("{}.{key}", self.path),
            (_, false) => format!("{}[{key:?}]", self.path),
        }
    }

    fn get(&mut self, key: &'static str, required: bool, problems: &mut Vec<Unsupported>) -> Option<&'a Value> {
        self.known.push(key);
        let value = self.map.get(key);
        if value.is_none() && required {
            problems.push(Unsupported {
                path: self.path(key),
                message: "is required".into(),
            });
        }
        value
    }

    fn wrong(&self, key: &str, expected: &str, problems: &mut Vec<Unsupported>) {
        problems.push(Unsupported {
            path: self.path(key),
            message: format!("must be {expected}"),
        });
    }

    /// Accepts the key with any value: it does not change what is encoded (e.g. `Role`).
    pub fn ignore(&mut self, key: &'static str) {
        self.known.push(key);
    }

    pub fn string(&mut self, key: &'static str, required: bool, problems: &mut Vec<Unsupported>) -> Option<&'a str> {
        let value = self.get(key, required, problems)?;
        let text = value.as_str();
        if text.is_none() {
            self.wrong(key, "a string", problems);
        }
        text
    }

    /// A string that must be one of `supported`.
    pub fn choice(
        &mut self,
        key: &'static str,
        required: bool,
        supported: &[&'static str],
        problems: &mut Vec<Unsupported>,
    ) -> Option<&'static str> {
        let text = self.string(key, required, problems)?;
        match supported.iter().find(|s| **s == text) {
            Some(s) => Some(s),
            None => {
                problems.push(Unsupported {
                    path: self.path(key),
                    message: format!(
                        "`{text}` is not supported by the embedded transcoder (supported: {})",
                        supported.join(", ")
                    ),
                });
                None
            }
        }
    }

    pub fn integer(&mut self, key: &'static str, required: bool, problems: &mut Vec<Unsupported>) -> Option<u64> {
        let value = self.get(key, required, problems)?;
        let number = value.as_u64();
        if number.is_none() {
            self.wrong(key, "a non-negative integer", problems);
        }
        number
    }

    pub fn number(&mut self, key: &'static str, required: bool, problems: &mut Vec<Unsupported>) -> Option<f64> {
        let value = self.get(key, required, problems)?;
        let number = value.as_f64();
        if number.is_none() {
            self.wrong(key, "a number", problems);
        }
        number
    }

    pub fn object(&mut self, key: &'static str, required: bool, problems: &mut Vec<Unsupported>) -> Option<Obj<'a>> {
        let value = self.get(key, required, problems)?;
        match value.as_object() {
            Some(map) => Some(Obj {
                map,
                path: self.path(key),
                known: Vec::new(),
            }),
            None => {
                self.wrong(key, "an object", problems);
                None
            }
        }
    }

    pub fn objects(&mut self, key: &'static str, required: bool, problems: &mut Vec<Unsupported>) -> Vec<Obj<'a>> {
        let Some(value) = self.get(key, required, problems) else {
            return Vec::new();
        };
        let Some(items) = value.as_array() else {
            self.wrong(key, "a list", problems);
            return Vec::new();
        };
        let mut objects = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_object() {
                Some(map) => objects.push(Obj {
                    map,
                    path: format!("{}[{i}]", self.path(key)),
                    known: Vec::new(),
                }),
                None => problems.push(Unsupported {
                    path: format!("{}[{i}]", self.path(key)),
                    message: "must be an object".into(),
                }),
            }
        }
        objects
    }

    /// The entries of a map-shaped object (e.g. `AudioSelectors`), by name.
    pub fn entries(&mut self, key: &'static str, problems: &mut Vec<Unsupported>) -> Vec<(String, Obj<'a>)> {
        let Some(value) = self.get(key, false, problems) else {
            return Vec::new();
        };
        let Some(map) = value.as_object() else {
            self.wrong(key, "an object", problems);
            return Vec::new();
        };
        let path = self.path(key);
        let mut entries = Vec::new();
        for (name, value) in map {
            match value.as_object() {
                Some(inner) => entries.push((
                    name.clone(),
                    Obj {
                        map: inner,
                        path: format!("{path}[{name:?}]"),
                        known: Vec::new(),
                    },
                )),
                None => problems.push(Unsupported {
                    path: format!("{path}[{name:?}]"),
                    message: "must be an object".into(),
                }),
            }
        }
        entries
    }

    /// Refuses every key no getter asked for.
    pub fn finish(self, problems: &mut Vec<Unsupported>) {
        for key in self.map.keys() {
            if !self.known.contains(&key.as_str()) {
                problems.push(Unsupported {
                    path: self.path(key),
                    message: "is not supported by the embedded transcoder".into(),
                });
            }
        }
    }
}
