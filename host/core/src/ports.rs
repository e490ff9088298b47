//! What the pipeline needs from the outside world. Adapters (embedded, AWS, wasm runtime)
//! implement these; only binaries wire them together.

use std::path::Path;

use crate::video::{Cursor, Described, Details, Outcome, Page, VideoRecord};
use crate::{Action, Analysis, JobContext, JobDocument, JobResult, LadderPreset, Plan, PluginError, Probe, Video};

/// Learns a source's size, duration, rotation and streams. `Rejected` when the source is not
/// a video vodpipe can use (the reason says why, for its uploader); `NotFound` when there is
/// no such source.
pub trait Prober {
    fn probe(&self, source: &Path) -> Result<Probe, PortError>;
}

/// The active policy: the three plugin stages and the ladder preset they run with.
/// Every output is already checked when it is returned.
pub trait Policy: Send + Sync {
    fn preset(&self) -> &LadderPreset;
    fn plan(&self, source: &Probe) -> Result<Plan, PluginError>;
    fn build_job(&self, plan: &Plan, context: &JobContext) -> Result<JobDocument, PluginError>;
    fn post_process(&self, video: &Video, result: &JobResult) -> Result<Vec<Action>, PluginError>;
}

/// Why a port's call did not succeed, which decides what its caller does next: every adapter
/// (storage, records, queue, transcoder, accounts, prober) answers with one of these three, and
/// [`crate::pipeline::next_step`] is the one rule the runners apply to them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Asking again later may work: throttling, a server error, a timeout, no connection, a
    /// busy database, expired credentials, or a resource of the deployment that is missing
    /// (a table, a bucket) until an operator restores it.
    #[error("{0}")]
    Unavailable(String),
    /// The request was refused as it stands and will be refused again (a 4xx other than
    /// throttling, a source that is not a video): retrying is pointless.
    #[error("{0}")]
    Rejected(String),
    /// The thing the call named (an object, a record) does not exist.
    #[error("{0}")]
    NotFound(String),
}

impl PortError {
    /// Whether asking again, unchanged, may succeed. A missing thing may appear (an upload
    /// whose event overtook its write), so only a refusal is final.
    pub fn retry_may_help(&self) -> bool {
        !matches!(self, Self::Rejected(_))
    }
}

/// What the object store knows about an object without reading it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMeta {
    pub size: u64,
    /// The `user-id` metadata the upload carried.
    pub user_id: Option<String>,
}

/// Raw uploads and published media.
pub trait ObjectStore: Send + Sync {
    fn head(&self, key: &str) -> Result<Option<ObjectMeta>, PortError>;
    /// How a job document names the upload `key` (`s3://…`, `file://…`).
    fn source_uri(&self, key: &str) -> String;
    /// Where a job writes a video's media, ending in '/'.
    fn output_prefix(&self, video_id: &str) -> String;
    /// Probes the upload `key`.
    fn probe(&self, key: &str) -> Result<Probe, PortError>;
    /// The content analysis of the upload `key` (for presets that ask for one), at frame
    /// rates up to `frame_rate_cap`. Never an error: a failed analysis is `Failed` with the
    /// reason, and the planner plans without it. Stores that do not analyse answer `NotRun`.
    fn analyse(&self, _key: &str, _probe: &Probe, _frame_rate_cap: f64) -> Analysis {
        Analysis::NotRun
    }
    fn delete_source(&self, key: &str) -> Result<(), PortError>;
    /// Removes everything published for a video (its output prefix).
    fn delete_media(&self, video_id: &str) -> Result<(), PortError>;
}

/// Video records. Every change is conditional, so repeated or out-of-order events cannot
/// undo a final state.
pub trait VideoRepository: Send + Sync {
    fn get(&self, id: &str) -> Result<Option<VideoRecord>, PortError>;
    /// Stores `record` unless one with its id exists; returns what is stored.
    fn create_if_absent(&self, record: &VideoRecord) -> Result<VideoRecord, PortError>;
    /// Records the job and plan of a processing video that has no job yet; false otherwise.
    fn claim_job(&self, id: &str, job_id: &str, plan: &Plan) -> Result<bool, PortError>;
    /// Applies the final state of a processing video; false if it was no longer processing.
    fn finish(&self, id: &str, outcome: &Outcome) -> Result<bool, PortError>;
    /// Adds the uploader's details: creates the record (`processing`) if the upload event
    /// has not, completes it if it has. Never changes another user's record or details
    /// already given.
    fn describe(&self, id: &str, user_id: &str, details: &Details, created_at_ms: u64) -> Result<Described, PortError>;
    /// `done` videos with details, newest first.
    fn list_done(&self, after: Option<&Cursor>, limit: usize) -> Result<Page, PortError>;
    /// A user's videos in every status, newest first.
    fn list_owned(&self, user_id: &str, after: Option<&Cursor>, limit: usize) -> Result<Page, PortError>;
    /// Removes a record; false if there was none.
    fn delete_video(&self, id: &str) -> Result<bool, PortError>;
    /// Whether the listings answer without waiting on a network or a lock (a local database
    /// read on connections of its own; at most the disk). An async caller may then call them
    /// where it runs instead of handing them to a thread that may block; the default says no.
    fn lists_without_waiting(&self) -> bool {
        false
    }
}

/// A local account (embedded mode; AWS mode keeps accounts in Cognito).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user_id: String,
    pub username: String,
    /// A PHC string (`$argon2id$…`).
    pub password_hash: String,
    pub created_at_ms: u64,
}

/// Local accounts and their refresh tokens. Tokens are stored as hashes only.
pub trait AccountStore: Send + Sync {
    /// Stores a new account; false if the username is taken (compared case-insensitively).
    fn create_account(&self, account: &Account) -> Result<bool, PortError>;
    fn find_account(&self, username: &str) -> Result<Option<Account>, PortError>;
    fn find_account_by_id(&self, user_id: &str) -> Result<Option<Account>, PortError>;
    fn store_refresh_token(&self, token_hash: &str, user_id: &str, expires_at_ms: u64) -> Result<(), PortError>;
    /// Removes a refresh token and returns its user if it had not expired at `now_ms`:
    /// each token is used once (the caller gets a new one).
    fn take_refresh_token(&self, token_hash: &str, now_ms: u64) -> Result<Option<String>, PortError>;
}

/// Starts transcode jobs. Submitting the same `job_id` twice starts one job.
pub trait Transcoder: Send + Sync {
    /// `Rejected` when the transcoder refuses this job as it stands (the video then fails at
    /// once); `Unavailable` when asking again later may work.
    fn submit(&self, job_id: &str, video_id: &str, job: &JobDocument) -> Result<(), PortError>;
}

/// Wall-clock time, replaceable in tests.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> u64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// Which delivery of a message this is, against the queue's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// 1 on the first delivery (SQS's `ApproximateReceiveCount`).
    pub receive_count: u32,
    /// Receives after which the queue moves the message to its dead letters instead (SQS's
    /// `maxReceiveCount`).
    pub max_receives: u32,
}

impl Delivery {
    /// No delivery follows this one: a failure now is final, so the runner gives up
    /// ([`crate::pipeline::give_up`]).
    pub fn is_last(self) -> bool {
        self.receive_count >= self.max_receives
    }
}

/// A message a queue handed to a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedMessage {
    pub id: String,
    pub body: String,
    /// 1 on the first delivery.
    pub receive_count: u32,
    /// Proves the worker still owns the message: a late worker's delete does nothing.
    pub receipt: String,
}

/// A durable queue with SQS semantics: a received message is hidden for a visibility
/// timeout and comes back unless deleted; after `max_receives` receives it goes to a
/// dead-letter store instead. Sends with a deduplication id happen once.
pub trait MessageQueue: Send + Sync {
    /// Queues `body`; `false` when `dedupe_id` was sent before.
    fn send(&self, body: &str, dedupe_id: Option<&str>) -> Result<bool, PortError>;
    fn receive(&self, visibility_ms: u64, max_receives: u32) -> Result<Option<QueuedMessage>, PortError>;
    /// Done with a message; `false` if the receipt is stale.
    fn delete(&self, message: &QueuedMessage) -> Result<bool, PortError>;
    /// Keeps a message hidden for another `visibility_ms` while long work goes on.
    fn extend(&self, message: &QueuedMessage, visibility_ms: u64) -> Result<(), PortError>;
    /// The message failed: it comes back after `delay_ms`, carrying `error`.
    fn retry(&self, message: &QueuedMessage, delay_ms: u64, error: &str) -> Result<(), PortError>;
}

/// New video ids (ULIDs in both modes: sortable by creation time).
pub trait IdGenerator: Send + Sync {
    fn new_id(&self) -> String;
}
