//! Video records and a durable queue with SQS semantics, in one SQLite file.
//!
//! Queue: a received message is invisible for a visibility timeout and comes back if it is
//! not deleted (a crashed worker loses nothing); failures come back sooner, after an
//! exponential backoff; after `max_receives` receives a message moves to `dead_letters`, from
//! where a redrive puts it back.
//! Sends with a deduplication id happen once, ever, and the record of one says whether it
//! happened ([`Database::was_sent`]). A message can also be handed back unhandled
//! ([`Database::release`]), which SQS cannot do: that receive does not count.

use std::path::Path;
use std::sync::Mutex;

use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use vodpipe_core::ports::{Account, AccountStore, Clock, MessageQueue, PortError, QueuedMessage, VideoRepository};
use vodpipe_core::{Cursor, Described, Details, Outcome, Page, Plan, VideoRecord, VideoStatus};

use crate::message::{self, KeptFailed, MessageKind, Subject};
use crate::work::result_dedupe_id;

pub struct Database {
    /// The one writer (SQLite allows one at a time anyway).
    conn: Mutex<Connection>,
    /// Read-only connections: in WAL mode they read alongside the writer, so API reads wait
    /// neither for the worker nor for each other. Listings have their own, one per CPU: the
    /// API runs a listing on its async worker thread (`lists_without_waiting`), one at a time
    /// per thread, and the runtime has a thread per CPU, so a listing always finds one free.
    list_readers: Readers,
    /// For account lookups, which run on the blocking pool.
    readers: Readers,
    clock: Box<dyn Clock>,
}

/// A message that used up its receives, kept for inspection and redrive.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Its row in `dead_letters` (not the id it had in the queue).
    pub id: i64,
    pub body: String,
    pub receive_count: u32,
    /// The error of the last delivery that reported one; none if every delivery ended by
    /// its visibility timeout (the worker stopped while handling it).
    pub last_error: Option<String>,
    /// When it left the queue: the first receive after its last allowed delivery.
    pub moved_at_ms: u64,
}

impl DeadLetter {
    pub fn subject(&self) -> Subject {
        message::subject(&self.body)
    }
}

/// A dead letter put back in the queue by [`Database::redrive`].
#[derive(Debug, Clone, PartialEq)]
pub struct Redriven {
    pub dead_letter: i64,
    /// Its id in the queue now.
    pub message_id: i64,
    pub subject: Subject,
    /// The video it concerns was `failed` and is `processing` again.
    pub video_reset: bool,
    /// That video's failure reason, cleared by the reset.
    pub cleared_reason: Option<String>,
    /// The video it concerns is `failed` and stays so, and why: the message could not take
    /// it to an end.
    pub kept_failed: Option<KeptFailed>,
}

#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error("no dead letter has the id {0}")]
    NoSuchDeadLetter(i64),
    #[error(transparent)]
    Port(#[from] PortError),
}

/// A pool of read-only connections.
struct Readers {
    connections: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    fn open(path: &Path, count: usize) -> rusqlite::Result<Self> {
        let connections = (0..count)
            .map(|_| {
                let reader = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
                )?;
                reader.busy_timeout(std::time::Duration::from_secs(5))?;
                // One statement per page size asked for; a handful in practice.
                reader.set_prepared_statement_cache_capacity(64);
                Ok(Mutex::new(reader))
            })
            .collect::<rusqlite::Result<_>>()?;
        Ok(Self {
            connections,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs a read on a free connection (or waits for the next one in turn).
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, PortError> {
        let reader = self
            .connections
            .iter()
            .find_map(|r| r.try_lock().ok())
            .unwrap_or_else(|| {
                let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.connections.len();
                self.connections[turn].lock().unwrap_or_else(|e| e.into_inner())
            });
        f(&reader).map_err(db)
    }
}

fn db(e: rusqlite::Error) -> PortError {
    PortError::Unavailable(format!("database: {e}"))
}

/// Account lookups at once before one waits for a connection.
const READERS: usize = 4;

/// Per connection: write-ahead logging (readers never wait on the writer) and a wait for
/// a busy database instead of an error.
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;";

impl Database {
    pub fn open(path: &Path, clock: Box<dyn Clock>) -> Result<Self, PortError> {
        let mut conn = Connection::open(path).map_err(db)?;
        conn.execute_batch(PRAGMAS).map_err(db)?;
        crate::schema::migrate(&mut conn).map_err(|e| PortError::Unavailable(format!("{}: {e}", path.display())))?;
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            conn: Mutex::new(conn),
            list_readers: Readers::open(path, cpus.max(2)).map_err(db)?,
            readers: Readers::open(path, READERS).map_err(db)?,
            clock,
        })
    }

    fn now(&self) -> i64 {
        self.clock.now_ms() as i64
    }

    /// Every dead letter, oldest first.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, PortError> {
        let conn = self.conn.lock().unwrap();
        let mut statement = conn
            .prepare("SELECT id, body, receive_count, last_error, moved_at_ms FROM dead_letters ORDER BY id")
            .map_err(db)?;
        let rows = statement
            .query_map([], |r| {
                Ok(DeadLetter {
                    id: r.get(0)?,
                    body: r.get(1)?,
                    receive_count: r.get(2)?,
                    last_error: r.get(3)?,
                    moved_at_ms: r.get::<_, i64>(4)? as u64,
                })
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    /// Puts the dead letters `ids` back in the queue as new messages (visible now, no
    /// receives, no error), all or none: an unknown id changes nothing. A redrive is a
    /// person's word that the cause is fixed, so a video the message concerns that ended
    /// `failed` goes back to `processing`, its reason cleared, to be processed again, if the
    /// message can take it to an end ([`Subject::can_finish`]: an upload, or a transcode or
    /// job-state event of the video's own job); otherwise it stays `failed`, and
    /// [`Redriven::kept_failed`] says why. A video in any other status is left as it is.
    pub fn redrive(&self, ids: &[i64]) -> Result<Vec<Redriven>, RedriveError> {
        self.redrive_where(Some(ids))
    }

    /// [`Database::redrive`] of every dead letter, oldest first.
    pub fn redrive_all(&self) -> Result<Vec<Redriven>, RedriveError> {
        self.redrive_where(None)
    }

    fn redrive_where(&self, ids: Option<&[i64]>) -> Result<Vec<Redriven>, RedriveError> {
        let mut conn = self.conn.lock().unwrap();
        // Immediate: a worker moving a message to the dead letters, or another redrive, waits
        // for this one, so no dead letter is redriven twice or half-way.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let ids: Vec<i64> = match ids {
            // An id named twice is redriven once.
            Some(ids) => ids
                .iter()
                .enumerate()
                .filter(|(i, id)| !ids[..*i].contains(id))
                .map(|(_, id)| *id)
                .collect(),
            None => {
                let mut statement = tx.prepare("SELECT id FROM dead_letters ORDER BY id").map_err(db)?;
                let rows = statement.query_map([], |r| r.get(0)).map_err(db)?;
                rows.collect::<rusqlite::Result<_>>().map_err(db)?
            }
        };
        let now = self.now();
        let mut redriven = Vec::with_capacity(ids.len());
        for id in ids {
            let body: String = tx
                .query_row("DELETE FROM dead_letters WHERE id = ?1 RETURNING body", [id], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(db)?
                .ok_or(RedriveError::NoSuchDeadLetter(id))?;
            let message_id = tx
                .query_row(
                    "INSERT INTO queue (body, visible_at_ms) VALUES (?1, ?2) RETURNING id",
                    params![body, now],
                    |r| r.get(0),
                )
                .map_err(db)?;
            let subject = message::subject(&body);
            // Read, then reset: the transaction holds the write lock, so nothing changes between.
            let failed: Option<(Option<String>, Option<String>)> = match &subject.video_id {
                Some(video) => tx
                    .query_row(
                        "SELECT failure_reason, job_id FROM videos WHERE id = ?1 AND status = 'failed'",
                        [video],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(db)?,
                None => None,
            };
            let (mut video_reset, mut cleared_reason, mut kept_failed) = (false, None, None);
            if let (Some(video), Some((reason, video_job))) = (&subject.video_id, failed) {
                let result_queued = |job: &str| -> rusqlite::Result<bool> {
                    tx.query_row(
                        "SELECT 1 FROM sent WHERE dedupe_id = ?1",
                        [result_dedupe_id(job)],
                        |_| Ok(()),
                    )
                    .optional()
                    .map(|found| found.is_some())
                };
                let can_finish = match (subject.can_finish(video_job.as_deref()), &subject) {
                    (
                        Ok(()),
                        Subject {
                            kind: MessageKind::Transcode,
                            job_id: Some(job),
                            ..
                        },
                    ) if result_queued(job).map_err(db)? => Err(KeptFailed::ResultQueued { job: job.clone() }),
                    (verdict, _) => verdict,
                };
                match can_finish {
                    Ok(()) => {
                        tx.execute(
                            "UPDATE videos SET status = 'processing', failure_reason = NULL WHERE id = ?1 AND status = 'failed'",
                            [video],
                        )
                        .map_err(db)?;
                        (video_reset, cleared_reason) = (true, reason);
                    }
                    Err(why) => kept_failed = Some(why),
                }
            }
            redriven.push(Redriven {
                dead_letter: id,
                message_id,
                subject,
                video_reset,
                cleared_reason,
                kept_failed,
            });
        }
        tx.commit().map_err(db)?;
        Ok(redriven)
    }

    /// Messages still queued (visible or not).
    pub fn queued(&self) -> Result<u64, PortError> {
        let conn = self.conn.lock().unwrap();
        conn.query_row("SELECT COUNT(*) FROM queue", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(db)
    }

    /// Whether a message was ever queued with `dedupe_id`. The record is written in the same
    /// transaction as the message, so a `true` means the message is (or was) in the queue.
    pub fn was_sent(&self, dedupe_id: &str) -> Result<bool, PortError> {
        let conn = self.conn.lock().unwrap();
        conn.query_row("SELECT 1 FROM sent WHERE dedupe_id = ?1", [dedupe_id], |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
            .map_err(db)
    }

    /// Moves a received message to the dead letters now, with `error`: it failed in a way no
    /// later delivery can change (SQS has no such call; there it waits for its last receive).
    /// A stale receipt moves nothing.
    pub fn dead_letter(&self, message: &QueuedMessage, error: &str) -> Result<bool, PortError> {
        let mut conn = self.conn.lock().unwrap();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let moved = tx
            .execute(
                "INSERT INTO dead_letters (body, receive_count, last_error, moved_at_ms)
                 SELECT body, receive_count, ?3, ?4 FROM queue WHERE id = ?1 AND receipt = ?2",
                params![row_id(message), message.receipt, error, self.now()],
            )
            .map_err(db)?;
        tx.execute(
            "DELETE FROM queue WHERE id = ?1 AND receipt = ?2",
            params![row_id(message), message.receipt],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        if moved == 1 {
            tracing::warn!(
                message = message.id,
                receives = message.receive_count,
                "message moved to the dead-letter table: {error}"
            );
        }
        Ok(moved == 1)
    }

    /// Hands a received message back unhandled: it comes back after `delay_ms`, and the receive
    /// that took it does not count against `max_receives`, since nothing was tried, so nothing
    /// failed (the worker releases a transcode whose job another process is writing). SQS has
    /// no such call: there every receive counts. A stale receipt changes nothing.
    pub fn release(&self, message: &QueuedMessage, delay_ms: u64) -> Result<(), PortError> {
        let conn = self.conn.lock().unwrap();
        conn.execute(
            "UPDATE queue SET visible_at_ms = ?3, receive_count = MAX(receive_count - 1, 0)
             WHERE id = ?1 AND receipt = ?2",
            params![row_id(message), message.receipt, self.now() + delay_ms as i64],
        )
        .map_err(db)?;
        Ok(())
    }
}

impl MessageQueue for Database {
    /// Queues `body`; with a `dedupe_id`, only the first send of that id is queued.
    fn send(&self, body: &str, dedupe_id: Option<&str>) -> Result<bool, PortError> {
        let mut conn = self.conn.lock().unwrap();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        if let Some(id) = dedupe_id
            && tx
                .execute("INSERT OR IGNORE INTO sent (dedupe_id) VALUES (?1)", [id])
                .map_err(db)?
                == 0
        {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO queue (body, visible_at_ms) VALUES (?1, ?2)",
            params![body, self.now()],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    /// The oldest visible message, hidden for `visibility_ms`. Messages already received
    /// `max_receives` times go to the dead-letter table instead.
    fn receive(&self, visibility_ms: u64, max_receives: u32) -> Result<Option<QueuedMessage>, PortError> {
        let mut conn = self.conn.lock().unwrap();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let now = self.now();
        loop {
            let next: Option<(i64, String, u32, Option<String>)> = tx
                .query_row(
                    "SELECT id, body, receive_count, last_error FROM queue WHERE visible_at_ms <= ?1 ORDER BY visible_at_ms, id LIMIT 1",
                    [now],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .map_err(db)?;
            let Some((id, body, count, last_error)) = next else {
                tx.commit().map_err(db)?;
                return Ok(None);
            };
            if count >= max_receives {
                tx.execute(
                    "INSERT INTO dead_letters (body, receive_count, last_error, moved_at_ms) VALUES (?1, ?2, ?3, ?4)",
                    params![body, count, last_error, now],
                )
                .map_err(db)?;
                tx.execute("DELETE FROM queue WHERE id = ?1", [id]).map_err(db)?;
                tracing::warn!(message = id, receives = count, "message moved to the dead-letter table");
                continue;
            }
            let receipt = ulid::Ulid::generate().to_string();
            tx.execute(
                "UPDATE queue SET receive_count = receive_count + 1, visible_at_ms = ?2, receipt = ?3 WHERE id = ?1",
                params![id, now + visibility_ms as i64, receipt],
            )
            .map_err(db)?;
            tx.commit().map_err(db)?;
            return Ok(Some(QueuedMessage {
                id: id.to_string(),
                body,
                receive_count: count + 1,
                receipt,
            }));
        }
    }

    /// Done with a message. A stale receipt (the message was redelivered) deletes nothing.
    fn delete(&self, message: &QueuedMessage) -> Result<bool, PortError> {
        let conn = self.conn.lock().unwrap();
        let n = conn
            .execute(
                "DELETE FROM queue WHERE id = ?1 AND receipt = ?2",
                params![row_id(message), message.receipt],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    /// Keeps a message hidden for another `visibility_ms` (long work in progress).
    fn extend(&self, message: &QueuedMessage, visibility_ms: u64) -> Result<(), PortError> {
        let conn = self.conn.lock().unwrap();
        conn.execute(
            "UPDATE queue SET visible_at_ms = ?3 WHERE id = ?1 AND receipt = ?2",
            params![row_id(message), message.receipt, self.now() + visibility_ms as i64],
        )
        .map_err(db)?;
        Ok(())
    }

    /// The message failed: it comes back after `delay_ms`, carrying `error`.
    fn retry(&self, message: &QueuedMessage, delay_ms: u64, error: &str) -> Result<(), PortError> {
        let conn = self.conn.lock().unwrap();
        conn.execute(
            "UPDATE queue SET visible_at_ms = ?3, last_error = ?4 WHERE id = ?1 AND receipt = ?2",
            params![row_id(message), message.receipt, self.now() + delay_ms as i64, error],
        )
        .map_err(db)?;
        Ok(())
    }
}

/// Our message ids are the queue table's row ids.
fn row_id(message: &QueuedMessage) -> i64 {
    message.id.parse().unwrap_or(-1)
}

fn status_text(status: VideoStatus) -> &'static str {
    match status {
        VideoStatus::Processing => "processing",
        VideoStatus::Done => "done",
        VideoStatus::Failed => "failed",
    }
}

/// A video row's columns, in the order [`read_record`] reads them by position (by-name
/// lookups cost a string search per column per row).
macro_rules! record_columns {
    () => {
        "id, user_id, title, description, status, failure_reason, created_at_ms, job_id, plan, renditions, \
         playback_path, thumbnail_path, duration_ms, dash_path"
    };
}

/// The same for listings, which never show the job or the plan: not read, not parsed.
macro_rules! listed_columns {
    () => {
        "id, user_id, title, description, status, failure_reason, created_at_ms, NULL, NULL, renditions, \
         playback_path, thumbnail_path, duration_ms, dash_path"
    };
}

fn read_record(r: &rusqlite::Row) -> rusqlite::Result<VideoRecord> {
    let status = r.get_ref(4)?;
    let plan: Option<String> = r.get(8)?;
    let renditions = r.get_ref(9)?;
    Ok(VideoRecord {
        id: r.get(0)?,
        user_id: r.get(1)?,
        title: r.get(2)?,
        description: r.get(3)?,
        status: match status.as_str()? {
            "done" => VideoStatus::Done,
            "failed" => VideoStatus::Failed,
            _ => VideoStatus::Processing,
        },
        failure_reason: r.get(5)?,
        created_at_ms: r.get::<_, i64>(6)? as u64,
        job_id: r.get(7)?,
        plan: plan.and_then(|p| serde_json::from_str(&p).ok()),
        // One UTF-8 check of the column, not one per string inside it.
        renditions: serde_json::from_str(renditions.as_str()?).unwrap_or_default(),
        playback_path: r.get(10)?,
        dash_path: r.get(13)?,
        thumbnail_path: r.get(11)?,
        duration_ms: r.get::<_, Option<i64>>(12)?.map(|d| d as u64),
    })
}

impl VideoRepository for Database {
    fn get(&self, id: &str) -> Result<Option<VideoRecord>, PortError> {
        let conn = self.conn.lock().unwrap();
        conn.query_row(
            concat!("SELECT ", record_columns!(), " FROM videos WHERE id = ?1"),
            [id],
            read_record,
        )
        .optional()
        .map_err(db)
    }

    fn create_if_absent(&self, record: &VideoRecord) -> Result<VideoRecord, PortError> {
        {
            let conn = self.conn.lock().unwrap();
            conn.execute(
                "INSERT OR IGNORE INTO videos (id, user_id, title, description, status, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    record.id,
                    record.user_id,
                    record.title,
                    record.description,
                    status_text(record.status),
                    record.created_at_ms as i64
                ],
            )
            .map_err(db)?;
        }
        self.get(&record.id)?
            .ok_or_else(|| PortError::Unavailable("the record vanished after it was written".into()))
    }

    fn claim_job(&self, id: &str, job_id: &str, plan: &Plan) -> Result<bool, PortError> {
        let conn = self.conn.lock().unwrap();
        let plan = serde_json::to_string(plan).map_err(|e| PortError::Unavailable(e.to_string()))?;
        let n = conn
            .execute(
                "UPDATE videos SET job_id = ?2, plan = ?3 WHERE id = ?1 AND status = 'processing' AND job_id IS NULL",
                params![id, job_id, plan],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    fn finish(&self, id: &str, outcome: &Outcome) -> Result<bool, PortError> {
        let conn = self.conn.lock().unwrap();
        let renditions =
            serde_json::to_string(&outcome.renditions).map_err(|e| PortError::Unavailable(e.to_string()))?;
        let n = conn
            .execute(
                "UPDATE videos SET status = ?2, failure_reason = ?3, renditions = ?4, playback_path = ?5,
                 thumbnail_path = ?6, duration_ms = ?7, dash_path = ?8 WHERE id = ?1 AND status = 'processing'",
                params![
                    id,
                    status_text(outcome.status()),
                    outcome.failure_reason,
                    renditions,
                    outcome.playback_path,
                    outcome.thumbnail_path,
                    outcome.duration_ms.map(|d| d as i64),
                    outcome.dash_path
                ],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    fn describe(&self, id: &str, user_id: &str, details: &Details, created_at_ms: u64) -> Result<Described, PortError> {
        let mut conn = self.conn.lock().unwrap();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let existing: Option<(Option<String>, Option<String>)> = tx
            .query_row("SELECT user_id, title FROM videos WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(db)?;
        let created = match existing {
            None => {
                tx.execute(
                    "INSERT INTO videos (id, user_id, title, description, status, created_at_ms) VALUES (?1, ?2, ?3, ?4, 'processing', ?5)",
                    params![id, user_id, details.title, details.description, created_at_ms as i64],
                )
                .map_err(db)?;
                true
            }
            Some((owner, _)) if owner.as_deref() != Some(user_id) => return Ok(Described::NotOwner),
            Some((_, Some(_))) => return Ok(Described::AlreadyDescribed),
            Some((_, None)) => {
                tx.execute(
                    "UPDATE videos SET title = ?2, description = ?3 WHERE id = ?1",
                    params![id, details.title, details.description],
                )
                .map_err(db)?;
                false
            }
        };
        let record = tx
            .query_row(
                concat!("SELECT ", record_columns!(), " FROM videos WHERE id = ?1"),
                [id],
                read_record,
            )
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(if created {
            Described::Created(record)
        } else {
            Described::Completed(record)
        })
    }

    fn list_done(&self, after: Option<&Cursor>, limit: usize) -> Result<Page, PortError> {
        self.list_readers.read(|conn| {
            let (ms, id) = cursor_bounds(after);
            // The limit is part of the text: SQLite re-plans a statement whose bound LIMIT
            // changes, so a bound limit would be prepared again on every query.
            let sql = format!(
                concat!(
                    "SELECT ",
                    listed_columns!(),
                    " FROM videos WHERE status = 'done' AND title IS NOT NULL \
                     AND (created_at_ms, id) < (?1, ?2) ORDER BY created_at_ms DESC, id DESC LIMIT {}"
                ),
                limit + 1
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map(params![ms, id], read_record)?;
            Ok(page(rows.collect::<rusqlite::Result<_>>()?, limit))
        })
    }

    fn list_owned(&self, user_id: &str, after: Option<&Cursor>, limit: usize) -> Result<Page, PortError> {
        self.list_readers.read(|conn| {
            let (ms, id) = cursor_bounds(after);
            let sql = format!(
                concat!(
                    "SELECT ",
                    listed_columns!(),
                    " FROM videos WHERE user_id = ?3 \
                     AND (created_at_ms, id) < (?1, ?2) ORDER BY created_at_ms DESC, id DESC LIMIT {}"
                ),
                limit + 1
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map(params![ms, id, user_id], read_record)?;
            Ok(page(rows.collect::<rusqlite::Result<_>>()?, limit))
        })
    }

    fn delete_video(&self, id: &str) -> Result<bool, PortError> {
        let conn = self.conn.lock().unwrap();
        Ok(conn.execute("DELETE FROM videos WHERE id = ?1", [id]).map_err(db)? == 1)
    }

    /// Listings read on connections of their own, one per CPU (see `list_readers`): in WAL
    /// mode they never wait for the writer, and a page is a few dozen microseconds of work on
    /// the page cache.
    fn lists_without_waiting(&self) -> bool {
        true
    }
}

/// The keyset bound of a listing: everything strictly older than the cursor (or all).
fn cursor_bounds(after: Option<&Cursor>) -> (i64, String) {
    match after {
        Some(cursor) => (cursor.created_at_ms.min(i64::MAX as u64) as i64, cursor.id.clone()),
        None => (i64::MAX, String::new()),
    }
}

/// `rows` holds up to `limit + 1` records; the extra one only says another page follows.
fn page(mut rows: Vec<VideoRecord>, limit: usize) -> Page {
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        rows.last().map(Cursor::after)
    });
    Page {
        videos: rows,
        next: next.flatten(),
    }
}

fn read_account(r: &rusqlite::Row) -> rusqlite::Result<Account> {
    Ok(Account {
        user_id: r.get("user_id")?,
        username: r.get("username")?,
        password_hash: r.get("password_hash")?,
        created_at_ms: r.get::<_, i64>("created_at_ms")? as u64,
    })
}

impl AccountStore for Database {
    fn create_account(&self, account: &Account) -> Result<bool, PortError> {
        let conn = self.conn.lock().unwrap();
        let n = conn
            .execute(
                "INSERT INTO accounts (user_id, username, password_hash, created_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
                params![
                    account.user_id,
                    account.username,
                    account.password_hash,
                    account.created_at_ms as i64
                ],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    fn find_account(&self, username: &str) -> Result<Option<Account>, PortError> {
        self.readers.read(|conn| {
            conn.query_row("SELECT * FROM accounts WHERE username = ?1", [username], read_account)
                .optional()
        })
    }

    fn find_account_by_id(&self, user_id: &str) -> Result<Option<Account>, PortError> {
        self.readers.read(|conn| {
            conn.query_row("SELECT * FROM accounts WHERE user_id = ?1", [user_id], read_account)
                .optional()
        })
    }

    fn store_refresh_token(&self, token_hash: &str, user_id: &str, expires_at_ms: u64) -> Result<(), PortError> {
        let conn = self.conn.lock().unwrap();
        conn.execute(
            "INSERT INTO refresh_tokens (token_hash, user_id, expires_at_ms) VALUES (?1, ?2, ?3)",
            params![token_hash, user_id, expires_at_ms as i64],
        )
        .map_err(db)?;
        // Expired tokens are of no use to anyone: sweep them as new ones arrive.
        conn.execute("DELETE FROM refresh_tokens WHERE expires_at_ms <= ?1", [self.now()])
            .map_err(db)?;
        Ok(())
    }

    fn take_refresh_token(&self, token_hash: &str, now_ms: u64) -> Result<Option<String>, PortError> {
        let conn = self.conn.lock().unwrap();
        conn.query_row(
            "DELETE FROM refresh_tokens WHERE token_hash = ?1 RETURNING user_id, expires_at_ms",
            [token_hash],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )
        .optional()
        .map(|found| found.and_then(|(user, expires)| (expires as u64 > now_ms).then_some(user)))
        .map_err(db)
    }
}
