//! The pipeline: two functions, each safe to run again for the same event.
//!
//! - [`Pipeline::on_upload`]: head the object → probe → content analysis (when the preset
//!   asks) → planner → job builder → submit the
//!   job; the video is `processing`.
//! - [`Pipeline::on_job_state`]: job result → post-processor → carry out its actions; the
//!   video is `done` or `failed`.
//!
//! A repeated event changes nothing and starts no second job; an event for an old job, or
//! one arriving after the video is final, is ignored. Everything the video itself is to blame
//! for (a source that is not a video, a plan or job the policy cannot make, a job the
//! transcoder refuses) ends as `failed` with a reason a person understands. `Err` is a port's
//! [`PortError`] for the runner to act on.
//!
//! [`next_step`] and [`give_up`] are the one rule for a message that failed, which the embedded
//! worker and the Lambda handlers both apply: it is delivered again while asking again may help
//! and deliveries are left; otherwise (a refusal, or its last allowed delivery) its video is
//! failed rather than left `processing` for ever.

use crate::JobStateChange;
use crate::action::Action;
use crate::ports::{Clock, Delivery, ObjectStore, Policy, PortError, Transcoder, VideoRepository};
use crate::video::{Outcome, VideoRecord, VideoStatus};
use crate::{JobContext, JobStatus};

pub struct Pipeline<'a> {
    pub store: &'a dyn ObjectStore,
    pub repository: &'a dyn VideoRepository,
    pub transcoder: &'a dyn Transcoder,
    pub policy: &'a dyn Policy,
    pub clock: &'a dyn Clock,
    /// MediaConvert service role and queue for job documents (empty in embedded mode).
    pub role: String,
    pub queue: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadOutcome {
    /// A job was submitted (or submitted again, which the transcoder deduplicates).
    Submitted { job_id: String },
    /// The video already has a final status.
    AlreadyFinal,
    /// The object is gone (deleted after processing, or never written).
    NoSuchObject,
    /// The video was marked failed; the reason is on the record.
    Failed(String),
}

/// What [`give_up`] did to the video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GaveUp {
    /// The video is now `failed` with this reason.
    Failed(String),
    /// The video was already `done` or `failed`, and stays so.
    AlreadyFinal,
    /// There is no record of the video.
    NoSuchVideo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStateOutcome {
    Finished(VideoStatus),
    /// The event is a repeat, for an older job, or for a video that is already final.
    Ignored(&'static str),
}

/// A video's creation time: the time in its ULID (minted when the upload was requested), so
/// the record is the same whichever of the upload event and the API call creates it.
pub fn created_at_ms(video_id: &str, clock: &dyn Clock) -> u64 {
    crate::video::ulid_time_ms(video_id).unwrap_or_else(|| clock.now_ms())
}

/// What a runner does with a message whose handling failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Deliver it again later.
    Retry,
    /// No later delivery can do better: its video is failed ([`give_up`]).
    GiveUp,
}

/// The rule for a message that failed with `error` on `delivery`: retried while asking again
/// may help and the queue will deliver it again, given up on otherwise.
pub fn next_step(error: &PortError, delivery: Delivery) -> NextStep {
    if error.retry_may_help() && !delivery.is_last() {
        NextStep::Retry
    } else {
        NextStep::GiveUp
    }
}

/// A message about `video_id` failed for good (see [`next_step`]), `attempts` being its
/// deliveries: the video is failed with the last error rather than left `processing` for
/// ever. Conditional like every final state, so a video already `done` (or `failed`) is
/// never changed. `Err` when even this write fails: the message is then only in the queue's
/// dead letters.
pub fn give_up(
    repository: &dyn VideoRepository,
    video_id: &str,
    attempts: u32,
    last_error: &str,
) -> Result<GaveUp, PortError> {
    let plural = if attempts == 1 { "" } else { "s" };
    let reason = format!("processing gave up after {attempts} attempt{plural}: {last_error}");
    if repository.finish(video_id, &Outcome::failed(reason.clone()))? {
        return Ok(GaveUp::Failed(reason));
    }
    Ok(match repository.get(video_id)? {
        Some(_) => GaveUp::AlreadyFinal,
        None => GaveUp::NoSuchVideo,
    })
}

/// A job's id is derived from its video, so a resubmission is recognisably the same job.
pub fn job_id(video_id: &str) -> String {
    format!("{video_id}-hls")
}

impl Pipeline<'_> {
    pub fn on_upload(&self, key: &str) -> Result<UploadOutcome, PortError> {
        let Some(meta) = self.store.head(key)? else {
            return Ok(UploadOutcome::NoSuchObject);
        };
        let record =
            self.repository
                .create_if_absent(&VideoRecord::new(key, meta.user_id, created_at_ms(key, self.clock)))?;
        if record.status != VideoStatus::Processing {
            return Ok(UploadOutcome::AlreadyFinal);
        }
        // A redelivery after the job was claimed reuses its plan: no second probe.
        let plan = match (&record.plan, record.job_id.is_some()) {
            (Some(plan), true) => plan.clone(),
            _ => {
                let mut probe = match self.store.probe(key) {
                    Ok(probe) => probe,
                    Err(PortError::Rejected(why)) => return self.refuse(key, why),
                    // Deleted since the head (its video was deleted by its owner).
                    Err(PortError::NotFound(_)) => return Ok(UploadOutcome::NoSuchObject),
                    Err(e) => return Err(e),
                };
                let preset = self.policy.preset();
                if preset.analyse_content {
                    probe.analysis = self.store.analyse(key, &probe, preset.frame_rate_cap);
                }
                match self.policy.plan(&probe) {
                    Ok(plan) => plan,
                    Err(e) => return self.fail(key, format!("the encoding policy could not plan this video ({e})")),
                }
            }
        };
        let context = JobContext {
            video_id: key.to_owned(),
            input_uri: self.store.source_uri(key),
            output_prefix: self.store.output_prefix(key),
            role: self.role.clone(),
            queue: self.queue.clone(),
        };
        let job = match self.policy.build_job(&plan, &context) {
            Ok(job) => job,
            Err(e) => return self.fail(key, format!("the encoding policy could not build a job ({e})")),
        };
        let job_id = record.job_id.clone().unwrap_or_else(|| job_id(key));
        if record.job_id.is_none() && !self.repository.claim_job(key, &job_id, &plan)? {
            // Another delivery of this event claimed it first; it submits the job.
            return Ok(UploadOutcome::Submitted { job_id });
        }
        match self.transcoder.submit(&job_id, key, &job) {
            Ok(()) => Ok(UploadOutcome::Submitted { job_id }),
            // Resubmitting the same job would be refused the same way.
            Err(PortError::Rejected(why)) => self.fail(key, format!("the transcoder refused the job: {why}")),
            Err(e) => Err(e),
        }
    }

    pub fn on_job_state(&self, change: &JobStateChange) -> Result<JobStateOutcome, PortError> {
        let Some(record) = self.repository.get(&change.video_id)? else {
            // Every submitted job has a record, so the video was deleted while it was
            // transcoding: whatever the job published is removed too.
            self.store.delete_media(&change.video_id)?;
            return Ok(JobStateOutcome::Ignored("no such video"));
        };
        if record.status != VideoStatus::Processing {
            return Ok(JobStateOutcome::Ignored("the video is already final"));
        }
        if record.job_id.as_deref() != Some(change.result.job_id.as_str()) {
            return Ok(JobStateOutcome::Ignored("the event is for another job"));
        }
        let (outcome, delete_source) = match self.policy.post_process(&record.summary(), &change.result) {
            Ok(actions) => outcome(&actions),
            Err(e) => {
                let reason = match change.result.status {
                    JobStatus::Error => change
                        .result
                        .error_message
                        .clone()
                        .unwrap_or_else(|| "processing failed".into()),
                    JobStatus::Complete => format!("the video was encoded but could not be published ({e})"),
                };
                (Outcome::failed(reason), false)
            }
        };
        if !self.repository.finish(&record.id, &outcome)? {
            return Ok(JobStateOutcome::Ignored("the video is already final"));
        }
        if delete_source {
            // The status is stored first: a failed delete leaves a stray upload, never a
            // video whose only copy is gone.
            self.store.delete_source(&record.id)?;
        }
        Ok(JobStateOutcome::Finished(outcome.status()))
    }

    fn fail(&self, key: &str, reason: String) -> Result<UploadOutcome, PortError> {
        self.repository.finish(key, &Outcome::failed(reason.clone()))?;
        Ok(UploadOutcome::Failed(reason))
    }

    /// An upload that is not a video (audio only, a photo, noise, a cut-off file) can never
    /// become one, so it is not kept: the video is failed and the upload deleted. The status
    /// is stored first: a failed delete leaves a stray upload, never a video without a reason.
    fn refuse(&self, key: &str, reason: String) -> Result<UploadOutcome, PortError> {
        let outcome = self.fail(key, reason)?;
        self.store.delete_source(key)?;
        Ok(outcome)
    }
}

/// The post-processor's actions as one final state, and whether to delete the source.
fn outcome(actions: &[Action]) -> (Outcome, bool) {
    let mut outcome = Outcome::default();
    let mut delete = false;
    for action in actions {
        match action {
            Action::SetDone => {}
            Action::SetFailed(reason) => outcome.failure_reason = Some(reason.clone()),
            Action::RecordPlayback(path) => outcome.playback_path = Some(path.clone()),
            Action::RecordDashManifest(path) => outcome.dash_path = Some(path.clone()),
            Action::RecordThumbnail(path) => outcome.thumbnail_path = Some(path.clone()),
            Action::RecordRenditions(renditions) => outcome.renditions = renditions.clone(),
            Action::RecordDuration(ms) => outcome.duration_ms = Some(*ms),
            Action::DeleteSource => delete = true,
        }
    }
    (outcome, delete)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(receive_count: u32) -> Delivery {
        Delivery {
            receive_count,
            max_receives: 3,
        }
    }

    #[test]
    fn only_a_refusal_or_the_last_delivery_gives_up() {
        let unavailable = PortError::Unavailable("throttled".into());
        let missing = PortError::NotFound("no such key".into());
        let rejected = PortError::Rejected("bad request".into());
        for error in [&unavailable, &missing] {
            assert_eq!(next_step(error, delivery(1)), NextStep::Retry, "{error:?}");
            assert_eq!(next_step(error, delivery(2)), NextStep::Retry, "{error:?}");
            assert_eq!(next_step(error, delivery(3)), NextStep::GiveUp, "{error:?}");
        }
        assert_eq!(next_step(&rejected, delivery(1)), NextStep::GiveUp);
    }
}
