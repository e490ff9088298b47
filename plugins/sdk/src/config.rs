//! A plugin's config, typed: a struct that implements [`Config`] reads its settings from a
//! [`Reader`], which collects every problem (each with its dotted key path) instead of
//! stopping at the first, so `vodpipe policy check` reports them all at once.
//!
//! ```ignore
//! struct Settings { max_renditions: i64, keep: String }
//!
//! impl Config for Settings {
//!     fn read(reader: &mut Reader) -> Self {
//!         Settings {
//!             max_renditions: reader.integer("max_renditions", 3, 1, 12),
//!             keep: reader.string("keep", "largest", &["largest", "smallest"]),
//!         }
//!     }
//! }
//! ```
//!
//! The stage trait names the type (`type Config = Settings;`); the SDK then validates the
//! config at load time and hands the stage function a `Settings`. A plugin that takes no
//! config says `type Config = ();`, which refuses every key.

use serde_json::{Map, Value};

/// One problem in a config; converted into the world's `config-problem` by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Dotted key path inside the config table, e.g. `limits.max_renditions`; empty when
    /// the problem is about the whole config.
    pub key: String,
    pub message: String,
}

/// A plugin's settings, read from its config table.
pub trait Config: Sized {
    /// Reads every setting. A bad value is recorded in `reader` (and a default used), not
    /// returned, so the other settings are still read and checked; keys no getter asked for
    /// are refused after `read` returns.
    fn read(reader: &mut Reader) -> Self;
}

/// No config: every key is refused as unknown.
impl Config for () {
    fn read(_reader: &mut Reader) -> Self {}
}

/// Reads a config JSON object (the stage's config as the host passes it) into `C`, with
/// every problem found.
pub fn read<C: Config>(json: &str) -> Result<C, Vec<Problem>> {
    let mut reader = Reader::parse(json)?;
    let settings = C::read(&mut reader);
    reader.finish()?;
    Ok(settings)
}

/// Every problem on one line, `KEY: MESSAGE; KEY: MESSAGE`, for a refusal.
pub fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| {
            if p.key.is_empty() {
                p.message.clone()
            } else {
                format!("{}: {}", p.key, p.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Typed access to a config object that remembers which keys were read, so
/// [`Reader::finish`] can refuse unknown ones.
pub struct Reader {
    object: Map<String, Value>,
    /// The key path of this table inside the config (empty at the top), for problems.
    prefix: String,
    read: Vec<String>,
    problems: Vec<Problem>,
}

impl Reader {
    /// Accepts an object (or `null`, read as empty); anything else is one problem with an
    /// empty key.
    pub fn parse(json: &str) -> Result<Self, Vec<Problem>> {
        let whole = |message: String| {
            vec![Problem {
                key: String::new(),
                message,
            }]
        };
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(object)) => Ok(Self::over(object, String::new())),
            Ok(Value::Null) => Ok(Self::over(Map::new(), String::new())),
            Ok(_) => Err(whole("config must be a table".into())),
            Err(e) => Err(whole(format!("config is not valid JSON: {e}"))),
        }
    }

    fn over(object: Map<String, Value>, prefix: String) -> Self {
        Self {
            object,
            prefix,
            read: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    fn get(&mut self, key: &str) -> Option<Value> {
        self.read.push(key.to_owned());
        self.object.get(key).cloned()
    }

    /// A number in `min..=max`, or `default` when the key is absent.
    pub fn number(&mut self, key: &str, default: f64, min: f64, max: f64) -> f64 {
        match self.get(key) {
            None => default,
            Some(Value::Number(n)) => {
                let v = n.as_f64().unwrap_or(f64::NAN);
                if (min..=max).contains(&v) {
                    v
                } else {
                    self.problem(key, format!("{v} is out of range ({min}..={max})"));
                    default
                }
            }
            Some(other) => {
                self.problem(key, format!("expected a number, found {}", kind(&other)));
                default
            }
        }
    }

    /// A whole number in `min..=max`, or `default` when the key is absent.
    pub fn integer(&mut self, key: &str, default: i64, min: i64, max: i64) -> i64 {
        match self.get(key) {
            None => default,
            Some(Value::Number(n)) => match n.as_i64() {
                Some(v) if (min..=max).contains(&v) => v,
                Some(v) => {
                    self.problem(key, format!("{v} is out of range ({min}..={max})"));
                    default
                }
                None => {
                    self.problem(key, format!("{n} is not a whole number"));
                    default
                }
            },
            Some(other) => {
                self.problem(key, format!("expected a whole number, found {}", kind(&other)));
                default
            }
        }
    }

    /// A boolean, or `default` when the key is absent.
    pub fn boolean(&mut self, key: &str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(Value::Bool(b)) => b,
            Some(other) => {
                self.problem(key, format!("expected a boolean, found {}", kind(&other)));
                default
            }
        }
    }

    /// A string, or `default` when absent; `allowed` (if not empty) lists the valid values.
    pub fn string(&mut self, key: &str, default: &str, allowed: &[&str]) -> String {
        match self.get(key) {
            None => default.to_owned(),
            Some(Value::String(s)) if allowed.is_empty() || allowed.contains(&s.as_str()) => s,
            Some(Value::String(s)) => {
                self.problem(key, format!("`{s}` is not one of {}", allowed.join(", ")));
                default.to_owned()
            }
            Some(other) => {
                self.problem(key, format!("expected a string, found {}", kind(&other)));
                default.to_owned()
            }
        }
    }

    /// A nested table, read by `read` with its own reader: its problems, unknown keys
    /// included, carry the whole key path (`limits.max`). An absent table reads as empty,
    /// so every default applies.
    pub fn table<T>(&mut self, key: &str, read: impl FnOnce(&mut Reader) -> T) -> T {
        let object = match self.get(key) {
            None => Map::new(),
            Some(Value::Object(object)) => object,
            Some(other) => {
                self.problem(key, format!("expected a table, found {}", kind(&other)));
                Map::new()
            }
        };
        let mut nested = Reader::over(object, self.path(key));
        let value = read(&mut nested);
        if let Err(problems) = nested.finish() {
            self.problems.extend(problems);
        }
        value
    }

    /// Adds a problem of your own about `key` (of this table).
    pub fn problem(&mut self, key: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            key: self.path(key),
            message: message.into(),
        });
    }

    /// All problems, including one per key that no getter asked for, in key order.
    pub fn finish(mut self) -> Result<(), Vec<Problem>> {
        let mut unknown: Vec<String> = self.object.keys().filter(|k| !self.read.contains(k)).cloned().collect();
        unknown.sort();
        for key in unknown {
            let message = if self.read.is_empty() {
                "unknown key (this plugin takes no config)".to_owned()
            } else {
                format!("unknown key (expected one of: {})", self.read.join(", "))
            };
            self.problem(&key, message);
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(self.problems)
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Settings {
        max: i64,
        keep: String,
        depth: f64,
    }

    impl Config for Settings {
        fn read(reader: &mut Reader) -> Self {
            Settings {
                max: reader.integer("max", 3, 1, 12),
                keep: reader.string("keep", "largest", &["largest", "smallest"]),
                depth: reader.table("limits", |limits| limits.number("depth", 1.0, 0.0, 2.0)),
            }
        }
    }

    fn problems(json: &str) -> Vec<(String, String)> {
        read::<Settings>(json)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.key, p.message))
            .collect()
    }

    #[test]
    fn defaults_fill_what_is_absent() {
        let settings = read::<Settings>(r#"{"limits": {"depth": 0.5}}"#).unwrap();
        assert_eq!(
            (settings.max, settings.keep.as_str(), settings.depth),
            (3, "largest", 0.5)
        );
        assert!(read::<Settings>("null").is_ok());
    }

    #[test]
    fn every_bad_key_is_reported_with_its_path() {
        let found = problems(r#"{"max": 2.5, "keep": "middle", "colour": "red", "limits": {"depth": 3, "width": 1}}"#);
        let expected = [
            ("max", "2.5 is not a whole number"),
            ("keep", "`middle` is not one of largest, smallest"),
            ("limits.depth", "3 is out of range (0..=2)"),
            ("limits.width", "unknown key (expected one of: depth)"),
            ("colour", "unknown key (expected one of: max, keep, limits)"),
        ];
        assert_eq!(found, expected.map(|(k, m)| (k.to_owned(), m.to_owned())));
        assert!(describe(&read::<Settings>(r#"{"max": 0}"#).err().unwrap()).starts_with("max: 0 is out of range"));
    }

    #[test]
    fn no_config_refuses_every_key_and_non_tables() {
        let found = read::<()>(r#"{"b": 1, "a": 2}"#).err().unwrap();
        let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(found[0].message, "unknown key (this plugin takes no config)");
        assert_eq!(read::<()>("[1]").err().unwrap()[0].message, "config must be a table");
    }
}
