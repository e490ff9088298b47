//! The `on-job-state` function: SQS batches of EventBridge "MediaConvert Job State Change"
//! events → post-processor actions; the video is published or failed, the raw upload deleted.

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vodpipe_lambda::init_logging();
    let handlers = vodpipe_lambda::config::handlers(false).await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let handlers = handlers.clone();
        async move { Ok::<_, lambda_runtime::Error>(handlers.on_job_state(event.payload).await) }
    }))
    .await
}
