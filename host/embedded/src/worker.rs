//! The embedded worker: takes [`WorkMessage`]s off the durable queue and runs the pipeline:
//! an upload is planned and its job queued ([`QueueTranscoder`]), a transcode runs ffmpeg and
//! queues its result, a result finishes the video.

use std::time::{Duration, Instant};

use serde_json::Value;
use vodpipe_core::pipeline::{GaveUp, NextStep, Pipeline, give_up, next_step};
use vodpipe_core::ports::{Delivery, MessageQueue, PortError, QueuedMessage, Transcoder};
use vodpipe_core::{JobDocument, JobResult, JobStateChange};

use crate::ffmpeg;
use crate::job_lock::JobLock;
use crate::message;
use crate::sqlite::Database;
use crate::work::{WorkMessage, result_dedupe_id};

/// Submits jobs by queueing them for the worker; a job id is queued once, ever.
pub struct QueueTranscoder<'a> {
    pub queue: &'a dyn MessageQueue,
}

impl Transcoder for QueueTranscoder<'_> {
    fn submit(&self, job_id: &str, video_id: &str, job: &JobDocument) -> Result<(), PortError> {
        let job = serde_json::from_str(job.create_job.get())
            .map_err(|e| PortError::Rejected(format!("the job document is not JSON: {e}")))?;
        let message = WorkMessage::Transcode {
            video_id: video_id.to_owned(),
            job_id: job_id.to_owned(),
            job,
        };
        send(self.queue, &message)?;
        Ok(())
    }
}

/// Queues a message once: `false` when it was sent before.
pub fn send(queue: &dyn MessageQueue, message: &WorkMessage) -> Result<bool, PortError> {
    queue.send(&message.to_body(), Some(&message.dedupe_id()))
}

/// Queues the message for a stored upload (what S3's notification is in AWS mode).
pub fn upload_event(queue: &dyn MessageQueue, key: &str) -> Result<(), PortError> {
    send(queue, &WorkMessage::Upload { key: key.to_owned() }).map(|_| ())
}

#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// How long a received message stays hidden; long work extends it as it goes.
    pub visibility: Duration,
    /// Receives before a message goes to the dead-letter table.
    pub max_receives: u32,
    /// First retry delay; doubled on each further failure.
    pub backoff: Duration,
    /// How long a transcode whose job another process is writing stays away before it is
    /// tried again. Such a delivery does not count against `max_receives` (nothing was
    /// tried), so an encode of any length never sends it to the dead letters; the worker
    /// handles other messages meanwhile.
    pub locked_retry: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            visibility: Duration::from_secs(60),
            max_receives: 5,
            backoff: Duration::from_millis(500),
            // Seldom enough to cost nothing (one receive and one lock attempt), soon enough
            // that a job whose holder died runs again well before a visibility timeout would
            // have brought it back.
            locked_retry: Duration::from_secs(15),
        }
    }
}

/// A message handled without failing.
enum Handled {
    /// Done with: it is deleted.
    Finished,
    /// A transcode whose job another process holds: it is released, to come back later.
    JobLocked,
}

pub struct Worker<'a> {
    /// The embedded queue itself rather than any [`MessageQueue`]: a transcode needs two
    /// things SQS lacks, the send-once record ([`Database::was_sent`]) and a release that does
    /// not count the receive ([`Database::release`]).
    pub queue: &'a Database,
    pub pipeline: Pipeline<'a>,
    pub config: WorkerConfig,
}

impl Worker<'_> {
    /// Handles one message, if one is visible. `progress` hears transcode progress (0..=1).
    pub fn run_once(&self, progress: &mut dyn FnMut(f64)) -> Result<bool, PortError> {
        let Some(message) = self
            .queue
            .receive(self.config.visibility.as_millis() as u64, self.config.max_receives)?
        else {
            return Ok(false);
        };
        let delivery = Delivery {
            receive_count: message.receive_count,
            max_receives: self.config.max_receives,
        };
        match self.handle(&message, progress) {
            Ok(Handled::Finished) => {
                self.queue.delete(&message)?;
            }
            Ok(Handled::JobLocked) => {
                self.queue
                    .release(&message, self.config.locked_retry.as_millis() as u64)?;
            }
            Err(error) => {
                let why = error.to_string();
                match next_step(&error, delivery) {
                    NextStep::Retry => {
                        let delay =
                            self.config.backoff.as_millis() as u64 * 2u64.saturating_pow(message.receive_count - 1);
                        tracing::warn!(
                            message = message.id,
                            receives = message.receive_count,
                            "message failed, retrying in {delay} ms: {why}"
                        );
                        self.queue.retry(&message, delay, &why)?;
                    }
                    NextStep::GiveUp => {
                        // Its video must not stay `processing` for ever; the message is kept
                        // in the dead letters, from where it can be redriven.
                        self.give_up(&message, &why);
                        self.queue.dead_letter(&message, &why)?;
                    }
                }
            }
        }
        Ok(true)
    }

    fn give_up(&self, message: &QueuedMessage, why: &str) {
        // The same reading of a message's video as `vodpipe queue dead-letters` shows.
        if let Some(video) = message::subject(&message.body).video_id.as_deref() {
            match give_up(self.pipeline.repository, video, message.receive_count, why) {
                Ok(GaveUp::Failed(reason)) => tracing::warn!(video, "video failed: {reason}"),
                Ok(other) => tracing::warn!(video, "gave up on a message, nothing to record: {other:?}"),
                Err(e) => tracing::error!(video, "could not record the failure: {e}"),
            }
        }
    }

    fn handle(&self, message: &QueuedMessage, progress: &mut dyn FnMut(f64)) -> Result<Handled, PortError> {
        // Unreadable now is unreadable on every delivery.
        let work = WorkMessage::parse(&message.body).map_err(PortError::Rejected)?;
        match work {
            WorkMessage::Upload { key } => {
                let outcome = self.pipeline.on_upload(&key)?;
                tracing::info!(key, ?outcome, "upload handled");
                Ok(Handled::Finished)
            }
            WorkMessage::Transcode { video_id, job_id, job } => {
                self.transcode(message, &video_id, &job_id, &job, progress)
            }
            WorkMessage::JobResult { video_id, result } => {
                let change = JobStateChange { video_id, result };
                let outcome = self.pipeline.on_job_state(&change)?;
                tracing::info!(video = %change.video_id, ?outcome, "job result handled");
                Ok(Handled::Finished)
            }
        }
    }

    /// Runs a transcode and queues its result. A job the embedded transcoder cannot run ends
    /// in an ERROR result, as MediaConvert would refuse it.
    ///
    /// Whether the job already ran is the queue's record to say: its result is sent once, with
    /// the job's dedupe id, in the same database. A delivery that finds it sent runs nothing,
    /// even if the video is still `processing` (the result is queued, not yet handled), since
    /// running would first clear the outputs the result is about to publish.
    ///
    /// The job's [`JobLock`] is held from before ffmpeg starts until the result is queued. A
    /// delivery that finds it taken (another worker on the data directory runs the job, or this
    /// message came back while the first run goes on) neither waits nor runs: the message is
    /// released, to be tried again after [`WorkerConfig::locked_retry`], and the worker goes on
    /// with other messages. Once the holder is done, the next try finds the result sent; if the
    /// holder died instead, the lock is free and the job runs again.
    fn transcode(
        &self,
        message: &QueuedMessage,
        video_id: &str,
        job_id: &str,
        job: &Value,
        progress: &mut dyn FnMut(f64),
    ) -> Result<Handled, PortError> {
        if self.already_done(video_id, job_id)? {
            return Ok(Handled::Finished);
        }
        let job = match ffmpeg::translate(job) {
            Ok(job) => job,
            Err(problems) => {
                let why = format!(
                    "the job uses settings the embedded transcoder does not support: {}",
                    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                );
                self.queue_result(video_id, &ffmpeg::error_result(job_id, 1999, why))?;
                return Ok(Handled::Finished);
            }
        };
        let lock = match JobLock::try_acquire(&job.output_dir) {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                tracing::info!(
                    job = job_id,
                    lock = %JobLock::path_for(&job.output_dir).display(),
                    "another process is writing this job; trying it again in {} s",
                    self.config.locked_retry.as_secs_f64()
                );
                return Ok(Handled::JobLocked);
            }
            Err(e) => {
                let why = format!("cannot lock the job's outputs: {e}");
                self.queue_result(video_id, &ffmpeg::error_result(job_id, 1401, why))?;
                return Ok(Handled::Finished);
            }
        };
        // The lock's last holder may have queued the result since the check above.
        if self.already_done(video_id, job_id)? {
            return Ok(Handled::Finished);
        }
        let mut last_extend = Instant::now();
        let source = self.pipeline.store.probe(video_id).ok();
        let result = ffmpeg::run(&job, &lock, job_id, source.as_ref(), |fraction| {
            progress(fraction);
            // Keep the message ours while ffmpeg works.
            if last_extend.elapsed() > self.config.visibility / 3 {
                let _ = self.queue.extend(message, self.config.visibility.as_millis() as u64);
                last_extend = Instant::now();
            }
        })
        // The machine failed, not the job (a full disk, say): the message comes back after
        // its backoff and the job runs again; only the last allowed delivery gives up.
        .map_err(|failure| PortError::Unavailable(failure.to_string()))?;
        self.queue_result(video_id, &result)?;
        Ok(Handled::Finished)
    }

    /// Whether a transcode has nothing left to do: its result is queued, or its video is no
    /// longer `processing` (published, failed or deleted: a late delivery must not overwrite it).
    fn already_done(&self, video_id: &str, job_id: &str) -> Result<bool, PortError> {
        if !self.still_processing(video_id)? {
            return Ok(true);
        }
        let sent = self.queue.was_sent(&result_dedupe_id(job_id))?;
        if sent {
            tracing::info!(job = job_id, "the job's result is already queued; nothing to run");
        }
        Ok(sent)
    }

    fn still_processing(&self, video_id: &str) -> Result<bool, PortError> {
        let record = self.pipeline.repository.get(video_id)?;
        Ok(record.is_some_and(|r| r.status == vodpipe_core::VideoStatus::Processing))
    }

    /// Queues a job's result, once per job.
    fn queue_result(&self, video_id: &str, result: &JobResult) -> Result<(), PortError> {
        let message = WorkMessage::JobResult {
            video_id: video_id.to_owned(),
            result: result.clone(),
        };
        send(self.queue, &message)?;
        Ok(())
    }

    /// Works until `done` says so or the queue stays empty for `idle`.
    pub fn run_until(
        &self,
        idle: Duration,
        progress: &mut dyn FnMut(f64),
        mut done: impl FnMut() -> bool,
    ) -> Result<(), PortError> {
        let mut idle_since = Instant::now();
        while !done() {
            if self.run_once(progress)? {
                idle_since = Instant::now();
            } else if idle_since.elapsed() > idle {
                break;
            } else {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }
}
