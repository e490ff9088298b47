//! Positions for the problems a plugin finds in its config. The plugin sees JSON and dotted
//! key paths; its author wrote TOML, so each problem is pointed back at the line of the
//! preset (`[plugin]`) or of `bundle.toml` (`[job_builder.config]`, `[post_processor.config]`)
//! it came from.

use std::ops::Range;

use toml_edit::{Item, TableLike};
use vodpipe_core::{ConfigProblem, Stage};

use crate::bundle::{Bundle, BundleFiles, MANIFEST};
use crate::diag::{Diagnostic, Diagnostics};

/// One diagnostic per problem `plugin` (the `stage` plugin of `bundle`) found in its config,
/// at the value its key names (or the nearest table of the path that exists), with the key
/// path as written in the file (`plugin.keep`, `job_builder.config.gop_seconds`), in file
/// order.
pub fn locate_config_problems(
    files: &dyn BundleFiles,
    bundle: &Bundle,
    stage: Stage,
    plugin: &str,
    problems: &[ConfigProblem],
) -> Diagnostics {
    let (rel, table_path): (String, &[&str]) = match stage {
        Stage::Planner => (format!("ladders/{}.toml", bundle.preset.name), &["plugin"]),
        Stage::JobBuilder => (MANIFEST.to_owned(), &["job_builder", "config"]),
        Stage::PostProcessor => (MANIFEST.to_owned(), &["post_processor", "config"]),
    };
    // The file was read and parsed when the bundle loaded; if it has changed since, the
    // problems are still reported, without a position.
    let text = files
        .read(&rel)
        .ok()
        .flatten()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    let doc = toml_edit::Document::parse(text.as_str()).ok();
    let file = files.describe(&rel);
    let mut found = Diagnostics::default();
    for problem in problems {
        let path: Vec<&str> = table_path
            .iter()
            .copied()
            .chain(problem.key.split('.').filter(|k| !k.is_empty()))
            .collect();
        let span = doc.as_ref().and_then(|doc| nearest_span(doc.as_table(), &path));
        found.push(Diagnostic::new(
            &file,
            &text,
            span,
            &path.join("."),
            format!("{} (plugin `{plugin}`, {stage})", problem.message),
        ));
    }
    found.sorted()
}

/// The span of the item at `path`, or of the deepest item on the way that has one.
fn nearest_span(root: &dyn TableLike, path: &[&str]) -> Option<Range<usize>> {
    let mut table = root;
    let mut span = None;
    for key in path {
        let Some(item) = table.get(key) else { break };
        span = item.span().or(span);
        match item {
            Item::Table(_) | Item::Value(toml_edit::Value::InlineTable(_)) => {
                table = item.as_table_like().expect("a table");
            }
            _ => break,
        }
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{MemoryFiles, sha256_hex};

    fn bundle_files() -> MemoryFiles {
        let wasm = b"\0asm";
        let sha = sha256_hex(wasm);
        let manifest = format!(
            "schema = 1\nname = \"t\"\n\n[ladder]\npreset = \"p\"\n\n\
             [planner]\nplugin = \"plugins/a.wasm\"\nsha256 = \"{sha}\"\n\n\
             [job_builder]\nplugin = \"plugins/a.wasm\"\nsha256 = \"{sha}\"\n\n\
             [job_builder.config]\ngop_seconds = 2\nnested = {{ deep = 1 }}\n\n\
             [post_processor]\nplugin = \"plugins/a.wasm\"\nsha256 = \"{sha}\"\n"
        );
        let preset = "schema = 1\nname = \"p\"\nsegment_seconds = 6\nframe_rate_cap = 60\n\n\
             [[rungs]]\nname = \"720p\"\nshort_side = 720\nvideo_kbps = 3000\nmax_kbps = 4500\n\
             profile = \"high\"\nlevel = \"auto\"\naudio_kbps = 128\n\n\
             [plugin]\nmax_renditions = 2.5\nkeep = \"middle\"\n";
        let mut files = MemoryFiles {
            label: "b".into(),
            ..Default::default()
        };
        files.files.insert(MANIFEST.into(), manifest.into_bytes());
        files.files.insert("ladders/p.toml".into(), preset.as_bytes().to_vec());
        files.files.insert("plugins/a.wasm".into(), wasm.to_vec());
        files
    }

    fn problem(key: &str, message: &str) -> ConfigProblem {
        ConfigProblem {
            key: key.into(),
            message: message.into(),
        }
    }

    #[test]
    fn each_problem_is_placed_at_its_key_in_the_file_it_was_written_in() {
        let files = bundle_files();
        let bundle = Bundle::load(&files, None).unwrap_or_else(|d| panic!("{d}"));
        let planner = locate_config_problems(
            &files,
            &bundle,
            Stage::Planner,
            "cap",
            &[
                problem("max_renditions", "2.5 is not a whole number"),
                problem("keep", "bad"),
            ],
        );
        let lines: Vec<String> = planner.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "b/ladders/p.toml:16:18: plugin.max_renditions: 2.5 is not a whole number (plugin `cap`, planner)",
                "b/ladders/p.toml:17:8: plugin.keep: bad (plugin `cap`, planner)",
            ]
        );
        let job = locate_config_problems(
            &files,
            &bundle,
            Stage::JobBuilder,
            "hls",
            &[
                problem("nested.deep", "no"),
                problem("colour", "unknown key"),
                problem("", "whole"),
            ],
        );
        let lines: Vec<String> = job.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                // Not in the file (a key the plugin misses): the table it belongs in.
                "b/bundle.toml:15:1: job_builder.config.colour: unknown key (plugin `hls`, job-builder)",
                "b/bundle.toml:15:1: job_builder.config: whole (plugin `hls`, job-builder)",
                "b/bundle.toml:17:19: job_builder.config.nested.deep: no (plugin `hls`, job-builder)",
            ]
        );
    }
}
