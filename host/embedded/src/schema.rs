//! The database's schema, in versioned steps.
//!
//! `PRAGMA user_version` holds the number of steps applied. Opening a database applies the
//! missing ones in order, each in its own transaction with the version it reaches, so a
//! database of any earlier version (or a new, empty one) ends at [`VERSION`], and a step that
//! fails leaves the database at the last good version. A database newer than this build is
//! refused rather than guessed at. A database made before versions were recorded reads as
//! version 0 with the tables of step 1, which creates only what is missing.

use rusqlite::{Connection, Transaction, params};

/// The version this build writes.
pub const VERSION: usize = STEPS.len();

/// What a step does, for the error when it fails.
struct Step {
    what: &'static str,
    apply: fn(&Transaction) -> rusqlite::Result<()>,
}

const STEPS: [Step; 3] = [
    Step {
        what: "create the tables",
        apply: |tx| tx.execute_batch(TABLES),
    },
    Step {
        what: "rewrite queued job-state events as job-result messages",
        apply: legacy::rewrite_job_state_events,
    },
    Step {
        what: "add the videos' DASH manifest",
        // Videos finished before it have none: they were packaged as MPEG-TS, or their CMAF
        // job's manifest was not recorded (their HLS playback is unchanged).
        apply: |tx| tx.execute_batch("ALTER TABLE videos ADD COLUMN dash_path TEXT"),
    },
];

/// Brings the database to [`VERSION`]; `Err` says which step failed, or that the database
/// is newer than this build.
pub fn migrate(conn: &mut Connection) -> Result<(), String> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| format!("reading the schema version: {e}"))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > VERSION {
        return Err(format!(
            "the database is at schema version {version}, newer than this vodpipe's {VERSION}: \
             run the vodpipe that wrote it, or restore a backup"
        ));
    }
    for (index, step) in STEPS.iter().enumerate().skip(version) {
        let reached = index + 1;
        let failed = |e: rusqlite::Error| {
            format!(
                "schema step {reached} ({}) failed, the database stays at version {index}: {e}",
                step.what
            )
        };
        let tx = conn.transaction().map_err(failed)?;
        (step.apply)(&tx).map_err(failed)?;
        tx.pragma_update(None, "user_version", reached as i64).map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
    Ok(())
}

/// Version 1: the tables as they were when versions began to be recorded.
const TABLES: &str = "
CREATE TABLE IF NOT EXISTS videos (
    id TEXT PRIMARY KEY,
    user_id TEXT,
    title TEXT,
    description TEXT,
    status TEXT NOT NULL CHECK (status IN ('processing', 'done', 'failed')),
    failure_reason TEXT,
    created_at_ms INTEGER NOT NULL,
    job_id TEXT,
    plan TEXT,
    renditions TEXT NOT NULL DEFAULT '[]',
    playback_path TEXT,
    thumbnail_path TEXT,
    duration_ms INTEGER
);
CREATE INDEX IF NOT EXISTS videos_done ON videos (created_at_ms DESC, id DESC) WHERE status = 'done' AND title IS NOT NULL;
CREATE INDEX IF NOT EXISTS videos_owned ON videos (user_id, created_at_ms DESC, id DESC);
CREATE TABLE IF NOT EXISTS accounts (
    user_id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES accounts (user_id) ON DELETE CASCADE,
    expires_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    visible_at_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS queue_visible ON queue (visible_at_ms);
CREATE TABLE IF NOT EXISTS sent (dedupe_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    receive_count INTEGER NOT NULL,
    last_error TEXT,
    moved_at_ms INTEGER NOT NULL
);
";

/// Version 2. Before it, the worker queued a job's result as a MediaConvert "Job State
/// Change" event in EventBridge's shape, with full `file://` URIs; it now queues a
/// [`WorkMessage::JobResult`](crate::work::WorkMessage::JobResult) with paths relative to
/// the video's output prefix. Results still queued (or dead-lettered) are rewritten so that
/// they are handled, and redriven, like new ones. This is the only reader of the old shape.
mod legacy {
    use serde::Deserialize;
    use vodpipe_core::{JobOutput, JobResult, JobStatus};

    use super::*;
    use crate::work::WorkMessage;

    pub fn rewrite_job_state_events(tx: &Transaction) -> rusqlite::Result<()> {
        for table in ["queue", "dead_letters"] {
            let rows: Vec<(i64, String)> = tx
                .prepare(&format!(
                    "SELECT id, body FROM {table} WHERE body LIKE '%\"detail-type\"%'"
                ))?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, body) in rows {
                // A body that is not such an event stays as it was: the worker reports it.
                if let Some(message) = job_result(&body) {
                    tx.execute(
                        &format!("UPDATE {table} SET body = ?1 WHERE id = ?2"),
                        params![message.to_body(), id],
                    )?;
                }
            }
        }
        Ok(())
    }

    #[derive(Deserialize)]
    struct Event {
        #[serde(rename = "detail-type")]
        detail_type: String,
        detail: Detail,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Detail {
        job_id: String,
        status: JobStatus,
        user_metadata: Metadata,
        error_code: Option<i32>,
        error_message: Option<String>,
        #[serde(default)]
        output_group_details: Vec<Group>,
    }

    #[derive(Deserialize)]
    struct Metadata {
        video_id: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Group {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        output_details: Vec<Output>,
        #[serde(default)]
        playlist_file_paths: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Output {
        output_file_paths: Vec<String>,
        #[serde(default)]
        duration_in_ms: u64,
        video_details: Option<VideoDetails>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct VideoDetails {
        width_in_px: u32,
        height_in_px: u32,
    }

    pub(super) fn job_result(body: &str) -> Option<WorkMessage> {
        let event: Event = serde_json::from_str(body).ok()?;
        if event.detail_type != "MediaConvert Job State Change" {
            return None;
        }
        let detail = event.detail;
        let video_id = detail.user_metadata.video_id;
        // The URIs were `file://<data>/media/<video id>/<path>`.
        let marker = format!("/{video_id}/");
        let relative = |uri: &str| match uri.rfind(&marker) {
            Some(at) => uri[at + marker.len()..].to_owned(),
            None => uri.to_owned(),
        };
        let group = |kind: &str| detail.output_group_details.iter().find(|g| g.kind == kind);
        let hls = group("HLS_GROUP");
        let result = JobResult {
            job_id: detail.job_id,
            status: detail.status,
            error_code: detail.error_code,
            error_message: detail.error_message,
            playlist_path: hls.and_then(|g| g.playlist_file_paths.first()).map(|p| relative(p)),
            outputs: hls
                .map(|g| {
                    g.output_details
                        .iter()
                        .filter_map(|o| {
                            let size = o.video_details.as_ref();
                            Some(JobOutput {
                                path: relative(o.output_file_paths.first()?),
                                width: size.map_or(0, |d| d.width_in_px),
                                height: size.map_or(0, |d| d.height_in_px),
                                duration_ms: o.duration_in_ms,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
            thumbnail_path: group("FILE_GROUP")
                .and_then(|g| g.output_details.first())
                .and_then(|o| o.output_file_paths.first())
                .map(|p| relative(p)),
            // The worker wrote MPEG-TS only then.
            dash_manifest_path: None,
        };
        Some(WorkMessage::JobResult { video_id, result })
    }
}
