//! The `api` function: vodpipe's HTTP API behind API Gateway (HTTP API, payload 2.0), the
//! same Router as `vodpipe serve` over DynamoDB, S3 and Cognito.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    vodpipe_lambda::init_logging();
    let router = vodpipe_lambda::api::router().await?;
    lambda_http::run(router).await
}
