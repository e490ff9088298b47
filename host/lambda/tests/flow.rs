//! The upload → done flow on moto, with the handlers called as the Lambda runtime's SQS
//! poller calls them: S3 notifies the upload queue, `on_upload` submits the MediaConvert job
//! (captured), a COMPLETE job-state event arrives on the job-state queue, `on_job_state`
//! publishes the video and deletes the raw upload. Duplicates and a poison message too.

#[path = "../../aws/tests/common/mod.rs"]
mod common;
mod sqs;

use std::sync::Arc;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sqs::types::QueueAttributeName;
use common::capture::{Captured, capture_endpoint};
use common::{Moto, sample_mp4};
use vodpipe_aws::{Blocking, DynamoRepository, MediaConvertTranscoder, S3Store};
use vodpipe_core::event::job_state_event;
use vodpipe_core::ports::{SystemClock, VideoRepository};
use vodpipe_core::{JobOutput, JobResult, JobStatus, VideoStatus};
use vodpipe_lambda::{FixedPolicy, Handlers};
use vodpipe_runtime::{Limits, PluginRuntime};

const VIDEO: &str = "01KBFLOW000000000000000000";

struct Aws {
    _moto: Moto,
    runtime: tokio::runtime::Runtime,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    uploads_queue: String,
    uploads_dlq: String,
    job_state_queue: String,
    captured: Captured,
    handlers: Arc<Handlers>,
}

/// Buckets, queues (the upload queue with a dead-letter queue after 2 receives), the S3
/// notification, the table, and handlers as a Lambda instance would build them.
fn aws() -> Aws {
    let moto = Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = runtime.block_on(moto.config());
    let s3 = common::s3_client(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let captured = Captured::default();
    let (uploads_queue, uploads_dlq, job_state_queue) = runtime.block_on(async {
        for bucket in ["uploads", "media"] {
            s3.create_bucket().bucket(bucket).send().await.unwrap();
        }
        let dlq = sqs::create_queue(&sqs, "uploads-dlq", &[]).await;
        let dlq_arn = sqs::queue_arn(&sqs, &dlq).await;
        let redrive = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"2"}}"#);
        let uploads = sqs::create_queue(
            &sqs,
            "uploads",
            &[
                (QueueAttributeName::RedrivePolicy, redrive.as_str()),
                (QueueAttributeName::VisibilityTimeout, "0"),
            ],
        )
        .await;
        let job_state = sqs::create_queue(&sqs, "job-state", &[]).await;
        sqs::notify_on_upload(&s3, &sqs, "uploads", &uploads).await;
        vodpipe_aws::dynamo::create_table(&dynamodb, "videos").await.unwrap();
        (uploads, dlq, job_state)
    });
    let endpoint = runtime.block_on(capture_endpoint(captured.clone()));
    let mediaconvert = aws_sdk_mediaconvert::Client::from_conf(
        aws_sdk_mediaconvert::config::Builder::from(&config)
            .endpoint_url(endpoint)
            .build(),
    );
    let blocking = Blocking::new(runtime.handle().clone());
    let plugins = PluginRuntime::new(None, Limits::default()).unwrap();
    let policy = vodpipe_runtime::reload::load(&plugins, &vodpipe_plugin_artifacts::builtin_files(), None).unwrap();
    let handlers = Arc::new(Handlers {
        store: S3Store::new(s3.clone(), "uploads", "media", blocking.clone()),
        repository: DynamoRepository::new(dynamodb, "videos", blocking.clone()),
        transcoder: MediaConvertTranscoder::new(mediaconvert, blocking),
        policy: Arc::new(FixedPolicy(Arc::new(policy))),
        clock: Arc::new(SystemClock),
        role: "arn:aws:iam::123456789012:role/vodpipe-mediaconvert".into(),
        queue: None,
    });
    Aws {
        _moto: moto,
        runtime,
        s3,
        sqs,
        uploads_queue,
        uploads_dlq,
        job_state_queue,
        captured,
        handlers,
    }
}

impl Aws {
    /// One poll of `queue` as Lambda's poller does it: receive a batch, invoke, delete what
    /// succeeded. Returns how many messages the batch had and how many failed.
    fn poll(&self, queue: &str, on_job_state: bool) -> (usize, usize) {
        self.runtime.block_on(async {
            let received = self
                .sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
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
                    message
                })
                .collect();
            let handlers = self.handlers.clone();
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
        let handlers = self.handlers.clone();
        std::thread::spawn(move || handlers.repository.get(VIDEO).unwrap().unwrap())
            .join()
            .unwrap()
    }
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
    let result = JobResult {
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
    };
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
    let dead = aws
        .runtime
        .block_on(
            aws.sqs
                .receive_message()
                .queue_url(&aws.uploads_dlq)
                .max_number_of_messages(10)
                .send(),
        )
        .unwrap();
    let bodies: Vec<_> = dead.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["this is not an S3 event"]);
}
