//! Plugin log lines reach the host's `tracing` logs tagged with plugin and stage, and a
//! plugin cannot flood them.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Spec, runtime, source};
use vodpipe_core::ports::Policy;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn plugin_logs_carry_plugin_and_stage_and_are_capped() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let runtime = runtime();
    // ladder-per-title logs the bitrate factor it chose.
    let per_title = Spec {
        planner: "ladder-per-title",
        preset: "per-title",
        ..Default::default()
    }
    .load(&runtime);
    per_title.plan(&source(1280, 720)).unwrap();
    // The hostile planner writes 100,000 lines for a marked source.
    let flood = Spec {
        planner: "hostile-planner",
        preset_extra: "\n[plugin]\nmode = \"log-flood\"\n",
        ..Default::default()
    }
    .load(&runtime);
    let mut marked = source(1280, 720);
    marked.video_codec = "trigger".into();
    flood.plan(&marked).unwrap();

    // A panic is reported with the failure, not logged as an error as well.
    let panics = Spec {
        planner: "hostile-planner",
        preset_extra: "\n[plugin]\nmode = \"trap\"\n",
        ..Default::default()
    }
    .load(&runtime);
    let failure = panics.plan(&marked).unwrap_err().to_string();
    assert!(failure.contains("panics on purpose"), "{failure}");

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let panic_lines: Vec<&str> = text.lines().filter(|l| l.contains("panics on purpose")).collect();
    assert!(
        panic_lines.len() == 1 && panic_lines[0].contains("DEBUG"),
        "the panic is logged once, at debug: {panic_lines:?}"
    );
    let tagged = text
        .lines()
        .find(|l| l.contains("bitrate factor"))
        .unwrap_or_else(|| panic!("no plugin line in:\n{text}"));
    assert!(
        tagged.contains("plugin=\"ladder-per-title\"") && tagged.contains("stage=\"planner\""),
        "{tagged}"
    );
    let flood_lines = text
        .lines()
        .filter(|l| l.contains("plugin=\"hostile-planner\"") && l.contains(" line "))
        .count();
    assert_eq!(flood_lines, 200, "lines per call are capped");
    assert!(
        text.contains("dropped=99800"),
        "the drop is reported once: {}",
        &text[text.len().saturating_sub(500)..]
    );
}
