//! The embedded worker: takes messages off the durable queue and runs the pipeline.
//!
//! Three kinds of message share the queue:
//! - `{"kind": "upload", "key": …}`, sent when an upload is stored (S3's ObjectCreated);
//! - `{"kind": "transcode", "video_id": …, "job_id": …, "job": <CreateJob>}`, sent by
//!   [`QueueTranscoder`] (the MediaConvert submission);
//! - MediaConvert "Job State Change" events, sent when a transcode ends.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vodpipe_core::event::{job_state_event, parse_job_state_event};
use vodpipe_core::pipeline::{GaveUp, Pipeline, give_up};
use vodpipe_core::ports::{Delivery, MessageQueue, QueuedMessage, ServiceError, Transcoder, Unavailable};
use vodpipe_core::{JobDocument, JobResult};

use crate::ffmpeg;
use crate::job_lock::JobLock;

/// Submits jobs by queueing them for the worker; a job id is queued once, ever.
pub struct QueueTranscoder<'a> {
    pub queue: &'a dyn MessageQueue,
}

impl Transcoder for QueueTranscoder<'_> {
    fn submit(&self, job_id: &str, video_id: &str, job: &JobDocument) -> Result<(), ServiceError> {
        let body = json!({ "kind": "transcode", "video_id": video_id, "job_id": job_id, "job": job.create_job });
        self.queue
            .send(&body.to_string(), Some(&format!("transcode:{job_id}")))?;
        Ok(())
    }
}

/// Queues the event for a stored upload (what S3 would send).
pub fn upload_event(queue: &dyn MessageQueue, key: &str) -> Result<(), Unavailable> {
    queue
        .send(
            &json!({ "kind": "upload", "key": key }).to_string(),
            Some(&format!("upload:{key}")),
        )
        .map(|_| ())
}

#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// How long a received message stays hidden; long work extends it as it goes.
    pub visibility: Duration,
    /// Receives before a message goes to the dead-letter table.
    pub max_receives: u32,
    /// First retry delay; doubled on each further failure.
    pub backoff: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            visibility: Duration::from_secs(60),
            max_receives: 5,
            backoff: Duration::from_millis(500),
        }
    }
}

pub struct Worker<'a> {
    pub queue: &'a dyn MessageQueue,
    pub pipeline: Pipeline<'a>,
    pub config: WorkerConfig,
}

impl Worker<'_> {
    /// Handles one message, if one is visible. `progress` hears transcode progress (0..=1).
    pub fn run_once(&self, progress: &mut dyn FnMut(f64)) -> Result<bool, Unavailable> {
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
            Ok(()) => {
                self.queue.delete(&message)?;
            }
            Err(why) if delivery.is_last() => {
                // The last try: the message goes to the dead-letter table on its next receive.
                // Its video must not stay `processing` for ever.
                self.give_up(&message, &why);
                self.queue.retry(&message, 0, &why)?;
            }
            Err(why) => {
                let delay = self.config.backoff.as_millis() as u64 * 2u64.saturating_pow(message.receive_count - 1);
                tracing::warn!(
                    message = message.id,
                    receives = message.receive_count,
                    "message failed, retrying in {delay} ms: {why}"
                );
                self.queue.retry(&message, delay, &why)?;
            }
        }
        Ok(true)
    }

    fn give_up(&self, message: &QueuedMessage, why: &str) {
        let body: Value = serde_json::from_str(&message.body).unwrap_or_default();
        let video = body["key"]
            .as_str()
            .or(body["video_id"].as_str())
            .or(body["detail"]["userMetadata"]["video_id"].as_str());
        if let Some(video) = video {
            match give_up(self.pipeline.repository, video, message.receive_count, why) {
                Ok(GaveUp::Failed(reason)) => tracing::warn!(video, "video failed: {reason}"),
                Ok(other) => tracing::warn!(video, "gave up on a message, nothing to record: {other:?}"),
                Err(e) => tracing::error!(video, "could not record the failure: {e}"),
            }
        }
    }

    fn handle(&self, message: &QueuedMessage, progress: &mut dyn FnMut(f64)) -> Result<(), String> {
        let body: Value = serde_json::from_str(&message.body).map_err(|e| format!("not JSON: {e}"))?;
        match body["kind"].as_str() {
            Some("upload") => {
                let key = body["key"].as_str().ok_or("upload event without a key")?;
                let outcome = self.pipeline.on_upload(key).map_err(|e| e.to_string())?;
                tracing::info!(key, ?outcome, "upload handled");
                Ok(())
            }
            Some("transcode") => self.transcode(message, &body, progress),
            _ if body["detail-type"].is_string() => {
                let store = self.pipeline.store;
                let change = parse_job_state_event(&body, |id| store.output_prefix(id))?;
                let outcome = self.pipeline.on_job_state(&change).map_err(|e| e.to_string())?;
                tracing::info!(video = %change.video_id, ?outcome, "job state handled");
                Ok(())
            }
            _ => Err("unknown message kind".into()),
        }
    }

    /// Runs a transcode and queues its job-state event. A job the embedded transcoder
    /// cannot run ends in an ERROR event, as MediaConvert would refuse it.
    ///
    /// The job's [`JobLock`] is held from before ffmpeg starts until the result is queued and
    /// recorded in it. A second delivery of the same job (another worker on the data
    /// directory, or this message come back while the first run goes on) waits for the lock,
    /// keeping its message hidden, and then finds the result queued and runs nothing; after a
    /// holder that died, it runs the job again.
    fn transcode(&self, message: &QueuedMessage, body: &Value, progress: &mut dyn FnMut(f64)) -> Result<(), String> {
        let video_id = body["video_id"].as_str().ok_or("transcode without a video_id")?;
        let job_id = body["job_id"].as_str().ok_or("transcode without a job_id")?;
        // A redelivered transcode of a published (or failed) video must not overwrite it.
        if !self.still_processing(video_id)? {
            return Ok(());
        }
        let job = match ffmpeg::translate(&body["job"]) {
            Ok(job) => job,
            Err(problems) => {
                let why = format!(
                    "the job uses settings the embedded transcoder does not support: {}",
                    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                );
                return self.queue_result(video_id, &ffmpeg::error_result(job_id, 1999, why));
            }
        };
        let mut last_extend = Instant::now();
        // Keep the message ours while another process writes the job, then while ffmpeg works.
        let mut keep_hidden = || {
            if last_extend.elapsed() > self.config.visibility / 3 {
                let _ = self.queue.extend(message, self.config.visibility.as_millis() as u64);
                last_extend = Instant::now();
            }
        };
        let mut told = false;
        let lock = JobLock::acquire(&job.output_dir, || {
            if !told {
                tracing::info!(
                    job = job_id,
                    "another process is writing this job; waiting for it to finish"
                );
                told = true;
            }
            keep_hidden();
        });
        let mut lock = match lock {
            Ok(lock) => lock,
            Err(e) => {
                let why = format!("cannot lock the job's outputs: {e}");
                return self.queue_result(video_id, &ffmpeg::error_result(job_id, 1401, why));
            }
        };
        // An earlier holder may have finished the job while this delivery waited. A lock file
        // that cannot be read only costs a second run, whose result is deduplicated.
        if lock.finished(job_id).unwrap_or(false) || !self.still_processing(video_id)? {
            tracing::info!(job = job_id, "the job was finished by another delivery");
            return Ok(());
        }
        let source = self.pipeline.store.probe(video_id).ok();
        let result = ffmpeg::run_locked(&job, &lock, job_id, source.as_ref(), |fraction| {
            progress(fraction);
            keep_hidden();
        });
        self.queue_result(video_id, &result)?;
        if let Err(e) = lock.record_finished(job_id) {
            tracing::warn!(
                job = job_id,
                "could not record the queued result in the job's lock file: {e}"
            );
        }
        Ok(())
    }

    fn still_processing(&self, video_id: &str) -> Result<bool, String> {
        let record = self.pipeline.repository.get(video_id).map_err(|e| e.to_string())?;
        Ok(record.is_some_and(|r| r.status == vodpipe_core::VideoStatus::Processing))
    }

    /// Queues a job's result as its MediaConvert job-state event, once per job.
    fn queue_result(&self, video_id: &str, result: &JobResult) -> Result<(), String> {
        let prefix = self.pipeline.store.output_prefix(video_id);
        let event = job_state_event(video_id, &prefix, result, self.pipeline.clock.now_ms());
        self.queue
            .send(&event.to_string(), Some(&format!("state:{}", result.job_id)))
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Works until `done` says so or the queue stays empty for `idle`.
    pub fn run_until(
        &self,
        idle: Duration,
        progress: &mut dyn FnMut(f64),
        mut done: impl FnMut() -> bool,
    ) -> Result<(), Unavailable> {
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
