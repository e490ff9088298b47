//! `vodpipe plugin new NAME --stage STAGE`: a plugin project that builds, for an author to
//! start from (docs/plugins.md, "The author's loop").

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Write a new plugin project: Cargo.toml, src/lib.rs (a working plugin of the stage),
    /// rust-toolchain.toml, rustfmt.toml and the SDK's Cargo.lock, ready for
    /// `cargo build --release --target wasm32-wasip2`.
    New {
        /// The plugin's name: its package name and, as `NAME.wasm`, its name in a bundle.
        /// Lowercase letters, digits and '-', starting with a letter.
        name: String,
        /// Which stage the plugin serves.
        #[arg(long, value_enum)]
        stage: StageArg,
        /// Where to write the project (default: ./NAME). Must not exist or be empty.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The SDK (`plugins/sdk` of a vodpipe checkout) the project depends on by path
        /// (default: the one this vodpipe was built from, if it is still there).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum StageArg {
    Planner,
    JobBuilder,
    PostProcessor,
}

impl StageArg {
    /// The SDK feature and world.
    fn world(self) -> &'static str {
        match self {
            StageArg::Planner => "planner",
            StageArg::JobBuilder => "job-builder",
            StageArg::PostProcessor => "post-processor",
        }
    }

    fn template(self) -> &'static str {
        match self {
            StageArg::Planner => include_str!("../templates/planner.rs"),
            StageArg::JobBuilder => include_str!("../templates/job-builder.rs"),
            StageArg::PostProcessor => include_str!("../templates/post-processor.rs"),
        }
    }

    /// The bundle table that names the plugin of this stage.
    fn bundle_table(self) -> &'static str {
        match self {
            StageArg::Planner => "planner",
            StageArg::JobBuilder => "job_builder",
            StageArg::PostProcessor => "post_processor",
        }
    }
}

/// Where the SDK of the checkout this binary was built from is.
const BUILT_FROM_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/sdk");

pub fn run(command: PluginCommand) -> anyhow::Result<ExitCode> {
    match command {
        PluginCommand::New { name, stage, dir, sdk } => new(&name, stage, dir, sdk),
    }
}

fn new(name: &str, stage: StageArg, dir: Option<PathBuf>, sdk: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    check_name(name)?;
    let sdk = match sdk {
        Some(sdk) => sdk,
        None => PathBuf::from(BUILT_FROM_SDK),
    };
    let sdk = sdk.canonicalize().map_err(|_| {
        anyhow::anyhow!(
            "no plugin SDK at {}: pass --sdk PATH, the `plugins/sdk` directory of a vodpipe checkout",
            sdk.display()
        )
    })?;
    let sdk_manifest = std::fs::read_to_string(sdk.join("Cargo.toml")).unwrap_or_default();
    if !sdk_manifest
        .lines()
        .any(|l| l.trim() == "name = \"vodpipe-plugin-sdk\"")
    {
        bail!(
            "{} is not the plugin SDK (no Cargo.toml of `vodpipe-plugin-sdk`): pass --sdk PATH, the `plugins/sdk` \
             directory of a vodpipe checkout",
            sdk.display()
        );
    }
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    if dir.read_dir().is_ok_and(|mut entries| entries.next().is_some()) {
        bail!("{} already exists and is not empty", dir.display());
    }
    std::fs::create_dir_all(dir.join("src")).with_context(|| format!("creating {}", dir.display()))?;
    let project = dir.canonicalize()?;
    let sdk_path = relative(&project, &sdk);

    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    write("Cargo.toml", &manifest(name, stage, &sdk_path))?;
    write("src/lib.rs", &lib_rs(name, stage))?;
    // The toolchain vodpipe is built and tested with, which has the wasm32-wasip2 target.
    write("rust-toolchain.toml", include_str!("../../../rust-toolchain.toml"))?;
    write(".gitignore", "/target\n")?;
    // vodpipe's own style, which src/lib.rs is written in, so `cargo fmt` leaves it be.
    write("rustfmt.toml", "max_width = 120\n")?;
    // The versions the SDK is built and tested with; cargo trims what the plugin does not use.
    let lock = sdk.parent().map(|plugins| plugins.join("Cargo.lock"));
    if let Some(lock) = lock.filter(|l| l.is_file()) {
        std::fs::copy(&lock, dir.join("Cargo.lock")).with_context(|| format!("copying {}", lock.display()))?;
    }

    let d = dir.display();
    let artifact = name.replace('-', "_");
    println!("wrote the {} plugin `{name}` in {d}", stage.world());
    println!("build it:  (cd {d} && cargo build --release --target wasm32-wasip2)");
    // Where cargo puts it unless CARGO_TARGET_DIR says otherwise.
    let target = std::env::var("CARGO_TARGET_DIR")
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("{d}/target"));
    println!("it is:     {target}/wasm32-wasip2/release/{artifact}.wasm");
    println!(
        "use it:    copy it to BUNDLE/plugins/{name}.wasm, set `plugin = \"plugins/{name}.wasm\"` under [{}] in \
         BUNDLE/bundle.toml, then vodpipe policy pin BUNDLE && vodpipe policy check BUNDLE",
        stage.bundle_table()
    );
    Ok(ExitCode::SUCCESS)
}

/// A package name that is also a good file stem in a bundle.
fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        bail!("`{name}` is not a plugin name: use 1-64 lowercase letters, digits and '-', starting with a letter");
    }
    Ok(())
}

fn manifest(name: &str, stage: StageArg, sdk_path: &str) -> String {
    let world = stage.world();
    format!(
        r#"# A vodpipe {world} plugin, made by `vodpipe plugin new`; see vodpipe's docs/plugins.md.
[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
vodpipe-plugin-sdk = {{ path = "{sdk_path}", features = ["{world}"] }}

# Small components: the settings of vodpipe's own plugins.
[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
panic = "abort"
strip = true
debug = false

# A workspace of its own, wherever this directory is.
[workspace]
"#
    )
}

fn lib_rs(name: &str, stage: StageArg) -> String {
    stage
        .template()
        .replace("PLUGIN_NAME", name)
        .replace("PluginName", &type_name(name))
}

/// `my-planner` → `MyPlanner`.
fn type_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `to` relative to `from` (both absolute), with `/` separators as Cargo.toml wants, so a
/// project next to (or inside) a checkout can move with it; absolute when they share no
/// directory but the root.
fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<Component> = from.components().collect();
    let to_parts: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to_parts).take_while(|(a, b)| a == b).count();
    if common <= 1 {
        return to.display().to_string();
    }
    let to = to_parts;
    let mut parts: Vec<String> = vec!["..".to_owned(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(type_name("my-planner2"), "MyPlanner2");
        assert!(check_name("cap-3").is_ok());
        for bad in ["", "Cap", "3cap", "my_cap", "cap/../x"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert_eq!(relative(Path::new("/a/b/c"), Path::new("/a/x/sdk")), "../../x/sdk");
        assert_eq!(relative(Path::new("/a"), Path::new("/a/plugins/sdk")), "plugins/sdk");
        assert_eq!(
            relative(Path::new("/tmp/p"), Path::new("/a/plugins/sdk")),
            "/a/plugins/sdk"
        );
    }

    #[test]
    fn the_guide_shows_the_manifest_as_written() {
        let guide = include_str!("../../../docs/plugins.md");
        let written = manifest("ladder-cap", StageArg::Planner, "../vodpipe/plugins/sdk");
        assert!(guide.contains(&written), "docs/plugins.md does not show:\n{written}");
    }
}
