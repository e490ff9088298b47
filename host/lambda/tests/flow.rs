//! The upload → done flow on moto, with the handlers called as the Lambda runtime's SQS
//! poller calls them: S3 notifies the upload queue, `on_upload` submits the MediaConvert job
//! (captured), a COMPLETE job-state event arrives on the job-state queue, `on_job_state`
//! publishes the video and deletes the raw upload. Duplicates and a poison message too; and
//! what fails: a job MediaConvert refuses fails its video at once, throttling and 503s are
//! retried by redelivery, a message that fails on every delivery fails its video on the last
//! one (or, when even that cannot be recorded, ends in the dead-letter queue).

mod sqs;

use std::sync::Arc;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use vodpipe_aws::{Blocking, DynamoRepository, MediaConvertTranscoder, S3PolicyStore, S3Store};
use vodpipe_core::ports::{SystemClock, VideoRepository};
use vodpipe_core::{JobOutput, JobResult, JobStatus, VideoStatus};
use vodpipe_lambda::events::job_state_event;
use vodpipe_lambda::{FixedPolicy, Handlers, PolicySource, S3Policy};
use vodpipe_runtime::{Limits, PluginRuntime};
use vodpipe_test_support::capture::{Captured, Refusal, capture_endpoint};
use vodpipe_test_support::moto::{Moto, sample_mp4};

const VIDEO: &str = "01KBFLOW000000000000000000";
/// The queues' `maxReceiveCount`, and the handlers' `max_receives`.
const MAX_RECEIVES: u32 = 2;

struct Aws {
    _moto: Moto,
    runtime: tokio::runtime::Runtime,
    config: aws_config::SdkConfig,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    uploads_queue: String,
    uploads_dlq: String,
    job_state_queue: String,
    job_state_dlq: String,
    captured: Captured,
    mediaconvert_endpoint: String,
    plugins: Arc<PluginRuntime>,
    handlers: Arc<Handlers>,
}

/// Buckets, queues (each with a dead-letter queue after [`MAX_RECEIVES`] receives and no
/// visibility timeout, so a failed message comes straight back), the S3 notification, the
/// table, and handlers as a Lambda instance would build them.
fn aws() -> Aws {
    let moto = Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = runtime.block_on(moto.config());
    let s3 = vodpipe_test_support::moto::s3_client(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let captured = Captured::default();
    let ((uploads_queue, uploads_dlq), (job_state_queue, job_state_dlq)) = runtime.block_on(async {
        for bucket in ["uploads", "media", "policy"] {
            s3.create_bucket().bucket(bucket).send().await.unwrap();
        }
        let uploads = queue_with_dead_letters(&sqs, "uploads").await;
        let job_state = queue_with_dead_letters(&sqs, "job-state").await;
        sqs::notify_on_upload(&s3, &sqs, "uploads", &uploads.0).await;
        vodpipe_aws::dynamo::create_table(&dynamodb, "videos").await.unwrap();
        (uploads, job_state)
    });
    let mediaconvert_endpoint = runtime.block_on(capture_endpoint(captured.clone()));
    let plugins = PluginRuntime::new(None, Limits::default()).unwrap();
    let policy = vodpipe_runtime::reload::load(&plugins, &vodpipe_plugin_artifacts::builtin_files(), None).unwrap();
    let handlers = handlers(
        &config,
        Blocking::new(runtime.handle().clone()),
        &mediaconvert_endpoint,
        Arc::new(FixedPolicy(Arc::new(policy))),
    );
    Aws {
        _moto: moto,
        runtime,
        config,
        s3,
        sqs,
        uploads_queue,
        uploads_dlq,
        job_state_queue,
        job_state_dlq,
        captured,
        mediaconvert_endpoint,
        plugins,
        handlers,
    }
}

/// Handlers as a Lambda instance builds them (the SDK's default retries included), with
/// `policy`.
fn handlers(
    config: &aws_config::SdkConfig,
    blocking: Blocking,
    mediaconvert_endpoint: &str,
    policy: Arc<dyn PolicySource>,
) -> Arc<Handlers> {
    let mediaconvert = aws_sdk_mediaconvert::Client::from_conf(
        aws_sdk_mediaconvert::config::Builder::from(config)
            .endpoint_url(mediaconvert_endpoint)
            .build(),
    );
    Arc::new(Handlers {
        store: S3Store::new(
            vodpipe_test_support::moto::s3_client(config),
            "uploads",
            "media",
            blocking.clone(),
        ),
        repository: DynamoRepository::new(aws_sdk_dynamodb::Client::new(config), "videos", blocking.clone()),
        transcoder: MediaConvertTranscoder::new(mediaconvert, blocking),
        policy,
        clock: Arc::new(SystemClock),
        role: "arn:aws:iam::123456789012:role/vodpipe-mediaconvert".into(),
        queue: None,
        max_receives: MAX_RECEIVES,
    })
}

/// A queue `name` whose messages go to `name-dlq` after [`MAX_RECEIVES`] receives; both URLs.
async fn queue_with_dead_letters(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let dlq = sqs::create_queue(sqs, &format!("{name}-dlq"), &[]).await;
    let dlq_arn = sqs::queue_arn(sqs, &dlq).await;
    let redrive = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{MAX_RECEIVES}"}}"#);
    let queue = sqs::create_queue(
        sqs,
        name,
        &[
            (QueueAttributeName::RedrivePolicy, redrive.as_str()),
            (QueueAttributeName::VisibilityTimeout, "0"),
        ],
    )
    .await;
    (queue, dlq)
}

impl Aws {
    fn handlers_with(&self, policy: Arc<dyn PolicySource>) -> Arc<Handlers> {
        handlers(
            &self.config,
            Blocking::new(self.runtime.handle().clone()),
            &self.mediaconvert_endpoint,
            policy,
        )
    }

    /// One poll of `queue` as Lambda's poller does it: receive a batch, invoke, delete what
    /// succeeded. Returns how many messages the batch had and how many failed.
    fn poll(&self, queue: &str, on_job_state: bool) -> (usize, usize) {
        self.poll_with(&self.handlers, queue, on_job_state)
    }

    fn poll_with(&self, handlers: &Arc<Handlers>, queue: &str, on_job_state: bool) -> (usize, usize) {
        self.runtime.block_on(async {
            let received = self
                .sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await
                .unwrap();
            let messages = received.messages().to_vec();
            let mut event = SqsEvent::default();
            event.records = messages
                .iter()
                .map(|m| {
                    let mut message = SqsMessage::default();
                    message.message_id = m.message_id().map(str::to_owned);
                    message.receipt_handle = m.receipt_handle().map(str::to_owned);
                    message.body = m.body().map(str::to_owned);
                    message.attributes = m
                        .attributes()
                        .into_iter()
                        .flatten()
                        .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
                        .collect();
                    message
                })
                .collect();
            let handlers = handlers.clone();
            // The handler runs on the runtime's own thread pool, as in Lambda.
            let response = tokio::spawn(async move {
                if on_job_state {
                    handlers.on_job_state(event).await
                } else {
                    handlers.on_upload(event).await
                }
            })
            .await
            .unwrap();
            let failed: Vec<&str> = response
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.as_str())
                .collect();
            for message in &messages {
                if !failed.contains(&message.message_id().unwrap_or_default()) {
                    self.sqs
                        .delete_message()
                        .queue_url(queue)
                        .receipt_handle(message.receipt_handle().unwrap())
                        .send()
                        .await
                        .unwrap();
                }
            }
            (messages.len(), failed.len())
        })
    }

    fn send(&self, queue: &str, body: &str) {
        self.runtime
            .block_on(self.sqs.send_message().queue_url(queue).message_body(body).send())
            .unwrap();
    }

    fn record(&self) -> vodpipe_core::VideoRecord {
        self.record_of(VIDEO)
    }

    fn record_of(&self, video: &str) -> vodpipe_core::VideoRecord {
        let handlers = self.handlers.clone();
        let video = video.to_owned();
        std::thread::spawn(move || handlers.repository.get(&video).unwrap().unwrap())
            .join()
            .unwrap()
    }

    fn upload(&self, video: &str) {
        self.runtime
            .block_on(
                self.s3
                    .put_object()
                    .bucket("uploads")
                    .key(video)
                    .metadata("user-id", "alice")
                    .body(ByteStream::from(sample_mp4()))
                    .send(),
            )
            .unwrap();
    }

    /// The bodies waiting in a dead-letter queue.
    fn dead_letters(&self, dlq: &str) -> Vec<String> {
        let dead = self
            .runtime
            .block_on(
                self.sqs
                    .receive_message()
                    .queue_url(dlq)
                    .max_number_of_messages(10)
                    .send(),
            )
            .unwrap();
        dead.messages()
            .iter()
            .filter_map(|m| m.body().map(str::to_owned))
            .collect()
    }
}

/// MediaConvert's result for the job of [`VIDEO`], finished as `plan` asked.
fn completed(plan: &vodpipe_core::Plan) -> JobResult {
    JobResult {
        job_id: format!("{VIDEO}-hls"),
        status: JobStatus::Complete,
        error_code: None,
        error_message: None,
        playlist_path: Some("index.m3u8".into()),
        outputs: plan
            .renditions
            .iter()
            .map(|r| JobOutput {
                path: format!("index_{}.m3u8", r.name),
                width: r.width,
                height: r.height,
                duration_ms: 2000,
            })
            .collect(),
        thumbnail_path: Some("thumbnails/thumb_poster.0000001.jpg".into()),
        dash_manifest_path: None,
    }
}

fn refusal(status: u16, error_type: Option<&'static str>, message: &'static str) -> Option<Refusal> {
    Some(Refusal {
        status,
        error_type,
        message,
        json: true,
    })
}

#[test]
fn an_upload_goes_from_s3_to_done_through_the_handlers() {
    let aws = aws();
    aws.runtime.block_on(async {
        aws.s3
            .put_object()
            .bucket("uploads")
            .key(VIDEO)
            .metadata("user-id", "alice")
            .body(ByteStream::from(sample_mp4()))
            .send()
            .await
            .unwrap();
    });

    // S3's test event and the ObjectCreated event; both succeed, one job is submitted.
    let (messages, failed) = aws.poll(&aws.uploads_queue, false);
    assert_eq!((messages, failed), (2, 0));
    let record = aws.record();
    assert_eq!(record.status, VideoStatus::Processing);
    assert_eq!(record.user_id.as_deref(), Some("alice"));
    assert_eq!(record.job_id.as_deref(), Some(format!("{VIDEO}-hls").as_str()));
    let plan = record.plan.clone().unwrap();
    assert_eq!(plan.renditions.len(), 4, "720p source: 720p, 480p, 360p, 240p");
    let requests = aws.captured.0.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let wire: serde_json::Value = serde_json::from_slice(&requests[0].2).unwrap();
    assert_eq!(wire["clientRequestToken"], format!("{VIDEO}-hls"));
    assert_eq!(
        wire["settings"]["inputs"][0]["fileInput"],
        format!("s3://uploads/{VIDEO}")
    );

    // The same notification delivered again: the same job, the same token.
    let duplicate =
        r#"{"Records":[{"s3":{"bucket":{"name":"uploads"},"object":{"key":"KEY"}}}]}"#.replace("KEY", VIDEO);
    aws.send(&aws.uploads_queue, &duplicate);
    assert_eq!(aws.poll(&aws.uploads_queue, false), (1, 0));
    let requests = aws.captured.0.lock().unwrap().clone();
    assert!(
        requests.iter().all(|r| r.2 == requests[0].2),
        "a resubmission is the same request"
    );
    assert_eq!(aws.record().job_id, record.job_id);

    // MediaConvert finishes: its EventBridge event reaches the job-state queue.
    let prefix = format!("s3://media/{VIDEO}/");
    let result = completed(&plan);
    let event = job_state_event(VIDEO, &prefix, &result, 1_700_000_000_000).to_string();
    aws.send(&aws.job_state_queue, &event);
    aws.send(&aws.job_state_queue, &event);
    assert_eq!(
        aws.poll(&aws.job_state_queue, true),
        (2, 0),
        "the duplicate is ignored, not failed"
    );
    let done = aws.record();
    assert_eq!(done.status, VideoStatus::Done, "{done:?}");
    assert_eq!(done.playback_path.as_deref(), Some("index.m3u8"));
    assert_eq!(done.renditions.len(), 4);
    let raw = aws
        .runtime
        .block_on(aws.s3.head_object().bucket("uploads").key(VIDEO).send());
    assert!(raw.is_err(), "the raw upload is deleted once published");

    // A late ERROR for the same job changes nothing.
    let late = JobResult {
        status: JobStatus::Error,
        error_code: Some(1999),
        error_message: Some("late".into()),
        ..result
    };
    aws.send(
        &aws.job_state_queue,
        &job_state_event(VIDEO, &prefix, &late, 1_700_000_001_000).to_string(),
    );
    assert_eq!(aws.poll(&aws.job_state_queue, true), (1, 0));
    assert_eq!(aws.record().status, VideoStatus::Done);
}

#[test]
fn a_poison_message_fails_alone_and_ends_in_the_dead_letter_queue() {
    let aws = aws();
    aws.send(&aws.uploads_queue, "this is not an S3 event");
    let valid_but_unknown =
        r#"{"Records":[{"s3":{"bucket":{"name":"uploads"},"object":{"key":"01KBMISSING000000000000000"}}}]}"#;
    aws.send(&aws.uploads_queue, valid_but_unknown);
    // The poison message fails on its own; the others succeed (S3's test event, and an event
    // for an object that is not there: nothing to do).
    assert_eq!(aws.poll(&aws.uploads_queue, false), (3, 1));
    assert_eq!(aws.poll(&aws.uploads_queue, false), (1, 1), "redelivered once more");
    assert_eq!(aws.poll(&aws.uploads_queue, false), (0, 0), "moved after 2 receives");
    assert_eq!(aws.dead_letters(&aws.uploads_dlq), ["this is not an S3 event"]);
}

#[test]
fn a_job_mediaconvert_refuses_fails_its_video_at_the_first_delivery() {
    let aws = aws();
    let message = "/outputGroups/0/outputs/0/videoDescription/width: Should be greater than or equal to 32";
    aws.captured.refuse(refusal(400, Some("BadRequestException"), message));
    aws.upload(VIDEO);
    assert_eq!(
        aws.poll(&aws.uploads_queue, false),
        (2, 0),
        "S3's test event and the upload, both handled"
    );
    let record = aws.record();
    assert_eq!(record.status, VideoStatus::Failed, "{record:?}");
    assert_eq!(
        record.failure_reason.unwrap(),
        format!("the transcoder refused the job: MediaConvert BadRequestException (HTTP 400): {message}")
    );
    assert_eq!(aws.captured.count(), 1, "a refusal is not retried");
    assert_eq!(aws.poll(&aws.uploads_queue, false), (0, 0));
    assert!(aws.dead_letters(&aws.uploads_dlq).is_empty());
}

#[test]
fn throttling_and_unavailability_are_retried_until_mediaconvert_takes_the_job() {
    let aws = aws();
    let cases = [
        (
            "01KBTHROTTLED0000000000000",
            429,
            Some("TooManyRequestsException"),
            "Too Many Requests",
        ),
        // A bare 503, with no MediaConvert error type.
        ("01KBUNAVAILABLE00000000000", 503, None, "Service Unavailable"),
    ];
    for (video, status, error_type, message) in cases {
        aws.captured.refuse(refusal(status, error_type, message));
        aws.upload(video);
        let sent = aws.captured.count();
        let (_, failed) = aws.poll(&aws.uploads_queue, false);
        assert_eq!(failed, 1, "HTTP {status}: the message is left for redelivery");
        assert!(
            aws.captured.count() > sent + 1,
            "HTTP {status}: the SDK retried within the delivery too"
        );
        let record = aws.record_of(video);
        assert_eq!(record.status, VideoStatus::Processing, "HTTP {status}: {record:?}");

        aws.captured.refuse(None);
        assert_eq!(
            aws.poll(&aws.uploads_queue, false),
            (1, 0),
            "HTTP {status}: the next delivery submits the job"
        );
        let record = aws.record_of(video);
        assert_eq!(record.status, VideoStatus::Processing, "HTTP {status}: {record:?}");
        assert_eq!(record.job_id, Some(format!("{video}-hls")));
        let last = aws.captured.0.lock().unwrap().last().unwrap().2.clone();
        let wire: serde_json::Value = serde_json::from_slice(&last).unwrap();
        assert_eq!(
            wire["clientRequestToken"],
            format!("{video}-hls"),
            "the same job each time"
        );
    }
    assert!(aws.dead_letters(&aws.uploads_dlq).is_empty());
}

#[test]
fn an_upload_that_fails_on_every_delivery_fails_its_video_on_the_last_one() {
    let aws = aws();
    aws.captured.refuse(refusal(503, None, "Service Unavailable"));
    aws.upload(VIDEO);
    assert_eq!(aws.poll(&aws.uploads_queue, false), (2, 1));
    assert_eq!(aws.record().status, VideoStatus::Processing);

    assert_eq!(
        aws.poll(&aws.uploads_queue, false),
        (1, 0),
        "the last delivery gives up: handled, not failed"
    );
    let record = aws.record();
    assert_eq!(record.status, VideoStatus::Failed, "{record:?}");
    let reason = record.failure_reason.unwrap();
    assert!(
        reason.starts_with(&format!(
            "processing gave up after {MAX_RECEIVES} attempts: MediaConvert error (HTTP 503): Service Unavailable"
        )),
        "{reason}"
    );
    assert_eq!(aws.poll(&aws.uploads_queue, false), (0, 0));
    assert!(
        aws.dead_letters(&aws.uploads_dlq).is_empty(),
        "the failure is on the record, not in the dead-letter queue"
    );

    // MediaConvert is back, and S3 delivers the event again: the failed video stays failed.
    aws.captured.refuse(None);
    let sent = aws.captured.count();
    aws.send(
        &aws.uploads_queue,
        &r#"{"Records":[{"s3":{"bucket":{"name":"uploads"},"object":{"key":"KEY"}}}]}"#.replace("KEY", VIDEO),
    );
    assert_eq!(aws.poll(&aws.uploads_queue, false), (1, 0));
    assert_eq!(aws.record().failure_reason.as_deref(), Some(reason.as_str()));
    assert_eq!(aws.captured.count(), sent, "no job for a failed video");
}

#[test]
fn when_the_give_up_cannot_be_recorded_the_message_ends_in_the_dead_letter_queue() {
    let aws = aws();
    aws.captured.refuse(refusal(503, None, "Service Unavailable"));
    aws.upload(VIDEO);
    assert_eq!(aws.poll(&aws.uploads_queue, false), (2, 1));
    // The table is gone: the last delivery fails, and so does recording the failure.
    aws.runtime
        .block_on(
            aws_sdk_dynamodb::Client::new(&aws.config)
                .delete_table()
                .table_name("videos")
                .send(),
        )
        .unwrap();
    assert_eq!(aws.poll(&aws.uploads_queue, false), (1, 1));
    assert_eq!(aws.poll(&aws.uploads_queue, false), (0, 0));
    let dead = aws.dead_letters(&aws.uploads_dlq);
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].contains(VIDEO), "{}", dead[0]);
}

#[test]
fn a_job_state_event_that_fails_on_every_delivery_fails_its_video_on_the_last_one() {
    let aws = aws();
    aws.upload(VIDEO);
    assert_eq!(aws.poll(&aws.uploads_queue, false), (2, 0));
    let plan = aws.record().plan.unwrap();

    // This on-job-state instance reads the policy bucket, where no bundle was ever activated:
    // every delivery of the COMPLETE event fails before post-processing.
    let policy = S3Policy::new(
        S3PolicyStore::new(aws.s3.clone(), "policy", "policy"),
        aws.plugins.clone(),
        Blocking::new(aws.runtime.handle().clone()),
    );
    let on_job_state = aws.handlers_with(Arc::new(policy));
    let event = job_state_event(
        VIDEO,
        &format!("s3://media/{VIDEO}/"),
        &completed(&plan),
        1_700_000_000_000,
    );
    aws.send(&aws.job_state_queue, &event.to_string());
    assert_eq!(aws.poll_with(&on_job_state, &aws.job_state_queue, true), (1, 1));
    assert_eq!(aws.record().status, VideoStatus::Processing);

    assert_eq!(
        aws.poll_with(&on_job_state, &aws.job_state_queue, true),
        (1, 0),
        "the last delivery gives up: handled, not failed"
    );
    let record = aws.record();
    assert_eq!(record.status, VideoStatus::Failed, "{record:?}");
    let reason = record.failure_reason.unwrap();
    assert!(
        reason.starts_with(&format!(
            "processing gave up after {MAX_RECEIVES} attempts: no policy bundle is active at s3://policy/policy/"
        )),
        "{reason}"
    );
    assert!(aws.dead_letters(&aws.job_state_dlq).is_empty());
    assert!(
        aws.runtime
            .block_on(aws.s3.head_object().bucket("uploads").key(VIDEO).send())
            .is_ok(),
        "the raw upload of a failed video is kept"
    );
}
