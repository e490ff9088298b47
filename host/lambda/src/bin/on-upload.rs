//! The `on-upload` function: SQS batches of S3 `ObjectCreated` notifications → probe, plan,
//! MediaConvert job. Failed messages are reported as `batchItemFailures`.

use aws_lambda_events::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vodpipe_lambda::init_logging();
    let handlers = vodpipe_lambda::config::handlers(true).await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let handlers = handlers.clone();
        async move { Ok::<_, lambda_runtime::Error>(handlers.on_upload(event.payload).await) }
    }))
    .await
}
