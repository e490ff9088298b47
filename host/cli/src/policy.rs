//! `vodpipe policy check|init`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use vodpipe_policy::{BundleFiles, DirFiles, parse_ladder};
use vodpipe_runtime::reload::{LoadError, load};
use vodpipe_runtime::{Limits, PluginRuntime};

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate a bundle: its manifest, every preset, every plugin (loaded, with its
    /// validate-config run). Prints all problems; exits non-zero on any.
    Check {
        /// Bundle directory; the built-in bundle when omitted.
        dir: Option<PathBuf>,
    },
    /// Write the built-in bundle (manifest, presets, plugins) to DIR, to edit and use with --policy.
    Init {
        dir: PathBuf,
        /// Overwrite an existing bundle.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Check { dir } => check(dir.as_deref()),
        PolicyCommand::Init { dir, force } => init(&dir, force),
    }
}

/// The bundle in `dir`, or the built-in one.
pub fn files(dir: Option<&Path>) -> Box<dyn BundleFiles> {
    match dir {
        Some(dir) => Box::new(DirFiles(dir.to_owned())),
        None => Box::new(vodpipe_plugin_artifacts::builtin_files()),
    }
}

fn check(dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let files = files(dir);
    let runtime = PluginRuntime::new(crate::cache_dir(), Limits::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut problems: Vec<String> = Vec::new();

    // Presets that are not active are checked too: they are one edit away from being used.
    for rel in files.list("ladders").iter().filter(|p| p.ends_with(".toml")) {
        let stem = rel.trim_start_matches("ladders/").trim_end_matches(".toml");
        let text = files.read(rel)?.unwrap_or_default();
        let text = String::from_utf8(text).with_context(|| format!("{} is not UTF-8", files.describe(rel)))?;
        if let Err(d) = parse_ladder(&files.describe(rel), &text, Some(stem)) {
            problems.extend(d.0.iter().map(ToString::to_string));
        }
    }
    let loaded = load(&runtime, files.as_ref(), None);
    match &loaded {
        Ok(_) => {}
        Err(LoadError::Bundle(d)) => problems.extend(d.0.iter().map(ToString::to_string)),
        Err(LoadError::Plugins(errors)) => problems.extend(errors.iter().map(ToString::to_string)),
    }
    // The active preset is read twice (above and by the bundle): report each problem once.
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.clone()));

    match loaded {
        Ok(policy) if problems.is_empty() => {
            println!("ok: bundle `{}` ({})", policy.bundle_name, policy.content_hash);
            for (name, stage) in policy.plugin_names() {
                println!("  {stage:<15} {name}");
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            for p in &problems {
                println!("{p}");
            }
            eprintln!(
                "policy check failed: {} problem{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn init(dir: &Path, force: bool) -> anyhow::Result<ExitCode> {
    if dir.join(vodpipe_policy::bundle::MANIFEST).exists() && !force {
        bail!("{} already holds a bundle (use --force to overwrite it)", dir.display());
    }
    for (rel, bytes) in vodpipe_plugin_artifacts::builtin_bundle() {
        let path = dir.join(&rel);
        std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("wrote the built-in bundle to {}", dir.display());
    println!(
        "edit {0}/ladders/*.toml or {0}/bundle.toml, then: vodpipe policy check {0}",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
