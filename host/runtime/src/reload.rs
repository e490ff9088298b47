//! The active policy and its hot reload: a changed bundle directory is picked up by a running
//! host; a bundle with any problem is refused and the last good one stays active.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use vodpipe_core::{PluginError, PluginFailure};
use vodpipe_policy::config_positions::locate_config_problems;
use vodpipe_policy::{Bundle, BundleFiles, Diagnostics, DirFiles};

use crate::policy::LoadedPolicy;
use crate::runtime::PluginRuntime;

/// Why a bundle was not activated.
#[derive(Debug)]
pub enum LoadError {
    Bundle(Diagnostics),
    Plugins(Vec<PluginError>),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Bundle(d) => write!(f, "{d}"),
            LoadError::Plugins(errors) => {
                for e in errors {
                    writeln!(f, "{e}")?;
                }
                write!(
                    f,
                    "{} plugin problem{}",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                )
            }
        }
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    /// Every problem, one per line, for people: the bundle's own mistakes with their
    /// positions, each problem a plugin found in its config at its key in the preset or
    /// `bundle.toml` (read again from `files`, with `preset` previewed as when loading), and
    /// other plugin errors as they are.
    pub fn problems(&self, files: &dyn BundleFiles, preset: Option<&str>) -> Vec<String> {
        let errors = match self {
            LoadError::Bundle(d) => return d.0.iter().map(ToString::to_string).collect(),
            LoadError::Plugins(errors) => errors,
        };
        // Plugins run only once the bundle's files are read and checked, so this loads again.
        let bundle = Bundle::load(files, preset).ok();
        let mut problems = Vec::new();
        for e in errors {
            match (&e.failure, &bundle) {
                (PluginFailure::Config(found), Some(bundle)) => problems.extend(
                    locate_config_problems(files, bundle, e.stage, &e.plugin, found)
                        .0
                        .iter()
                        .map(ToString::to_string),
                ),
                _ => problems.push(e.to_string()),
            }
        }
        problems
    }

    /// [`LoadError::problems`], then how many there are.
    pub fn report(&self, files: &dyn BundleFiles, preset: Option<&str>) -> String {
        let problems = self.problems(files, preset);
        let n = problems.len();
        format!("{}\n{n} problem{}", problems.join("\n"), if n == 1 { "" } else { "s" })
    }
}

/// Loads a bundle and makes it runnable; `preset` previews another preset of the bundle.
pub fn load(
    runtime: &Arc<PluginRuntime>,
    files: &dyn BundleFiles,
    preset: Option<&str>,
) -> Result<LoadedPolicy, LoadError> {
    let bundle = Bundle::load(files, preset).map_err(LoadError::Bundle)?;
    LoadedPolicy::load(runtime, &bundle).map_err(LoadError::Plugins)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// Nothing that matters changed.
    Unchanged,
    /// The new bundle is active.
    Activated,
}

/// Holds the active policy; readers take a snapshot per video with [`PolicyHandle::current`].
pub struct PolicyHandle {
    runtime: Arc<PluginRuntime>,
    dir: Option<PathBuf>,
    current: ArcSwap<LoadedPolicy>,
    /// The directory's last seen state, so a refused bundle is reported once, not every poll.
    seen: Mutex<Vec<(PathBuf, u64, SystemTime)>>,
}

impl PolicyHandle {
    /// A policy that never changes (the built-in bundle).
    pub fn fixed(runtime: Arc<PluginRuntime>, policy: LoadedPolicy) -> Arc<Self> {
        Arc::new(Self {
            runtime,
            dir: None,
            current: ArcSwap::from_pointee(policy),
            seen: Mutex::new(Vec::new()),
        })
    }

    /// Loads the bundle in `dir`; fails if it is not valid, since there is no last good one yet.
    pub fn from_dir(runtime: Arc<PluginRuntime>, dir: &Path) -> Result<Arc<Self>, LoadError> {
        let seen = fingerprint(dir);
        let policy = load(&runtime, &DirFiles(dir.to_owned()), None)?;
        Ok(Arc::new(Self {
            runtime,
            dir: Some(dir.to_owned()),
            current: ArcSwap::from_pointee(policy),
            seen: Mutex::new(seen),
        }))
    }

    pub fn current(&self) -> Arc<LoadedPolicy> {
        self.current.load_full()
    }

    /// Re-reads the bundle directory now. On any problem the active policy stays as it was.
    pub fn reload(&self) -> Result<Reload, LoadError> {
        let Some(dir) = &self.dir else {
            return Ok(Reload::Unchanged);
        };
        *self.seen.lock().unwrap() = fingerprint(dir);
        let policy = load(&self.runtime, &DirFiles(dir.clone()), None)?;
        if policy.content_hash == self.current().content_hash {
            return Ok(Reload::Unchanged);
        }
        tracing::info!(bundle = %policy.bundle_name, hash = %policy.content_hash, "policy bundle activated");
        self.current.store(Arc::new(policy));
        Ok(Reload::Activated)
    }

    /// Reloads if a file of the bundle changed since the last look; `None` when nothing did.
    pub fn poll(&self) -> Option<Result<Reload, LoadError>> {
        let dir = self.dir.as_ref()?;
        if fingerprint(dir) == *self.seen.lock().unwrap() {
            return None;
        }
        Some(self.reload())
    }

    /// Polls the directory every `interval` and reloads when a file changed. Stops when the
    /// returned guard is dropped.
    pub fn watch(self: &Arc<Self>, interval: Duration) -> WatchGuard {
        let stop = Arc::new(AtomicBool::new(false));
        let (handle, flag) = (Arc::downgrade(self), stop.clone());
        thread::Builder::new()
            .name("vodpipe-policy-watch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    thread::sleep(interval);
                    let Some(handle) = handle.upgrade() else { break };
                    if let Some(Err(e)) = handle.poll() {
                        let dir = handle.dir.clone().unwrap_or_default();
                        let report = e.report(&DirFiles(dir.clone()), None);
                        let dir = dir.display();
                        tracing::error!(%dir, "policy bundle refused, the last good one stays active:\n{report}");
                    }
                }
            })
            .expect("spawn the policy watcher");
        WatchGuard(stop)
    }
}

pub struct WatchGuard(Arc<AtomicBool>);

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Size and modification time of every file in the bundle (two levels deep).
fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
    fn walk(dir: &Path, depth: u32, out: &mut Vec<(PathBuf, u64, SystemTime)>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() && depth > 0 {
                walk(&entry.path(), depth - 1, out);
            } else if meta.is_file() {
                out.push((
                    entry.path(),
                    meta.len(),
                    meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, 1, &mut out);
    out.sort();
    out
}
