//! Pinning a bundle's plugins: `bundle.toml`'s `sha256` keys rewritten to the hash of each
//! stage's plugin file as it is now, with the manifest's comments and layout kept
//! (`vodpipe policy pin DIR`).

use toml_edit::Item;
use vodpipe_core::Stage;

use crate::bundle::{BundleFiles, MANIFEST, sha256_hex};
use crate::diag::{Diagnostic, Diagnostics};
use crate::fields::Source;

/// One pin that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinChange {
    pub stage: Stage,
    /// The plugin file, relative to the bundle.
    pub plugin: String,
    /// What the manifest pinned before: `None` when it had no `sha256` (or not a string).
    pub old: Option<String>,
    pub new: String,
}

/// The manifest with every pin matching its plugin, and what changed.
#[derive(Debug, Clone)]
pub struct Pinned {
    /// The new text of `bundle.toml`; equal to the old one when nothing changed.
    pub manifest: String,
    pub changes: Vec<PinChange>,
}

/// Hashes each stage's plugin and sets its `sha256` in the manifest. Nothing else is
/// checked (`vodpipe policy check` does that); a stage whose plugin cannot be hashed (no
/// `plugin` key, a path outside the bundle, a missing file) is reported with its position,
/// and then no pin is changed.
pub fn pin(files: &dyn BundleFiles) -> Result<Pinned, Diagnostics> {
    let manifest_name = files.describe(MANIFEST);
    let single = |message: String| Diagnostics(vec![Diagnostic::new(&manifest_name, "", None, "", message)]);
    let text = match files.read(MANIFEST) {
        Ok(Some(bytes)) => String::from_utf8(bytes).map_err(|_| single("the file is not UTF-8 text".into()))?,
        Ok(None) => {
            return Err(single(
                "no bundle manifest here (run `vodpipe policy init DIR` to create one)".into(),
            ));
        }
        Err(e) => return Err(single(format!("cannot read: {e}"))),
    };
    let mut src = Source::new(&manifest_name, &text);
    let Some(doc) = src.parse() else {
        return Err(src.diagnostics);
    };

    // Edits are made on the text at the parsed positions, so everything else (comments,
    // order, spacing) stays byte for byte.
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut changes = Vec::new();
    for stage in Stage::ALL {
        let key = stage.bundle_key();
        let item = doc.as_table().get(key);
        let Some(hashed) = hash_stage(&mut src, files, item, key) else {
            continue;
        };
        let table = item
            .and_then(Item::as_table_like)
            .expect("read by hash_stage as a table");
        let pinned = table.get("sha256");
        let old = pinned.and_then(Item::as_str).map(str::to_owned);
        if old.as_deref() == Some(hashed.sha256.as_str()) {
            continue;
        }
        let quoted = format!("\"{}\"", hashed.sha256);
        match pinned.and_then(Item::span) {
            Some(span) => edits.push((span, quoted)),
            // No pin yet: written right after the plugin's path.
            None => {
                let after_plugin = hashed.plugin_span.end;
                let line = if item.is_some_and(Item::is_inline_table) {
                    format!(", sha256 = {quoted}")
                } else {
                    format!("\nsha256 = {quoted}")
                };
                edits.push((after_plugin..after_plugin, line));
            }
        }
        changes.push(PinChange {
            stage,
            plugin: hashed.plugin,
            old,
            new: hashed.sha256,
        });
    }
    if !src.diagnostics.is_empty() {
        return Err(src.diagnostics.sorted());
    }
    let mut manifest = text.clone();
    edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    for (span, replacement) in edits {
        manifest.replace_range(span, &replacement);
    }
    Ok(Pinned { manifest, changes })
}

struct Hashed {
    plugin: String,
    /// Where the plugin's path is in the manifest.
    plugin_span: std::ops::Range<usize>,
    sha256: String,
}

fn hash_stage(src: &mut Source, files: &dyn BundleFiles, item: Option<&Item>, key: &str) -> Option<Hashed> {
    let Some(item) = item else {
        src.error(None, key, "missing required key");
        return None;
    };
    let Some(table) = item.as_table_like() else {
        src.error(item.span(), key, "expected a table with `plugin` and `sha256`");
        return None;
    };
    let plugin_key = format!("{key}.plugin");
    let Some(plugin) = table.get("plugin") else {
        src.error(item.span(), &plugin_key, "missing required key");
        return None;
    };
    let span = plugin.span();
    let (Some(path), Some(plugin_span)) = (plugin.as_str(), span.clone()) else {
        src.error(span, &plugin_key, "expected a string");
        return None;
    };
    if !vodpipe_core::action::safe_relative_path(path) || !path.ends_with(".wasm") {
        src.error(
            span,
            &plugin_key,
            "must be a relative path to a .wasm file inside the bundle",
        );
        return None;
    }
    match files.read(path) {
        Ok(Some(wasm)) => Some(Hashed {
            plugin: path.to_owned(),
            plugin_span,
            sha256: sha256_hex(&wasm),
        }),
        Ok(None) => {
            let message = format!("missing plugin: `{}` does not exist", files.describe(path));
            src.error(span, &plugin_key, message);
            None
        }
        Err(e) => {
            let message = format!("cannot read `{}`: {e}", files.describe(path));
            src.error(span, &plugin_key, message);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::MemoryFiles;

    const MANIFEST_TEXT: &str = r#"# my policy
schema = 1
name = "mine"

[ladder]
preset = "default"

[planner]
plugin = "plugins/planner.wasm"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"  # paste here

[job_builder]
plugin = "plugins/job.wasm"

[job_builder.config]
gop_seconds = 2

[post_processor]
plugin = "plugins/post.wasm"
sha256 = "SHA_OF_POST"
"#;

    fn files(manifest: &str, plugins: &[&str]) -> MemoryFiles {
        let mut files = MemoryFiles {
            label: "mine".into(),
            ..Default::default()
        };
        files.files.insert(MANIFEST.into(), manifest.as_bytes().to_vec());
        for name in plugins {
            files
                .files
                .insert(format!("plugins/{name}.wasm"), name.as_bytes().to_vec());
        }
        files
    }

    #[test]
    fn pins_every_plugin_to_its_hash_and_keeps_the_rest_of_the_file() {
        let manifest = MANIFEST_TEXT.replace("SHA_OF_POST", &sha256_hex(b"post"));
        let pinned = pin(&files(&manifest, &["planner", "job", "post"])).unwrap();
        let (planner, job) = (sha256_hex(b"planner"), sha256_hex(b"job"));
        assert_eq!(
            pinned.changes,
            [
                PinChange {
                    stage: Stage::Planner,
                    plugin: "plugins/planner.wasm".into(),
                    old: Some("0".repeat(64)),
                    new: planner.clone(),
                },
                PinChange {
                    stage: Stage::JobBuilder,
                    plugin: "plugins/job.wasm".into(),
                    old: None,
                    new: job.clone(),
                },
            ]
        );
        let expected = manifest.replace(&"0".repeat(64), &planner).replace(
            "plugin = \"plugins/job.wasm\"\n",
            &format!("plugin = \"plugins/job.wasm\"\nsha256 = \"{job}\"\n"),
        );
        assert_eq!(pinned.manifest, expected);
        // Pinned again: nothing to do.
        let again = pin(&files(&pinned.manifest, &["planner", "job", "post"])).unwrap();
        assert!(again.changes.is_empty());
        assert_eq!(again.manifest, pinned.manifest);
    }

    #[test]
    fn a_missing_plugin_file_is_named_with_its_position_and_nothing_is_pinned() {
        let report = pin(&files(MANIFEST_TEXT, &["planner"])).unwrap_err().to_string();
        assert_eq!(
            report,
            "mine/bundle.toml:13:10: job_builder.plugin: missing plugin: `mine/plugins/job.wasm` does not exist\n\
             mine/bundle.toml:19:10: post_processor.plugin: missing plugin: `mine/plugins/post.wasm` does not exist\n\
             2 problems"
        );
    }

    #[test]
    fn a_plugin_path_outside_the_bundle_is_refused() {
        let manifest = MANIFEST_TEXT.replace("plugins/planner.wasm", "../planner.wasm");
        let report = pin(&files(&manifest, &["job", "post"])).unwrap_err().to_string();
        assert!(
            report.contains(
                "bundle.toml:9:10: planner.plugin: must be a relative path to a .wasm file inside the bundle"
            ),
            "{report}"
        );
    }
}
