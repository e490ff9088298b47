//! `vodpipe queue dead-letters`: the messages of a data directory's queue that used up their
//! deliveries, and putting them back once their cause is fixed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use vodpipe_core::ports::{SystemClock, VideoRepository};
use vodpipe_core::time::rfc3339;
use vodpipe_core::{VideoRecord, VideoStatus};
use vodpipe_embedded::sqlite::{Database, DeadLetter, Redriven};

#[derive(Subcommand)]
pub enum QueueCommand {
    /// List the dead letters (messages that failed on every allowed delivery), or redrive them.
    DeadLetters(DeadLettersArgs),
}

#[derive(Args)]
pub struct DeadLettersArgs {
    /// Data directory (as given to `vodpipe process --out`, `worker --out` or `serve --data`).
    #[arg(long, visible_alias = "out", default_value = "vodpipe-data")]
    data: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Put this dead letter back in the queue (repeatable; all or none). A video it concerns
    /// that ended `failed` goes back to `processing`, to be processed again, if the message
    /// can finish it (an upload, or a transcode or job result of the video's own job);
    /// otherwise it stays `failed`, and the output says why.
    #[arg(long, value_name = "ID", conflicts_with = "redrive_all")]
    redrive: Vec<i64>,
    /// Put every dead letter back in the queue.
    #[arg(long, visible_alias = "all")]
    redrive_all: bool,
}

pub fn run(command: QueueCommand) -> anyhow::Result<ExitCode> {
    match command {
        QueueCommand::DeadLetters(args) => dead_letters(args),
    }
}

fn dead_letters(args: DeadLettersArgs) -> anyhow::Result<ExitCode> {
    let database = open(&args.data)?;
    if args.redrive_all || !args.redrive.is_empty() {
        let redriven = if args.redrive_all {
            database.redrive_all()
        } else {
            database.redrive(&args.redrive)
        }
        .with_context(|| format!("redriving in {}", args.data.display()))?;
        print_redriven(&redriven, &args)?;
    } else {
        let letters = database.dead_letters().map_err(|e| anyhow!("{e}"))?;
        let rows = letters
            .into_iter()
            .map(|letter| {
                let video = match letter.subject().video_id {
                    Some(id) => database.get(&id).map_err(|e| anyhow!("{e}"))?,
                    None => None,
                };
                Ok((letter, video))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        print_letters(&rows, &args)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The database of an existing data directory: a mistyped directory is an error, not a new
/// empty queue.
fn open(data: &Path) -> anyhow::Result<Database> {
    let file = data.join("vodpipe.db");
    if !file.is_file() {
        bail!(
            "{}: not a vodpipe data directory (no vodpipe.db); give the one `vodpipe process --out`, `worker --out` or `serve --data` used",
            data.display()
        );
    }
    Database::open(&file, Box::new(SystemClock)).map_err(|e| anyhow!("{}: {e}", file.display()))
}

fn status_text(status: VideoStatus) -> &'static str {
    match status {
        VideoStatus::Processing => "processing",
        VideoStatus::Done => "done",
        VideoStatus::Failed => "failed",
    }
}

fn letter_json(letter: &DeadLetter, video: Option<&VideoRecord>) -> Value {
    let subject = letter.subject();
    json!({
        "id": letter.id,
        "kind": subject.kind.as_str(),
        "video_id": subject.video_id,
        "receive_count": letter.receive_count,
        "dead_since": rfc3339(letter.moved_at_ms),
        "last_error": letter.last_error,
        "video_status": video.map(|v| status_text(v.status)),
        "failure_reason": video.and_then(|v| v.failure_reason.as_deref()),
        "body": letter.body,
    })
}

fn print_letters(rows: &[(DeadLetter, Option<VideoRecord>)], args: &DeadLettersArgs) -> anyhow::Result<()> {
    if args.json {
        let letters: Vec<Value> = rows
            .iter()
            .map(|(letter, video)| letter_json(letter, video.as_ref()))
            .collect();
        println!("{}", serde_json::to_string_pretty(&letters)?);
        return Ok(());
    }
    if rows.is_empty() {
        println!("no dead letters in {}", args.data.display());
        return Ok(());
    }
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|(letter, video)| {
            let subject = letter.subject();
            let video_status = match (&subject.video_id, video) {
                (None, _) => "-",
                (Some(_), None) => "no record",
                (Some(_), Some(video)) => status_text(video.status),
            };
            [
                letter.id.to_string(),
                subject.kind.as_str().to_owned(),
                subject.video_id.unwrap_or_else(|| "-".into()),
                letter.receive_count.to_string(),
                rfc3339(letter.moved_at_ms),
                video_status.to_owned(),
                one_line(
                    letter
                        .last_error
                        .as_deref()
                        .unwrap_or("(none recorded: every delivery ran out of time)"),
                ),
            ]
        })
        .collect();
    print_table(
        [
            "ID",
            "KIND",
            "VIDEO",
            "RECEIVES",
            "DEAD SINCE",
            "VIDEO STATUS",
            "LAST ERROR",
        ],
        &table,
    );
    println!(
        "\n{} dead letter{}; `--redrive ID` or `--redrive-all` puts them back in the queue",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

fn print_redriven(redriven: &[Redriven], args: &DeadLettersArgs) -> anyhow::Result<()> {
    if args.json {
        let rows: Vec<Value> = redriven
            .iter()
            .map(|r| {
                json!({
                    "dead_letter": r.dead_letter,
                    "message_id": r.message_id,
                    "kind": r.subject.kind.as_str(),
                    "video_id": r.subject.video_id,
                    "video_reset": r.video_reset,
                    "cleared_reason": r.cleared_reason,
                    "kept_failed": r.kept_failed.as_ref().map(ToString::to_string),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&json!({ "redriven": rows }))?);
        return Ok(());
    }
    if redriven.is_empty() {
        println!("no dead letters in {}", args.data.display());
        return Ok(());
    }
    for r in redriven {
        let about = match &r.subject.video_id {
            Some(video) => format!("{} message for video {video}", r.subject.kind.as_str()),
            None => format!("{} message", r.subject.kind.as_str()),
        };
        println!(
            "dead letter {}: {about}, queued again as message {}",
            r.dead_letter, r.message_id
        );
        let video = r.subject.video_id.as_deref().unwrap_or_default();
        if r.video_reset {
            println!(
                "  video {video}: failed -> processing (cleared: {})",
                one_line(r.cleared_reason.as_deref().unwrap_or("no reason"))
            );
        }
        if let Some(why) = &r.kept_failed {
            println!("  video {video}: stays failed, not reset: {why}");
        }
    }
    println!("a running worker (`vodpipe worker`, `vodpipe serve`) takes them up; otherwise start one");
    Ok(())
}

/// Errors can carry ffmpeg's multi-line output; a table row stays one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn print_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; N]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == N {
                // The last column (the error) is not padded: it may be long.
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        println!("{}", text.trim_end());
    };
    line(header);
    for row in rows {
        line(std::array::from_fn(|i| row[i].as_str()));
    }
}
