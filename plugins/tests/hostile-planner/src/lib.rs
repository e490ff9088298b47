//! Misbehaves in the way its preset's `[plugin] mode` asks, so the host's tests can prove
//! each misbehaviour is contained.

use vodpipe_plugin_sdk::log;
use vodpipe_plugin_sdk::planner::{
    Config, ConfigProblem, H264Format, Level, Plan, Planner, Preset, Probe, Profile, RateControl, Reader, Rendition,
    VbrRate, VideoCodec,
};

struct Hostile;

fn mode(config: &str) -> String {
    // Deliberately crude: validate-config must misbehave before anything could fail first.
    config.split('"').nth(3).unwrap_or("ok").to_owned()
}

/// `mode`: how to misbehave.
struct Mode(String);

impl Config for Mode {
    fn read(reader: &mut Reader) -> Self {
        Mode(reader.string("mode", "ok", &[]))
    }
}

fn spin() -> ! {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

fn rendition(width: u32, height: u32) -> Rendition {
    Rendition {
        name: format!("{height}p"),
        width,
        height,
        rate: RateControl::Vbr(VbrRate {
            bitrate: 1_000_000,
            max_bitrate: 1_500_000,
        }),
        codec: VideoCodec::H264(H264Format {
            profile: Profile::Main,
            level: Level::L31,
        }),
        frame_rate_cap: 30.0,
        audio_bitrate: Some(128_000),
    }
}

impl Planner for Hostile {
    type Config = Mode;

    fn validate_config(config: &str) -> Result<(), Vec<ConfigProblem>> {
        match mode(config).as_str() {
            "loop-in-validate" => spin(),
            _ => Ok(()),
        }
    }

    fn plan(source: Probe, preset: Preset, Mode(mode): Mode) -> Result<Plan, String> {
        // Behave for the host's activation dry run and misbehave for sources the tests mark,
        // unless the mode says "always-".
        let mode = match mode.strip_prefix("always-") {
            Some(always) => always.to_owned(),
            None if source.video_codec == "trigger" => mode,
            None => "ok".to_owned(),
        };
        let renditions = match mode.as_str() {
            "loop" => spin(),
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 << 20]);
                    log::debug(&format!("holding {} MiB", hoard.len() * 16));
                }
            }
            "trap" => panic!("the hostile planner panics on purpose"),
            "odd-size" => vec![rendition(641, 359)],
            "upscale" => vec![rendition(7680, 4320)],
            "huge-output" => (0..100_000).map(|i| rendition(640, 360 + (i % 2) * 2)).collect(),
            "duplicate-names" => vec![rendition(640, 360), rendition(640, 360)],
            "escape" => return Err(escape()),
            // A trap that is not a panic, so the SDK's panic hook has nothing to say.
            "raw-trap" => core::arch::wasm32::unreachable(),
            "log-flood-then-panic" => {
                for i in 0..300 {
                    log::info(&format!("line {i}"));
                }
                panic!("the hostile planner panics after 300 log lines")
            }
            "log-flood" => {
                for i in 0..100_000 {
                    log::info(&format!("line {i}"));
                }
                vec![rendition(640, 360)]
            }
            _ => vec![rendition(640, 360)],
        };
        Ok(Plan {
            renditions,
            segment_seconds: 6,
            thumbnail: None,
            packaging: preset.packaging,
        })
    }
}

/// Tries to reach outside the sandbox and says what it got.
fn escape() -> String {
    let files = match std::fs::read("/etc/passwd").or_else(|_| std::fs::read("Cargo.toml")) {
        Ok(bytes) => format!("read {} bytes", bytes.len()),
        Err(_) => "denied".to_owned(),
    };
    let network = match std::net::TcpStream::connect("127.0.0.1:80") {
        Ok(_) => "connected".to_owned(),
        Err(_) => "denied".to_owned(),
    };
    println!("stdout is not the host's");
    format!(
        "files: {files}; environment: {} variables; arguments: {}; network: {network}",
        std::env::vars().count(),
        std::env::args().skip(1).count()
    )
}

vodpipe_plugin_sdk::export_planner!(Hostile);
