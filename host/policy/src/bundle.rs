//! The policy bundle: `bundle.toml` plus the files it names, the unit that is validated,
//! activated and rolled back.
//!
//! ```toml
//! schema = 1
//! name = "default"
//!
//! [ladder]
//! preset = "default"                     # ladders/default.toml
//!
//! [planner]
//! plugin = "plugins/ladder-table.wasm"
//! sha256 = "<64 hex digits>"
//!
//! [job_builder]
//! plugin = "plugins/mediaconvert-hls.wasm"
//! sha256 = "<64 hex digits>"
//! config = { gop_seconds = 2 }          # optional, checked by the plugin's validate-config
//!
//! [post_processor]
//! plugin = "plugins/post-default.wasm"
//! sha256 = "<64 hex digits>"
//!
//! [cost]                                 # optional: without it, no cost estimates
//! model = "pricing/aws.toml"             # the cost model, see `crate::cost`
//! ```

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use vodpipe_core::{CostModel, LadderPreset, Stage};

use crate::cost::parse_cost_model;
use crate::diag::{Diagnostic, Diagnostics};
use crate::fields::{Fields, Source, to_json};
use crate::ladder::parse_ladder;

/// The only bundle schema this host reads.
pub const BUNDLE_SCHEMA: i64 = 1;
pub const MANIFEST: &str = "bundle.toml";
/// Plugins larger than this are refused before they reach the compiler.
pub const MAX_PLUGIN_BYTES: usize = 16 << 20;

/// Where a bundle's files come from: a directory, or memory (the built-in bundle, or one
/// downloaded from object storage).
pub trait BundleFiles {
    /// How positions name the file `rel`.
    fn describe(&self, rel: &str) -> String;
    /// `Ok(None)` when the file does not exist.
    fn read(&self, rel: &str) -> io::Result<Option<Vec<u8>>>;
    /// Relative paths of the files directly in `dir`, sorted.
    fn list(&self, dir: &str) -> Vec<String>;
}

/// A bundle on disk.
pub struct DirFiles(pub PathBuf);

impl BundleFiles for DirFiles {
    fn describe(&self, rel: &str) -> String {
        self.0.join(rel).display().to_string()
    }

    fn read(&self, rel: &str) -> io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.0.join(rel)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn list(&self, dir: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.0.join(dir))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .map(|name| format!("{dir}/{name}"))
            .collect();
        names.sort();
        names
    }
}

/// A bundle held in memory, keyed by relative path.
#[derive(Debug, Clone, Default)]
pub struct MemoryFiles {
    pub label: String,
    pub files: BTreeMap<String, Vec<u8>>,
}

impl BundleFiles for MemoryFiles {
    fn describe(&self, rel: &str) -> String {
        format!("{}/{rel}", self.label)
    }

    fn read(&self, rel: &str) -> io::Result<Option<Vec<u8>>> {
        Ok(self.files.get(rel).cloned())
    }

    fn list(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        self.files
            .keys()
            .filter(|k| k.strip_prefix(&prefix).is_some_and(|rest| !rest.contains('/')))
            .cloned()
            .collect()
    }
}

/// A plugin named by the bundle, its bytes already checked against the pinned sha256.
#[derive(Debug, Clone)]
pub struct StagePlugin {
    pub stage: Stage,
    /// Relative path inside the bundle.
    pub path: String,
    pub sha256: String,
    pub wasm: Arc<[u8]>,
    /// The stage's `config` table as JSON (`{}` when absent).
    pub config: serde_json::Value,
}

impl StagePlugin {
    /// The plugin's name for logs and errors: its file stem.
    pub fn name(&self) -> &str {
        Path::new(&self.path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(&self.path)
    }
}

/// A loaded, fully checked bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub name: String,
    pub preset: LadderPreset,
    pub planner: StagePlugin,
    pub job_builder: StagePlugin,
    pub post_processor: StagePlugin,
    /// The planners under `[planners]`, for presets written for them (`planner` is already
    /// the one the active preset names).
    pub pinned_planners: Vec<StagePlugin>,
    /// Every preset file in `ladders/`, by name, so another can be previewed.
    pub presets: Vec<String>,
    /// The prices cost estimates are made with; `None` when the manifest names no cost model.
    pub cost_model: Option<CostModel>,
    /// The cost model's file, relative to the bundle (`pricing/aws.toml`).
    pub cost_model_file: Option<String>,
    /// Hash over the manifest, the active preset, the cost model and the plugins: equal
    /// hashes, equal policy.
    pub content_hash: String,
}

impl Bundle {
    pub fn stages(&self) -> [&StagePlugin; 3] {
        [&self.planner, &self.job_builder, &self.post_processor]
    }

    /// Every plugin the bundle pins, each once: the three stages, then the planners under
    /// `[planners]` (what publishing uploads and precompiles).
    pub fn plugins(&self) -> Vec<&StagePlugin> {
        let mut plugins: Vec<&StagePlugin> = self.stages().into();
        for planner in &self.pinned_planners {
            if !plugins.iter().any(|p| p.path == planner.path) {
                plugins.push(planner);
            }
        }
        plugins
    }

    /// Loads and checks a bundle. `preset` overrides the manifest's active preset (to preview
    /// another one). Every problem in every file is reported; nothing partial is returned.
    pub fn load(files: &dyn BundleFiles, preset: Option<&str>) -> Result<Bundle, Diagnostics> {
        let manifest_name = files.describe(MANIFEST);
        let text = match files.read(MANIFEST) {
            Ok(Some(bytes)) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => return Err(single(&manifest_name, "the file is not UTF-8 text")),
            },
            Ok(None) => {
                return Err(single(
                    &manifest_name,
                    "no bundle manifest here (run `vodpipe policy init DIR` to create one)",
                ));
            }
            Err(e) => return Err(single(&manifest_name, format!("cannot read: {e}"))),
        };
        let mut src = Source::new(&manifest_name, &text);
        let mut hasher = Sha256::new();
        hasher.update(text.as_bytes());
        let read = read_manifest(&mut src, files, preset, &mut hasher);
        let mut diagnostics = std::mem::take(&mut src.diagnostics);
        let Parts {
            name,
            preset,
            stages: [planner, job_builder, post_processor],
            pinned_planners,
            presets,
            cost,
        } = match read {
            Ok(parts) if diagnostics.is_empty() => parts,
            Ok(_) => return Err(diagnostics.sorted()),
            Err(more) => {
                diagnostics.extend(more);
                return Err(diagnostics.sorted());
            }
        };
        Ok(Bundle {
            name,
            preset,
            planner,
            job_builder,
            post_processor,
            pinned_planners,
            presets,
            cost_model_file: cost.as_ref().map(|(file, _)| file.clone()),
            cost_model: cost.map(|(_, model)| model),
            content_hash: hex(&hasher.finalize()),
        })
    }
}

struct Parts {
    name: String,
    preset: LadderPreset,
    stages: [StagePlugin; 3],
    pinned_planners: Vec<StagePlugin>,
    presets: Vec<String>,
    /// The cost model's file and what it says.
    cost: Option<(String, CostModel)>,
}

fn read_manifest(
    src: &mut Source,
    files: &dyn BundleFiles,
    preset_override: Option<&str>,
    hasher: &mut Sha256,
) -> Result<Parts, Diagnostics> {
    let mut other_files = Diagnostics::default();
    let Some(doc) = src.parse() else {
        return Err(other_files);
    };
    let mut root = Fields::new(doc.as_table(), "", None);
    let schema = root.integer(src, "schema", true, BUNDLE_SCHEMA..=BUNDLE_SCHEMA, "");
    let name = root.string(src, "name", true).map(|(n, _)| n);

    let presets: Vec<String> = files
        .list("ladders")
        .iter()
        .filter_map(|p| p.strip_prefix("ladders/")?.strip_suffix(".toml").map(str::to_owned))
        .collect();
    let mut preset = None;
    if let Some(mut ladder) = root.table(src, "ladder", true) {
        if let Some((active, span)) = ladder.string(src, "preset", true) {
            let chosen = preset_override.unwrap_or(&active);
            let rel = format!("ladders/{chosen}.toml");
            let readable = if vodpipe_core::plan::valid_name(chosen) {
                read_text(files, &rel)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a preset name is letters, digits, '-' or '_'",
                ))
            };
            match readable {
                Ok(Some(text)) => {
                    hasher.update(text.as_bytes());
                    match parse_ladder(&files.describe(&rel), &text, Some(chosen)) {
                        Ok(p) => preset = Some(p),
                        Err(d) => other_files.extend(d),
                    }
                }
                Ok(None) if preset_override.is_some() => other_files.push(Diagnostic::new(
                    &files.describe(&rel),
                    "",
                    None,
                    "",
                    format!("no preset `{chosen}` in this bundle (presets: {})", presets.join(", ")),
                )),
                Ok(None) => src.error(
                    span,
                    "ladder.preset",
                    format!("`{rel}` does not exist (presets: {})", presets.join(", ")),
                ),
                Err(e) => src.error(span, "ladder.preset", format!("cannot read `{rel}`: {e}")),
            }
        }
        ladder.finish(src);
    }

    let mut stages = Stage::ALL.map(|stage| read_stage(src, &mut root, files, stage, hasher));
    let other_planners = read_other_planners(src, &mut root, files, hasher);
    // A preset written for another planner runs with it, when the bundle pins it.
    if let (Some(preset), Some(planner)) = (&preset, &stages[0])
        && let Some(wanted) = &preset.planner
        && wanted != planner.name()
    {
        match other_planners.iter().find(|(name, _)| name == wanted) {
            Some((_, plugin)) => stages[0] = plugin.clone(),
            None => other_files.push(Diagnostic::new(
                &files.describe(&format!("ladders/{}.toml", preset.name)),
                "",
                None,
                "planner",
                format!(
                    "the preset is written for planner `{wanted}`, which this bundle neither runs (`[planner]` is `{}`) nor pins (`[planners.{wanted}]`)",
                    planner.name()
                ),
            )),
        }
    }
    let cost = read_cost(src, &mut root, files, hasher, &mut other_files);
    root.finish(src);

    if !other_files.is_empty() {
        return Err(other_files);
    }
    let (Some(_), Some(name), Some(preset), [Some(p), Some(j), Some(q)], Some(cost)) =
        (schema, name, preset, stages, cost)
    else {
        return Err(other_files);
    };
    Ok(Parts {
        name,
        preset,
        stages: [p, j, q],
        pinned_planners: other_planners.into_iter().filter_map(|(_, plugin)| plugin).collect(),
        presets,
        cost,
    })
}

/// `[cost] model`: the cost model's file, read, checked and hashed. `Some(None)` when the
/// manifest names none; `None` when it names one that cannot be used (the problems are
/// reported).
fn read_cost(
    src: &mut Source,
    root: &mut Fields,
    files: &dyn BundleFiles,
    hasher: &mut Sha256,
    other_files: &mut Diagnostics,
) -> Option<Option<(String, CostModel)>> {
    let Some(item) = root.item(src, "cost", false) else {
        return Some(None);
    };
    let Some(cost) = item.as_table_like() else {
        src.error(
            item.span(),
            "cost",
            "expected a table: `[cost]` with `model = \"pricing/aws.toml\"`",
        );
        return None;
    };
    let mut table = Fields::new(cost, "cost", item.span());
    let model = table.string(src, "model", true);
    table.finish(src);
    let (rel, span) = model?;
    if !vodpipe_core::action::safe_relative_path(&rel) || !rel.ends_with(".toml") {
        src.error(
            span,
            "cost.model",
            "must be a relative path to a .toml file inside the bundle",
        );
        return None;
    }
    if rel.starts_with("ladders/") {
        // Every file there is read as a preset.
        src.error(
            span,
            "cost.model",
            "must not be in `ladders/`, which holds presets (use `pricing/aws.toml`)",
        );
        return None;
    }
    let text = match read_text(files, &rel) {
        Ok(Some(text)) => text,
        Ok(None) => {
            src.error(
                span,
                "cost.model",
                format!("missing cost model: `{}` does not exist", files.describe(&rel)),
            );
            return None;
        }
        Err(e) => {
            src.error(
                span,
                "cost.model",
                format!("cannot read `{}`: {e}", files.describe(&rel)),
            );
            return None;
        }
    };
    hasher.update(text.as_bytes());
    match parse_cost_model(&files.describe(&rel), &text) {
        Ok(model) => Some(Some((rel, model))),
        Err(d) => {
            other_files.extend(d);
            None
        }
    }
}

fn read_stage(
    src: &mut Source,
    root: &mut Fields,
    files: &dyn BundleFiles,
    stage: Stage,
    hasher: &mut Sha256,
) -> Option<StagePlugin> {
    let table = root.table(src, stage.bundle_key(), true)?;
    read_plugin(src, table, stage.bundle_key(), files, stage, hasher)
}

/// `[planners.NAME]`: the other planners the bundle pins, for presets written for them
/// (a preset's `planner = "NAME"`). Each is read and checked like `[planner]`, whether or
/// not the active preset uses it.
fn read_other_planners(
    src: &mut Source,
    root: &mut Fields,
    files: &dyn BundleFiles,
    hasher: &mut Sha256,
) -> Vec<(String, Option<StagePlugin>)> {
    let Some(item) = root.item(src, "planners", false) else {
        return Vec::new();
    };
    let Some(table) = item.as_table_like() else {
        src.error(item.span(), "planners", "expected a table of `[planners.NAME]` tables");
        return Vec::new();
    };
    let mut planners = Vec::new();
    for (name, entry) in table.iter() {
        let key = format!("planners.{name}");
        let Some(entry_table) = entry.as_table_like() else {
            src.error(entry.span(), &key, "expected a table with `plugin` and `sha256`");
            continue;
        };
        let fields = Fields::new(entry_table, key.clone(), entry.span());
        let plugin = read_plugin(src, fields, &key, files, Stage::Planner, hasher);
        if let Some(plugin) = &plugin
            && plugin.name() != name
        {
            src.error(
                entry.span(),
                &format!("{key}.plugin"),
                format!(
                    "names `{}`; a pinned planner's file is plugins/{name}.wasm",
                    plugin.path
                ),
            );
        }
        planners.push((name.to_owned(), plugin));
    }
    planners
}

fn read_plugin(
    src: &mut Source,
    mut table: Fields,
    key: &str,
    files: &dyn BundleFiles,
    stage: Stage,
    hasher: &mut Sha256,
) -> Option<StagePlugin> {
    let plugin = table.string(src, "plugin", true);
    let pinned = table.string(src, "sha256", true);
    // Free-form: the plugin's own validate-config checks what is inside. The planner's config
    // is the active preset's `[plugin]` table, so a preset and its settings travel together.
    let config = match (stage, table.item(src, "config", false)) {
        (_, None) => serde_json::json!({}),
        (Stage::Planner, Some(item)) => {
            src.error(
                item.span(),
                &format!("{key}.config"),
                "the planner's config is the `[plugin]` table of the ladder preset",
            );
            serde_json::json!({})
        }
        (_, Some(item)) if item.is_table_like() => to_json(item),
        (_, Some(item)) => {
            src.error(item.span(), &format!("{key}.config"), "expected a table");
            serde_json::json!({})
        }
    };
    table.finish(src);

    if let Some((hash, span)) = &pinned
        && !(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    {
        src.error(
            span.clone(),
            &format!("{key}.sha256"),
            "must be 64 lowercase hex digits",
        );
        return None;
    }
    let (path, path_span) = plugin?;
    if !vodpipe_core::action::safe_relative_path(&path) || !path.ends_with(".wasm") {
        src.error(
            path_span,
            &format!("{key}.plugin"),
            "must be a relative path to a .wasm file inside the bundle",
        );
        return None;
    }
    let wasm = match files.read(&path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            src.error(
                path_span,
                &format!("{key}.plugin"),
                format!("missing plugin: `{}` does not exist", files.describe(&path)),
            );
            return None;
        }
        Err(e) => {
            src.error(
                path_span,
                &format!("{key}.plugin"),
                format!("cannot read `{}`: {e}", files.describe(&path)),
            );
            return None;
        }
    };
    if wasm.len() > MAX_PLUGIN_BYTES {
        src.error(
            path_span,
            &format!("{key}.plugin"),
            format!("{} bytes; plugins may be at most {MAX_PLUGIN_BYTES}", wasm.len()),
        );
        return None;
    }
    let actual = sha256_hex(&wasm);
    let (pinned, pinned_span) = pinned?;
    if actual != pinned {
        src.error(
            pinned_span,
            &format!("{key}.sha256"),
            format!("sha256 mismatch: the bundle pins {pinned} but `{path}` has {actual}"),
        );
        return None;
    }
    hasher.update(actual.as_bytes());
    hasher.update(config.to_string().as_bytes());
    Some(StagePlugin {
        stage,
        path,
        sha256: actual,
        wasm: wasm.into(),
        config,
    })
}

fn read_text(files: &dyn BundleFiles, rel: &str) -> io::Result<Option<String>> {
    match files.read(rel)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text")),
    }
}

fn single(file: &str, message: impl Into<String>) -> Diagnostics {
    Diagnostics(vec![Diagnostic::new(file, "", None, "", message)])
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
