//! `vodpipe policy check|init` (a bundle on disk) and `publish|activate|rollback|list` (the
//! bundles of AWS mode, in the policy bucket; see docs/aws.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use vodpipe_aws::S3PolicyStore;
use vodpipe_policy::{BundleFiles, DirFiles, check_ladder};
use vodpipe_runtime::reload::load;
use vodpipe_runtime::{LAMBDA_TARGET, Limits, PluginRuntime};

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate a bundle: its manifest, every preset, the cost model, every plugin (loaded,
    /// with its validate-config run). Prints all problems; exits non-zero on any.
    Check {
        /// Bundle directory; the built-in bundle when omitted.
        dir: Option<PathBuf>,
    },
    /// Set each stage's `sha256` in DIR/bundle.toml to the hash of its plugin file as it is
    /// now, keeping the file's comments and layout; prints each pin it changed.
    Pin {
        /// Bundle directory.
        dir: PathBuf,
    },
    /// Write the built-in bundle (manifest, presets, plugins) to DIR, to edit and use with --policy.
    Init {
        dir: PathBuf,
        /// Overwrite an existing bundle.
        #[arg(long)]
        force: bool,
    },
    /// Check a bundle as `check` does, then upload it to the policy bucket (AWS mode). Prints
    /// its hash; running jobs are not affected until it is activated.
    Publish {
        /// Bundle directory; the built-in bundle when omitted.
        dir: Option<PathBuf>,
        /// Activate it too: the next job uses it.
        #[arg(long)]
        activate: bool,
        #[command(flatten)]
        location: Location,
    },
    /// What changing the policy from OLD to NEW does: per source, the rungs added, removed or
    /// changed and the cost; with --encode, measured bits and quality. Gates for CI.
    Diff(crate::diff::DiffArgs),
    /// Make a published bundle the active one: the next job uses it, no redeploy.
    Activate {
        /// The bundle's hash, or a unique prefix of it (see `list`).
        hash: String,
        #[command(flatten)]
        location: Location,
    },
    /// Re-activate the bundle that was active before the current one.
    Rollback {
        #[command(flatten)]
        location: Location,
    },
    /// The published bundles, newest first; `*` marks the active one.
    List {
        #[command(flatten)]
        location: Location,
    },
}

/// Where the bundles are. Credentials, region and endpoint come from the AWS defaults
/// (`AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, ...).
#[derive(Args)]
pub struct Location {
    /// The policy bucket (Terraform's `policy_bucket` output).
    #[arg(long, env = "VODPIPE_POLICY_BUCKET")]
    bucket: String,
    /// Prefix of the bundles in the bucket.
    #[arg(long, env = "VODPIPE_POLICY_PREFIX", default_value = "policy")]
    prefix: String,
}

pub fn run(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Check { dir } => check(dir.as_deref()),
        PolicyCommand::Init { dir, force } => init(&dir, force),
        PolicyCommand::Pin { dir } => pin(&dir),
        PolicyCommand::Diff(args) => crate::diff::run(args),
        PolicyCommand::Publish {
            dir,
            activate,
            location,
        } => remote(&location, |store| async move {
            if check(dir.as_deref())? != ExitCode::SUCCESS {
                bail!("not published: the bundle has problems (listed above)");
            }
            // What it changes, read before it ships.
            if let Some((pointer, _)) = store.active().await? {
                let active = store.download(&pointer.bundle).await?;
                crate::diff::print_against_active(&active, files(dir.as_deref()).as_ref())?;
            }
            let files = files(dir.as_deref());
            let hash = store.publish(files.as_ref()).await?;
            println!("published {hash} to {}", store.location());
            // The plugins are at hand: no need to download what was just uploaded.
            let bundle = vodpipe_policy::Bundle::load(files.as_ref(), None).map_err(|d| anyhow::anyhow!("{d}"))?;
            publish_precompiled(&store, &bundle).await?;
            if activate {
                let pointer = store.activate(&hash).await?;
                println!("active: {} ({}); the next job uses it", pointer.name, pointer.bundle);
            } else {
                println!("activate it with: vodpipe policy activate {}", &hash[..12]);
            }
            Ok(())
        }),
        PolicyCommand::Activate { hash, location } => remote(&location, |store| async move {
            let hash = resolve(&store, &hash).await?;
            let pointer = store.activate(&hash).await?;
            println!("active: {} ({}); the next job uses it", pointer.name, pointer.bundle);
            Ok(())
        }),
        PolicyCommand::Rollback { location } => remote(&location, |store| async move {
            let pointer = store.rollback().await?;
            println!("rolled back; active: {} ({})", pointer.name, pointer.bundle);
            Ok(())
        }),
        PolicyCommand::List { location } => remote(&location, |store| async move {
            let bundles = store.list().await?;
            if bundles.is_empty() {
                println!("no bundle published at {}", store.location());
            }
            for bundle in bundles {
                println!(
                    "{} {}  {:<20} published {}",
                    if bundle.active { "*" } else { " " },
                    bundle.hash,
                    bundle.name,
                    vodpipe_core::time::rfc3339(bundle.published_at_ms)
                );
            }
            Ok(())
        }),
    }
}

/// Runs `work` against the policy store at `location`.
fn remote<F, Fut>(location: &Location, work: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(S3PolicyStore) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    block_on(&location.bucket, &location.prefix, work)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `work` against the policy store in `bucket` under `prefix`, and returns its answer.
pub fn block_on<T, F, Fut>(bucket: &str, prefix: &str, work: F) -> anyhow::Result<T>
where
    F: FnOnce(S3PolicyStore) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let sdk = vodpipe_aws::sdk_config(None).await;
        let client = vodpipe_aws::s3_client(&sdk);
        work(S3PolicyStore::new(client, bucket, prefix)).await
    })
}

/// A full hash, from a unique prefix of a published one.
pub async fn resolve(store: &S3PolicyStore, prefix: &str) -> anyhow::Result<String> {
    if prefix.len() == 64 {
        return Ok(prefix.to_owned());
    }
    let matching: Vec<String> = store
        .list()
        .await?
        .into_iter()
        .map(|b| b.hash)
        .filter(|h| !prefix.is_empty() && h.starts_with(prefix))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("no published bundle starts with `{prefix}` (see `vodpipe policy list`)"),
        _ => bail!("`{prefix}` matches {} bundles; give more of the hash", matching.len()),
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
    let mut warnings: Vec<String> = Vec::new();

    // Presets that are not active are checked too: they are one edit away from being used.
    for rel in files.list("ladders").iter().filter(|p| p.ends_with(".toml")) {
        let stem = rel.trim_start_matches("ladders/").trim_end_matches(".toml");
        let text = files.read(rel)?.unwrap_or_default();
        let text = String::from_utf8(text).with_context(|| format!("{} is not UTF-8", files.describe(rel)))?;
        match check_ladder(&files.describe(rel), &text, Some(stem)) {
            Ok(checked) => warnings.extend(checked.warnings.0.iter().map(ToString::to_string)),
            Err(d) => problems.extend(d.0.iter().map(ToString::to_string)),
        }
    }
    let loaded = load(&runtime, files.as_ref(), None);
    if let Err(e) = &loaded {
        problems.extend(e.problems(files.as_ref(), None));
    }
    // The active preset is read twice (above and by the bundle): report each problem once.
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.clone()));

    // Warnings do not fail the check: the bundle works, perhaps not as its author thinks.
    let print_warnings = || {
        for w in &warnings {
            println!("warning: {w}");
        }
    };
    match loaded {
        Ok(policy) if problems.is_empty() => {
            println!("ok: bundle `{}` ({})", policy.bundle_name, policy.content_hash);
            for (name, stage) in policy.plugin_names() {
                println!("  {stage:<15} {name}");
            }
            match policy.cost_model() {
                Some(model) => println!(
                    "  {:<15} {} prices for {} (MediaConvert as of {})",
                    "cost model", model.currency, model.region, model.mediaconvert.quoted.as_of
                ),
                None => println!(
                    "  {:<15} none: bundle.toml names no [cost] model, so reports give no cost estimate",
                    "cost model"
                ),
            }
            print_warnings();
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            for p in &problems {
                println!("{p}");
            }
            print_warnings();
            eprintln!(
                "policy check failed: {} problem{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn pin(dir: &Path) -> anyhow::Result<ExitCode> {
    let manifest = dir.join(vodpipe_policy::bundle::MANIFEST);
    let pinned = match vodpipe_policy::pin::pin(&DirFiles(dir.to_owned())) {
        Ok(pinned) => pinned,
        Err(problems) => {
            for p in &problems.0 {
                println!("{p}");
            }
            eprintln!(
                "policy pin failed: {} problem{}; {} is unchanged",
                problems.0.len(),
                if problems.0.len() == 1 { "" } else { "s" },
                manifest.display()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    if pinned.changes.is_empty() {
        println!("every plugin is already pinned in {}", manifest.display());
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::write(&manifest, &pinned.manifest).with_context(|| format!("writing {}", manifest.display()))?;
    for change in &pinned.changes {
        let old = change.old.as_deref().unwrap_or("nothing");
        println!("{} {}: {old} -> {}", change.stage, change.plugin, change.new);
    }
    println!(
        "pinned in {}; now: vodpipe policy check {}",
        manifest.display(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
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

/// Compiles the bundle's plugins for the Lambda functions' target and uploads the artifacts
/// beside it, so a cold function loads them instead of compiling. A machine that cannot
/// compile for that target publishes none (the functions then compile, as before).
async fn publish_precompiled(store: &S3PolicyStore, bundle: &vodpipe_policy::Bundle) -> anyhow::Result<()> {
    let runtime = match PluginRuntime::for_target(None, Limits::default(), LAMBDA_TARGET) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("warning: no precompiled plugins: this machine cannot compile for {LAMBDA_TARGET} ({e:#})");
            return Ok(());
        }
    };
    let (mut uploaded, mut present) = (0, 0);
    for (name, artifact) in runtime.precompile_bundle(bundle) {
        match artifact {
            Ok(artifact) => match store.put_precompiled(&name, artifact).await? {
                true => uploaded += 1,
                false => present += 1,
            },
            Err(why) => eprintln!("warning: {name} not precompiled: {why}"),
        }
    }
    println!("precompiled plugins for {LAMBDA_TARGET}: {uploaded} uploaded, {present} already there");
    Ok(())
}
