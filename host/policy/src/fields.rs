//! Reading a TOML table field by field with every mistake collected, which serde cannot do
//! (it stops at the first). Unknown keys are refused, like `deny_unknown_fields`.

use std::ops::{Range, RangeInclusive};

use toml_edit::{Item, TableLike, Value};

use crate::diag::{Diagnostic, Diagnostics};

/// The file being read, the mistakes found in it so far, and what is valid but likely not
/// what its author meant (warnings).
pub struct Source<'s> {
    pub file: &'s str,
    pub text: &'s str,
    pub diagnostics: Diagnostics,
    pub warnings: Diagnostics,
}

impl<'s> Source<'s> {
    pub fn new(file: &'s str, text: &'s str) -> Self {
        Self {
            file,
            text,
            diagnostics: Diagnostics::default(),
            warnings: Diagnostics::default(),
        }
    }

    pub fn error(&mut self, span: Option<Range<usize>>, key: &str, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(self.file, self.text, span, key, message));
    }

    pub fn warning(&mut self, span: Option<Range<usize>>, key: &str, message: impl Into<String>) {
        self.warnings
            .push(Diagnostic::new(self.file, self.text, span, key, message));
    }

    /// Parses the TOML text; a syntax error is reported and `None` returned.
    pub fn parse(&mut self) -> Option<toml_edit::Document<&'s str>> {
        match toml_edit::Document::parse(self.text) {
            Ok(doc) => Some(doc),
            Err(e) => {
                let message = e.message().trim().to_owned();
                self.error(e.span(), "", format!("invalid TOML: {message}"));
                None
            }
        }
    }
}

/// One table being read. Every getter records its key, so [`Fields::finish`] can report
/// the keys nobody asked for.
pub struct Fields<'t> {
    table: &'t dyn TableLike,
    path: String,
    span: Option<Range<usize>>,
    known: Vec<&'static str>,
}

impl<'t> Fields<'t> {
    pub fn new(table: &'t dyn TableLike, path: impl Into<String>, span: Option<Range<usize>>) -> Self {
        Self {
            table,
            path: path.into(),
            span,
            known: Vec::new(),
        }
    }

    pub fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn span(&self) -> Option<Range<usize>> {
        self.span.clone()
    }

    /// The item under `key`; reports it missing when `required`.
    pub fn item(&mut self, src: &mut Source, key: &'static str, required: bool) -> Option<&'t Item> {
        self.known.push(key);
        let item = self.table.get(key).filter(|i| !i.is_none());
        if item.is_none() && required {
            let path = self.path(key);
            src.error(self.span.clone(), &path, "missing required key");
        }
        item
    }

    fn typed<T>(
        &mut self,
        src: &mut Source,
        key: &'static str,
        required: bool,
        expected: &str,
        get: impl Fn(&Value) -> Option<T>,
    ) -> Option<(T, Option<Range<usize>>)> {
        let item = self.item(src, key, required)?;
        match item.as_value().and_then(&get) {
            Some(v) => Some((v, item.span())),
            None => {
                let path = self.path(key);
                src.error(
                    item.span(),
                    &path,
                    format!("expected {expected}, found {}", describe(item)),
                );
                None
            }
        }
    }

    pub fn string(
        &mut self,
        src: &mut Source,
        key: &'static str,
        required: bool,
    ) -> Option<(String, Option<Range<usize>>)> {
        self.typed(src, key, required, "a string", |v| v.as_str().map(str::to_owned))
    }

    pub fn boolean(&mut self, src: &mut Source, key: &'static str, default: bool) -> bool {
        self.typed(src, key, false, "a boolean", Value::as_bool)
            .map_or(default, |(v, _)| v)
    }

    /// An integer within `range`.
    pub fn integer(
        &mut self,
        src: &mut Source,
        key: &'static str,
        required: bool,
        range: RangeInclusive<i64>,
        unit: &str,
    ) -> Option<i64> {
        let (value, span) = self.typed(src, key, required, "an integer", Value::as_integer)?;
        if !range.contains(&value) {
            let path = self.path(key);
            src.error(
                span,
                &path,
                format!(
                    "{value}{unit} is out of range ({}..={}{unit})",
                    range.start(),
                    range.end()
                ),
            );
            return None;
        }
        Some(value)
    }

    /// A number (integer or float) within `range`.
    pub fn number(
        &mut self,
        src: &mut Source,
        key: &'static str,
        required: bool,
        range: RangeInclusive<f64>,
    ) -> Option<f64> {
        let as_number = |v: &Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
        let (value, span) = self.typed(src, key, required, "a number", as_number)?;
        if !range.contains(&value) {
            let path = self.path(key);
            src.error(
                span,
                &path,
                format!("{value} is out of range ({}..={})", range.start(), range.end()),
            );
            return None;
        }
        Some(value)
    }

    /// A sub-table (`[name]` or an inline `{ ... }`).
    pub fn table(&mut self, src: &mut Source, key: &'static str, required: bool) -> Option<Fields<'t>> {
        let item = self.item(src, key, required)?;
        let path = self.path(key);
        match item.as_table_like() {
            Some(table) => Some(Fields::new(table, path, item.span())),
            None => {
                src.error(
                    item.span(),
                    &path,
                    format!("expected a table, found {}", describe(item)),
                );
                None
            }
        }
    }

    /// An array of tables (`[[name]]`), each with its own path `name[i]`.
    pub fn tables(&mut self, src: &mut Source, key: &'static str, required: bool) -> Vec<Fields<'t>> {
        let Some(item) = self.item(src, key, required) else {
            return Vec::new();
        };
        let path = self.path(key);
        match item {
            Item::ArrayOfTables(array) => array
                .iter()
                .enumerate()
                .map(|(i, t)| Fields::new(t, format!("{path}[{i}]"), t.span()))
                .collect(),
            Item::Value(Value::Array(array)) if array.iter().all(|v| v.as_inline_table().is_some()) => array
                .iter()
                .enumerate()
                .map(|(i, v)| Fields::new(v.as_inline_table().unwrap(), format!("{path}[{i}]"), v.span()))
                .collect(),
            other => {
                src.error(
                    other.span(),
                    &path,
                    format!("expected an array of tables, found {}", describe(other)),
                );
                Vec::new()
            }
        }
    }

    /// Reports every key that no getter asked for.
    pub fn finish(self, src: &mut Source) {
        for (key, _) in self.table.iter() {
            if !self.known.contains(&key) {
                let span = self.table.get_key_value(key).and_then(|(k, _)| k.span());
                let path = self.path(key);
                src.error(
                    span,
                    &path,
                    format!("unknown key (expected one of: {})", self.known.join(", ")),
                );
            }
        }
    }
}

fn describe(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(v) => match v {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a datetime",
            Value::Array(_) => "an array",
            Value::InlineTable(_) => "a table",
        },
    }
}

/// A free-form TOML table as JSON, for plugin configs. Datetimes become strings.
pub fn to_json(item: &Item) -> serde_json::Value {
    use serde_json::Value as J;
    fn value(v: &Value) -> J {
        match v {
            Value::String(s) => J::String(s.value().clone()),
            Value::Integer(i) => J::from(*i.value()),
            Value::Float(f) => serde_json::Number::from_f64(*f.value()).map_or(J::Null, J::Number),
            Value::Boolean(b) => J::Bool(*b.value()),
            Value::Datetime(d) => J::String(d.value().to_string()),
            Value::Array(a) => J::Array(a.iter().map(value).collect()),
            Value::InlineTable(t) => J::Object(t.iter().map(|(k, v)| (k.to_owned(), value(v))).collect()),
        }
    }
    match item {
        Item::None => J::Null,
        Item::Value(v) => value(v),
        Item::Table(t) => J::Object(t.iter().map(|(k, v)| (k.to_owned(), to_json(v))).collect()),
        Item::ArrayOfTables(a) => J::Array(
            a.iter()
                .map(|t| J::Object(t.iter().map(|(k, v)| (k.to_owned(), to_json(v))).collect()))
                .collect(),
        ),
    }
}
