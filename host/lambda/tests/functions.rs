//! The three Lambda binaries, run as Lambda runs them: each process is started with the
//! environment Terraform gives it and pulls its invocations from a Runtime API endpoint
//! (`AWS_LAMBDA_RUNTIME_API`) the test serves, speaking the Lambda Runtime API protocol.
//! Every AWS peer is moto's server, except MediaConvert, whose requests are captured.
//!
//! The flow: a Cognito user asks the `api` function (API Gateway payload 2.0) for an upload
//! form, posts the file to S3 with it, S3 notifies the upload queue, `on-upload` submits the
//! job, the MediaConvert state change goes through an EventBridge rule to the job-state queue,
//! `on-job-state` publishes the video, and the API lists it. Then a new policy bundle is
//! activated in S3 and the next upload's job follows it, with the same running processes.

mod runtime_api;
mod sqs;

use std::time::Duration;

use runtime_api::Function;
use serde_json::{Value, json};
use vodpipe_aws::S3PolicyStore;
use vodpipe_core::{JobOutput, JobResult, JobStatus};
use vodpipe_lambda::events::job_state_event;
use vodpipe_test_support::capture::{Captured, capture_endpoint};
use vodpipe_test_support::cognito::pool_with_a_signed_in_user;
use vodpipe_test_support::moto::{Moto, sample_mp4};

const REGION: &str = "us-east-1";
const MEDIACONVERT_QUEUE: &str = "arn:aws:mediaconvert:us-east-1:123456789012:queues/vodpipe-test";

/// An API Gateway HTTP API (payload 2.0) request event.
fn http_event(method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Value {
    let mut headers = json!({ "host": "api.example.com", "content-type": "application/json" });
    if let Some(token) = token {
        headers["authorization"] = json!(format!("Bearer {token}"));
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "test" },
            "requestId": "request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "26/Nov/2026:19:00:00 +0000",
            "timeEpoch": 1_795_000_000_000u64,
        },
        "body": body.map(Value::to_string),
        "isBase64Encoded": false,
    })
}

/// The JSON body of an API Gateway response event.
fn http_body(response: &Value) -> (u64, Value) {
    let status = response["statusCode"].as_u64().unwrap();
    let body = response["body"].as_str().unwrap_or("null");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

struct Aws {
    moto: Moto,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    upload_queue: String,
    job_state_queue: String,
    policy: S3PolicyStore,
    user_pool: String,
    client_id: String,
    access_token: String,
}

/// What `infra/` creates, on moto: buckets, queues, the S3 notification, the EventBridge
/// rule, the table, a user pool with a signed-in user, and the built-in policy published.
async fn aws() -> Aws {
    let moto = Moto::start();
    let config = moto.config().await;
    let s3 = vodpipe_test_support::moto::s3_client(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    for bucket in ["uploads", "media", "policy"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    let upload_queue = sqs::create_queue(&sqs, "uploads", &[]).await;
    let job_state_queue = sqs::create_queue(&sqs, "job-state", &[]).await;
    sqs::notify_on_upload(&s3, &sqs, "uploads", &upload_queue).await;

    let events = aws_sdk_eventbridge::Client::new(&config);
    events
        .put_rule()
        .name("vodpipe-job-state")
        .event_pattern(job_state_pattern().to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("vodpipe-job-state")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("job-state-queue")
                .arn(sqs::queue_arn(&sqs, &job_state_queue).await)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    vodpipe_aws::dynamo::create_table(&aws_sdk_dynamodb::Client::new(&config), "videos")
        .await
        .unwrap();

    let policy = S3PolicyStore::new(s3.clone(), "policy", "policy");
    let builtin = policy
        .publish(&vodpipe_plugin_artifacts::builtin_files())
        .await
        .unwrap();
    policy.activate(&builtin).await.unwrap();

    let pool = pool_with_a_signed_in_user(&aws_sdk_cognitoidentityprovider::Client::new(&config)).await;
    Aws {
        moto,
        s3,
        sqs,
        upload_queue,
        job_state_queue,
        policy,
        user_pool: pool.id,
        client_id: pool.client_id,
        access_token: pool.access_token,
    }
}

/// The EventBridge rule's pattern, from the template `infra/` deploys: this stack's
/// MediaConvert queue, final states only.
fn job_state_pattern() -> Value {
    let template = include_str!("../../../infra/job-state-pattern.json.tftpl");
    serde_json::from_str(&template.replace("${queue_arn}", MEDIACONVERT_QUEUE)).unwrap()
}

impl Aws {
    /// The environment of each function, as Terraform sets it.
    fn env(&self, mediaconvert: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_REGION", REGION.into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_SESSION_TOKEN", "session-token".into()),
            ("AWS_ENDPOINT_URL", self.moto.endpoint.clone()),
            ("VODPIPE_TABLE", "videos".into()),
            ("VODPIPE_UPLOADS_BUCKET", "uploads".into()),
            ("VODPIPE_MEDIA_BUCKET", "media".into()),
            ("VODPIPE_POLICY_BUCKET", "policy".into()),
            ("VODPIPE_POLICY_PREFIX", "policy".into()),
            (
                "VODPIPE_MEDIACONVERT_ROLE",
                "arn:aws:iam::123456789012:role/vodpipe-mediaconvert".into(),
            ),
            ("VODPIPE_MEDIACONVERT_QUEUE", MEDIACONVERT_QUEUE.into()),
            ("VODPIPE_MEDIACONVERT_ENDPOINT", mediaconvert.into()),
            ("VODPIPE_MAX_RECEIVES", "5".into()),
            ("VODPIPE_COGNITO_USER_POOL_ID", self.user_pool.clone()),
            ("VODPIPE_COGNITO_CLIENT_ID", self.client_id.clone()),
            (
                "VODPIPE_COGNITO_JWKS_URL",
                format!("{}/{}/.well-known/jwks.json", self.moto.endpoint, self.user_pool),
            ),
            ("VODPIPE_MEDIA_BASE_URL", "https://media.example.com".into()),
            ("VODPIPE_UPLOAD_URL", format!("{}/uploads", self.moto.endpoint)),
        ]
    }

    /// Receives what is on `queue` as the SQS event source mapping does: one batch, as an
    /// SQS event, deleted after the invocation except the reported failures.
    async fn deliver(&self, queue: &str, function: &mut Function) -> (usize, Value) {
        let (messages, event) = self.receive(queue).await;
        let response = function.invoke(&event).await;
        self.settle(queue, &messages, &response).await;
        (messages.len(), response)
    }

    /// One batch from `queue`, and the SQS event that carries it.
    async fn receive(&self, queue: &str) -> (Vec<aws_sdk_sqs::types::Message>, Value) {
        let mut messages = Vec::new();
        for _ in 0..20 {
            let received = self
                .sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await
                .unwrap();
            messages.extend(received.messages().to_vec());
            if !messages.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": m
                        .attributes()
                        .into_iter()
                        .flatten()
                        .map(|(name, value)| (name.as_str().to_owned(), json!(value)))
                        .collect::<serde_json::Map<_, _>>(),
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queue",
                    "awsRegion": REGION,
                })
            })
            .collect();
        (messages, json!({ "Records": records }))
    }

    /// Deletes the messages of a batch the function handled, as the event source mapping does.
    async fn settle(&self, queue: &str, messages: &[aws_sdk_sqs::types::Message], response: &Value) {
        let failed: Vec<&str> = response["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["itemIdentifier"].as_str())
            .collect();
        for message in messages {
            if !failed.contains(&message.message_id().unwrap()) {
                self.sqs
                    .delete_message()
                    .queue_url(queue)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// What MediaConvert would announce when the job of `video_id` ends, sent to EventBridge.
    async fn job_finished(&self, video_id: &str, renditions: &[(String, u32, u32)], queue: &str) {
        let result = JobResult {
            job_id: format!("{video_id}-hls"),
            status: JobStatus::Complete,
            error_code: None,
            error_message: None,
            playlist_path: Some("index.m3u8".into()),
            outputs: renditions
                .iter()
                .map(|(name, width, height)| JobOutput {
                    path: format!("index_{name}.m3u8"),
                    width: *width,
                    height: *height,
                    duration_ms: 2000,
                })
                .collect(),
            thumbnail_path: Some("thumbnails/thumb_poster.0000001.jpg".into()),
            dash_manifest_path: None,
        };
        let mut event = job_state_event(video_id, &format!("s3://media/{video_id}/"), &result, 1_795_000_000_000);
        event["detail"]["queue"] = json!(queue);
        let config = self.moto.config().await;
        let put = aws_sdk_eventbridge::Client::new(&config)
            .put_events()
            .entries(
                aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .source("aws.mediaconvert")
                    .detail_type("MediaConvert Job State Change")
                    .detail(event["detail"].to_string())
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(put.failed_entry_count(), 0);
    }

    /// Asks the API for an upload form and posts the file with it, as the browser does.
    async fn upload(&self, api: &mut Function, bytes: Vec<u8>) -> String {
        let (status, ticket) = http_body(
            &api.invoke(&http_event("POST", "/api/uploads", Some(&self.access_token), None))
                .await,
        );
        assert_eq!(status, 201, "{ticket}");
        let video_id = ticket["video_id"].as_str().unwrap().to_owned();
        let fields = ticket["fields"].as_object().unwrap();
        assert_eq!(
            fields["x-amz-security-token"], "session-token",
            "signed with the session's credentials"
        );
        assert_eq!(fields["key"], video_id.as_str());
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.clone(), value.as_str().unwrap().to_owned());
        }
        form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name("clip.mp4"));
        let posted = reqwest::Client::new()
            .post(ticket["url"].as_str().unwrap())
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(posted.status().is_success(), "{}", posted.text().await.unwrap());
        let (status, created) = http_body(
            &api.invoke(&http_event(
                "POST",
                "/api/videos",
                Some(&self.access_token),
                Some(&json!({ "video_id": video_id, "title": "Clip", "description": "from the test" })),
            ))
            .await,
        );
        assert!(status == 201 || status == 200, "{status} {created}");
        video_id
    }
}

fn renditions(job: &Value) -> Vec<(String, u32, u32)> {
    job["settings"]["outputGroups"][0]["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let video = &o["videoDescription"];
            (
                o["nameModifier"].as_str().unwrap().trim_start_matches('_').to_owned(),
                video["width"].as_u64().unwrap() as u32,
                video["height"].as_u64().unwrap() as u32,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_functions_take_an_upload_to_done_and_follow_a_new_policy() {
    let aws = aws().await;
    let captured = Captured::default();
    let mediaconvert = capture_endpoint(captured.clone()).await;
    let env = aws.env(&mediaconvert);
    let mut api = Function::start("api", env!("CARGO_BIN_EXE_api"), &env).await;
    let mut on_upload = Function::start("on-upload", env!("CARGO_BIN_EXE_on-upload"), &env).await;
    let mut on_job_state = Function::start("on-job-state", env!("CARGO_BIN_EXE_on-job-state"), &env).await;

    let (status, body) = http_body(&api.invoke(&http_event("POST", "/api/uploads", None, None)).await);
    assert_eq!(status, 401, "no token: {body}");

    let sample = sample_mp4();
    let first = aws.upload(&mut api, sample.clone()).await;
    let head = aws.s3.head_object().bucket("uploads").key(&first).send().await.unwrap();
    assert!(
        head.metadata().unwrap().contains_key("user-id"),
        "the form's owner metadata is stored"
    );

    let (messages, response) = aws.deliver(&aws.upload_queue, &mut on_upload).await;
    assert!(messages >= 1);
    assert_eq!(response["batchItemFailures"], json!([]), "{response}");
    let jobs = captured.0.lock().unwrap().clone();
    assert_eq!(jobs.len(), 1);
    let job: Value = serde_json::from_slice(&jobs[0].2).unwrap();
    assert_eq!(job["clientRequestToken"], format!("{first}-hls"));
    assert_eq!(job["queue"], MEDIACONVERT_QUEUE);
    assert_eq!(job["userMetadata"]["video_id"], first.as_str());
    let first_ladder = renditions(&job);
    assert_eq!(
        first_ladder.len(),
        4,
        "the built-in default preset: 720p, 480p, 360p, 240p"
    );

    // Another stack's job finishing does not reach this stack's queue.
    aws.job_finished(
        &first,
        &first_ladder,
        "arn:aws:mediaconvert:us-east-1:123456789012:queues/other",
    )
    .await;
    aws.job_finished(&first, &first_ladder, MEDIACONVERT_QUEUE).await;
    let (messages, response) = aws.deliver(&aws.job_state_queue, &mut on_job_state).await;
    assert_eq!(messages, 1, "only the event of this stack's queue was delivered");
    assert_eq!(response["batchItemFailures"], json!([]), "{response}");
    assert!(
        aws.s3.head_object().bucket("uploads").key(&first).send().await.is_err(),
        "the raw upload is deleted once published"
    );

    let (status, listed) = http_body(&api.invoke(&http_event("GET", "/api/videos", None, None)).await);
    assert_eq!(status, 200);
    let items = listed["videos"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["id"], first.as_str());
    assert_eq!(
        items[0]["playback_url"],
        format!("https://media.example.com/{first}/index.m3u8")
    );

    // A product team ships another preset: no redeploy, the next job follows it.
    let mut mobile = vodpipe_plugin_artifacts::builtin_files();
    let manifest = String::from_utf8(mobile.files["bundle.toml"].clone()).unwrap();
    mobile.files.insert(
        "bundle.toml".into(),
        manifest
            .replace("preset = \"default\"", "preset = \"mobile-first\"")
            .into_bytes(),
    );
    let hash = aws.policy.publish(&mobile).await.unwrap();
    aws.policy.activate(&hash).await.unwrap();
    let second = aws.upload(&mut api, sample).await;
    let (_, response) = aws.deliver(&aws.upload_queue, &mut on_upload).await;
    assert_eq!(response["batchItemFailures"], json!([]), "{response}");
    let jobs = captured.0.lock().unwrap().clone();
    let job: Value = serde_json::from_slice(&jobs.last().unwrap().2).unwrap();
    assert_eq!(job["userMetadata"]["video_id"], second.as_str());
    let names: Vec<String> = renditions(&job).into_iter().map(|(name, _, _)| name).collect();
    assert_eq!(
        names,
        ["720p", "540p", "360p", "240p", "144p"],
        "the mobile-first preset"
    );
}

/// The cold start of `on-upload` for docs/performance.md, run by `bench/lambda-cold-start.sh`
/// (not by the tests: it measures, it asserts only that each job was submitted). Each round
/// starts a new process with an empty plugin cache, as a new Lambda instance with an empty
/// /tmp: init is its start to its first poll of the Runtime API; `cold` its first message
/// (policy pointer, bundle download, plugin load, the upload's pipeline to a submitted job);
/// `warm` a second message on the same process, the same pipeline and network with the bundle
/// loaded. Rounds alternate a bundle published without precompiled plugins and with them.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: bench/lambda-cold-start.sh"]
async fn on_upload_cold_start_figures() {
    let rounds: usize = std::env::var("VODPIPE_BENCH_ROUNDS").map_or(7, |r| r.parse().unwrap());
    let aws = aws().await;
    let captured = Captured::default();
    let mediaconvert = capture_endpoint(captured.clone()).await;
    let env = aws.env(&mediaconvert);
    let mut api = Function::start("api", env!("CARGO_BIN_EXE_api"), &env).await;
    let sample = sample_mp4();

    // Two bundles with the same plugins: one whose artifacts are withheld, by publishing the
    // artifacts under another prefix. The functions read `policy/`.
    let plain = vodpipe_plugin_artifacts::builtin_files();
    let hash = aws.policy.publish(&plain).await.unwrap();
    aws.policy.activate(&hash).await.unwrap();
    let publisher = vodpipe_runtime::PluginRuntime::for_target(
        None,
        vodpipe_runtime::Limits::default(),
        vodpipe_runtime::LAMBDA_TARGET,
    )
    .unwrap();
    let artifacts = publisher.precompile_bundle(&aws.policy.download(&hash).await.unwrap());

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut figures: Vec<(bool, f64, f64, f64)> = Vec::new();
    for round in 0..rounds * 2 {
        let precompiled = round % 2 == 1;
        for (name, artifact) in &artifacts {
            let key = format!("policy/precompiled/{name}");
            if precompiled {
                let body = aws_sdk_s3::primitives::ByteStream::from(artifact.clone().unwrap());
                aws.s3
                    .put_object()
                    .bucket("policy")
                    .key(key)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
            } else {
                aws.s3.delete_object().bucket("policy").key(key).send().await.unwrap();
            }
        }
        let cache = tempfile::tempdir().unwrap();
        let mut env = env.clone();
        env.push(("VODPIPE_PLUGIN_CACHE", cache.path().display().to_string()));
        aws.upload(&mut api, sample.clone()).await;
        let (first, first_event) = aws.receive(&aws.upload_queue).await;
        let started = std::time::Instant::now();
        let mut on_upload = Function::start("on-upload", env!("CARGO_BIN_EXE_on-upload"), &env).await;
        while on_upload.api.polled.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let init = started.elapsed();
        let invoked = std::time::Instant::now();
        let response = on_upload.invoke(&first_event).await;
        let cold = invoked.elapsed();
        assert_eq!(response["batchItemFailures"], json!([]), "{response}");
        aws.settle(&aws.upload_queue, &first, &response).await;

        aws.upload(&mut api, sample.clone()).await;
        let (second, second_event) = aws.receive(&aws.upload_queue).await;
        let invoked = std::time::Instant::now();
        let response = on_upload.invoke(&second_event).await;
        let warm = invoked.elapsed();
        assert_eq!(response["batchItemFailures"], json!([]), "{response}");
        aws.settle(&aws.upload_queue, &second, &response).await;
        figures.push((precompiled, ms(init), ms(cold), ms(warm)));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("on-upload cold start, {rounds} rounds each, medians (ms):");
    println!("artifacts   init   first message (cold)   second message (warm)   cold - warm");
    for precompiled in [false, true] {
        let of = |pick: fn(&(bool, f64, f64, f64)) -> f64| {
            median(figures.iter().filter(|f| f.0 == precompiled).map(pick).collect())
        };
        let (init, cold, warm) = (of(|f| f.1), of(|f| f.2), of(|f| f.3));
        let label = if precompiled { "published" } else { "none" };
        println!(
            "{label:<11} {init:>5.1}   {cold:>20.1}   {warm:>21.1}   {:>11.1}",
            cold - warm
        );
    }
    assert_eq!(
        captured.0.lock().unwrap().len(),
        rounds * 4,
        "every upload's job submitted"
    );
}
