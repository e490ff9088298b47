//! What the pipeline needs from the outside world. Adapters (embedded, AWS, wasm runtime)
//! implement these; only binaries wire them together.

use std::path::Path;

use crate::video::{Cursor, Described, Details, Outcome, Page, VideoRecord};
use crate::{Action, JobContext, JobDocument, JobResult, LadderPreset, Plan, PluginError, Probe, Video};

/// Learns a source's size, duration, rotation and streams.
pub trait Prober {
    fn probe(&self, source: &Path) -> Result<Probe, ProbeError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{0}")]
    NotAVideo(String),
    #[error("the prober could not run: {0}")]
    Unavailable(String),
}

/// The active policy: the three plugin stages and the ladder preset they run with.
/// Every output is already checked when it is returned.
pub trait Policy: Send + Sync {
    fn preset(&self) -> &LadderPreset;
    fn plan(&self, source: &Probe) -> Result<Plan, PluginError>;
    fn build_job(&self, plan: &Plan, context: &JobContext) -> Result<JobDocument, PluginError>;
    fn post_process(&self, video: &Video, result: &JobResult) -> Result<Vec<Action>, PluginError>;
}

/// A storage or messaging adapter that could not do its job; the work is retried.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// A service an adapter called refused or failed, and whether asking again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// Asking again later may work: throttling, a server error, a timeout, no connection.
    #[error("{0}")]
    Unavailable(String),
    /// The service refused this request and will refuse it again as it stands (a 4xx other
    /// than throttling): retrying is pointless.
    #[error("{0}")]
    Rejected(String),
}

impl From<Unavailable> for ServiceError {
    fn from(e: Unavailable) -> Self {
        Self::Unavailable(e.0)
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
    fn head(&self, key: &str) -> Result<Option<ObjectMeta>, Unavailable>;
    /// How a job document names the upload `key` (`s3://…`, `file://…`).
    fn source_uri(&self, key: &str) -> String;
    /// Where a job writes a video's media, ending in '/'.
    fn output_prefix(&self, video_id: &str) -> String;
    /// Probes the upload `key`.
    fn probe(&self, key: &str) -> Result<Probe, ProbeError>;
    fn delete_source(&self, key: &str) -> Result<(), Unavailable>;
    /// Removes everything published for a video (its output prefix).
    fn delete_media(&self, video_id: &str) -> Result<(), Unavailable>;
}

/// Video records. Every change is conditional, so repeated or out-of-order events cannot
/// undo a final state.
pub trait VideoRepository: Send + Sync {
    fn get(&self, id: &str) -> Result<Option<VideoRecord>, Unavailable>;
    /// Stores `record` unless one with its id exists; returns what is stored.
    fn create_if_absent(&self, record: &VideoRecord) -> Result<VideoRecord, Unavailable>;
    /// Records the job and plan of a processing video that has no job yet; false otherwise.
    fn claim_job(&self, id: &str, job_id: &str, plan: &Plan) -> Result<bool, Unavailable>;
    /// Applies the final state of a processing video; false if it was no longer processing.
    fn finish(&self, id: &str, outcome: &Outcome) -> Result<bool, Unavailable>;
    /// Adds the uploader's details: creates the record (`processing`) if the upload event
    /// has not, completes it if it has. Never changes another user's record or details
    /// already given.
    fn describe(
        &self,
        id: &str,
        user_id: &str,
        details: &Details,
        created_at_ms: u64,
    ) -> Result<Described, Unavailable>;
    /// `done` videos with details, newest first.
    fn list_done(&self, after: Option<&Cursor>, limit: usize) -> Result<Page, Unavailable>;
    /// A user's videos in every status, newest first.
    fn list_owned(&self, user_id: &str, after: Option<&Cursor>, limit: usize) -> Result<Page, Unavailable>;
    /// Removes a record; false if there was none.
    fn delete_video(&self, id: &str) -> Result<bool, Unavailable>;
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
    fn create_account(&self, account: &Account) -> Result<bool, Unavailable>;
    fn find_account(&self, username: &str) -> Result<Option<Account>, Unavailable>;
    fn find_account_by_id(&self, user_id: &str) -> Result<Option<Account>, Unavailable>;
    fn store_refresh_token(&self, token_hash: &str, user_id: &str, expires_at_ms: u64) -> Result<(), Unavailable>;
    /// Removes a refresh token and returns its user if it had not expired at `now_ms`:
    /// each token is used once (the caller gets a new one).
    fn take_refresh_token(&self, token_hash: &str, now_ms: u64) -> Result<Option<String>, Unavailable>;
}

/// Starts transcode jobs. Submitting the same `job_id` twice starts one job.
pub trait Transcoder: Send + Sync {
    /// `Rejected` when the transcoder refuses this job as it stands (the video then fails at
    /// once); `Unavailable` when asking again later may work.
    fn submit(&self, job_id: &str, video_id: &str, job: &JobDocument) -> Result<(), ServiceError>;
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
    fn send(&self, body: &str, dedupe_id: Option<&str>) -> Result<bool, Unavailable>;
    fn receive(&self, visibility_ms: u64, max_receives: u32) -> Result<Option<QueuedMessage>, Unavailable>;
    /// Done with a message; `false` if the receipt is stale.
    fn delete(&self, message: &QueuedMessage) -> Result<bool, Unavailable>;
    /// Keeps a message hidden for another `visibility_ms` while long work goes on.
    fn extend(&self, message: &QueuedMessage, visibility_ms: u64) -> Result<(), Unavailable>;
    /// The message failed: it comes back after `delay_ms`, carrying `error`.
    fn retry(&self, message: &QueuedMessage, delay_ms: u64, error: &str) -> Result<(), Unavailable>;
}

/// New video ids (ULIDs in both modes: sortable by creation time).
pub trait IdGenerator: Send + Sync {
    fn new_id(&self) -> String;
}
