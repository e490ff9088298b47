//! Reading a plugin's free-form config (a JSON object) with every problem collected,
//! each naming its key, so `vodpipe policy check` can report them all at once.

use serde_json::{Map, Value};

/// One problem in a config; converted into the world's `config-problem` by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

/// Typed access to a config object that remembers which keys were read, so
/// [`Reader::finish`] can refuse unknown ones.
pub struct Reader {
    object: Map<String, Value>,
    read: Vec<String>,
    problems: Vec<Problem>,
}

impl Reader {
    pub fn parse(json: &str) -> Result<Self, Vec<Problem>> {
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(object)) => Ok(Self {
                object,
                read: Vec::new(),
                problems: Vec::new(),
            }),
            Ok(Value::Null) => Ok(Self {
                object: Map::new(),
                read: Vec::new(),
                problems: Vec::new(),
            }),
            Ok(_) => Err(vec![Problem {
                key: String::new(),
                message: "config must be a table".into(),
            }]),
            Err(e) => Err(vec![Problem {
                key: String::new(),
                message: format!("config is not valid JSON: {e}"),
            }]),
        }
    }

    /// A number in `min..=max`, or `default` when the key is absent.
    pub fn number(&mut self, key: &str, default: f64, min: f64, max: f64) -> f64 {
        self.read.push(key.to_owned());
        match self.object.get(key) {
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
                self.problem(key, format!("expected a number, found {}", kind(other)));
                default
            }
        }
    }

    pub fn boolean(&mut self, key: &str, default: bool) -> bool {
        self.read.push(key.to_owned());
        match self.object.get(key) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.problem(key, format!("expected a boolean, found {}", kind(other)));
                default
            }
        }
    }

    /// A string, or `default` when absent; `allowed` (if not empty) lists the valid values.
    pub fn string(&mut self, key: &str, default: &str, allowed: &[&str]) -> String {
        self.read.push(key.to_owned());
        match self.object.get(key) {
            None => default.to_owned(),
            Some(Value::String(s)) if allowed.is_empty() || allowed.contains(&s.as_str()) => s.clone(),
            Some(Value::String(s)) => {
                self.problem(key, format!("`{s}` is not one of {}", allowed.join(", ")));
                default.to_owned()
            }
            Some(other) => {
                self.problem(key, format!("expected a string, found {}", kind(other)));
                default.to_owned()
            }
        }
    }

    pub fn problem(&mut self, key: &str, message: String) {
        self.problems.push(Problem {
            key: key.to_owned(),
            message,
        });
    }

    /// All problems, including keys that no getter asked for.
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
