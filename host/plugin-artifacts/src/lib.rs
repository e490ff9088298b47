//! The guest plugins of `plugins/`, built for wasm32-wasip2 by this crate's build script.
//!
//! The shipped ones make up vodpipe's built-in policy bundle; the example and the hostile ones
//! (feature `test-guests`) exist only for the tests.

/// One compiled guest plugin.
#[derive(Debug, Clone, Copy)]
pub struct Guest {
    /// Package name, also the file stem in a bundle (`plugins/<name>.wasm`).
    pub name: &'static str,
    /// The world it exports: `planner`, `job-builder` or `post-processor`.
    pub stage: &'static str,
    /// Part of the built-in policy bundle.
    pub shipped: bool,
    pub wasm: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/guests.rs"));

/// The plugin called `name`, if it was built.
pub fn by_name(name: &str) -> Option<Guest> {
    ALL.iter().copied().find(|g| g.name == name)
}

/// The built-in policy bundle, file by file (relative path → bytes): `bundle.toml`, the
/// shipped plugins, the presets of `ladders/` and the cost model (`ladders/pricing/aws.toml`
/// in the repository, `pricing/aws.toml` in the bundle). `vodpipe policy init` writes it to disk;
/// without `--policy`, vodpipe runs it from memory.
pub fn builtin_bundle() -> Vec<(String, Vec<u8>)> {
    let plugin = |name: &str| by_name(name).expect("shipped plugins are always built");
    let (planner, job_builder, post_processor) = (
        plugin("ladder-table"),
        plugin("mediaconvert-hls"),
        plugin("post-default"),
    );
    let (per_title, content_aware) = (plugin("ladder-per-title"), plugin("ladder-content-aware"));
    let manifest = format!(
        r#"# vodpipe policy bundle: which plugin runs each stage (pinned by sha256) and which
# ladder preset is active. Check it with `vodpipe policy check DIR`; see docs/plugins.md.
schema = 1
name = "builtin"

[ladder]
preset = "default"

[planner]
plugin = "plugins/{}.wasm"
sha256 = "{}"

# Presets written for another planner (`planner = "NAME"` in the preset) run with it.
[planners.{}]
plugin = "plugins/{}.wasm"
sha256 = "{}"

[planners.{}]
plugin = "plugins/{}.wasm"
sha256 = "{}"

[job_builder]
plugin = "plugins/{}.wasm"
sha256 = "{}"

[job_builder.config]
gop_seconds = 2
manifest_name = "index"

[post_processor]
plugin = "plugins/{}.wasm"
sha256 = "{}"

[post_processor.config]
delete_source = true

# The prices `vodpipe quality` and `vodpipe policy diff` estimate costs with.
[cost]
model = "{}"
"#,
        planner.name,
        sha256_hex(planner.wasm),
        per_title.name,
        per_title.name,
        sha256_hex(per_title.wasm),
        content_aware.name,
        content_aware.name,
        sha256_hex(content_aware.wasm),
        job_builder.name,
        sha256_hex(job_builder.wasm),
        post_processor.name,
        sha256_hex(post_processor.wasm),
        COST_MODEL.0,
    );
    let mut files = vec![("bundle.toml".to_owned(), manifest.into_bytes())];
    for (name, text) in LADDERS {
        files.push((format!("ladders/{name}.toml"), text.as_bytes().to_vec()));
    }
    files.push((COST_MODEL.0.to_owned(), COST_MODEL.1.as_bytes().to_vec()));
    for guest in ALL.iter().filter(|g| g.shipped) {
        files.push((format!("plugins/{}.wasm", guest.name), guest.wasm.to_vec()));
    }
    files
}

/// The presets of `ladders/`, as shipped.
pub const LADDERS: &[(&str, &str)] = &[
    ("default", include_str!("../../../ladders/default.toml")),
    ("mobile-first", include_str!("../../../ladders/mobile-first.toml")),
    ("high-quality", include_str!("../../../ladders/high-quality.toml")),
    ("per-title", include_str!("../../../ladders/per-title.toml")),
    ("content-aware", include_str!("../../../ladders/content-aware.toml")),
    ("cmaf", include_str!("../../../ladders/cmaf.toml")),
    ("av1", include_str!("../../../ladders/av1.toml")),
];

/// The cost model: its path in the bundle and its text, as shipped.
pub const COST_MODEL: (&str, &str) = ("pricing/aws.toml", include_str!("../../../ladders/pricing/aws.toml"));

pub use vodpipe_policy::bundle::sha256_hex;

/// The built-in bundle as bundle files, ready for `Bundle::load`.
pub fn builtin_files() -> vodpipe_policy::MemoryFiles {
    vodpipe_policy::MemoryFiles {
        label: "<built-in>".into(),
        files: builtin_bundle().into_iter().collect(),
    }
}
