//! The Lambda Runtime API, served for one function process, and the process itself started
//! as Lambda starts it: the protocol a `provided.al2023` function speaks with Lambda.

#![allow(dead_code)]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Result<String, String>>>>>;

/// The Lambda Runtime API for one function: `next` hands out queued invocations, the
/// function posts each one's response or error back.
pub struct RuntimeApi {
    pub address: String,
    /// How many times the function asked for its next invocation.
    pub polled: Arc<AtomicUsize>,
    invocations: mpsc::UnboundedSender<(String, String)>,
    pending: Pending,
}

#[derive(Clone)]
struct RuntimeState {
    polled: Arc<AtomicUsize>,
    invocations: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, String)>>>,
    pending: Pending,
}

async fn next(State(state): State<RuntimeState>) -> impl IntoResponse {
    state.polled.fetch_add(1, Ordering::SeqCst);
    let (id, body) = state.invocations.lock().await.recv().await.expect("test running");
    let deadline = std::time::SystemTime::now() + Duration::from_secs(60);
    let deadline_ms = deadline.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
    headers.insert("lambda-runtime-deadline-ms", deadline_ms.to_string().parse().unwrap());
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:vodpipe"
            .parse()
            .unwrap(),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".parse().unwrap(),
    );
    (headers, body)
}

async fn respond(State(state): State<RuntimeState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&state, &id, Ok(String::from_utf8_lossy(&body).into_owned()))
}

async fn fail(State(state): State<RuntimeState>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&state, &id, Err(String::from_utf8_lossy(&body).into_owned()))
}

fn finish(state: &RuntimeState, id: &str, result: Result<String, String>) -> StatusCode {
    if let Some(waiter) = state.pending.lock().unwrap().remove(id) {
        let _ = waiter.send(result);
    }
    StatusCode::ACCEPTED
}

async fn init_error(body: Bytes) -> StatusCode {
    eprintln!("function init error: {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        let pending = Pending::default();
        let polled = Arc::new(AtomicUsize::new(0));
        let state = RuntimeState {
            polled: polled.clone(),
            invocations: Arc::new(tokio::sync::Mutex::new(receiver)),
            pending: pending.clone(),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            address,
            polled,
            invocations: sender,
            pending,
        }
    }
}

/// One function: its process and the Runtime API it polls.
pub struct Function {
    name: &'static str,
    pub child: Child,
    pub api: RuntimeApi,
    count: u64,
}

impl Function {
    pub async fn start(name: &'static str, binary: &str, env: &[(&str, String)]) -> Self {
        Self::spawn(name, binary, env, Stdio::inherit()).await
    }

    /// Started with its standard error captured (to read why it stopped).
    pub async fn start_quiet(name: &'static str, binary: &str, env: &[(&str, String)]) -> Self {
        Self::spawn(name, binary, env, Stdio::piped()).await
    }

    async fn spawn(name: &'static str, binary: &str, env: &[(&str, String)], stderr: Stdio) -> Self {
        let api = RuntimeApi::start().await;
        let child = Command::new(binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::inherit())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        Self {
            name,
            child,
            api,
            count: 0,
        }
    }

    /// Invokes the function with `event` and waits for its response.
    pub async fn invoke(&mut self, event: &Value) -> Value {
        self.count += 1;
        let id = format!("{}-{}", self.name, self.count);
        let (sender, receiver) = oneshot::channel();
        self.api.pending.lock().unwrap().insert(id.clone(), sender);
        self.api.invocations.send((id, event.to_string())).unwrap();
        let result = tokio::time::timeout(Duration::from_secs(120), receiver).await;
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited: {status}", self.name);
        }
        match result {
            Ok(Ok(Ok(body))) => serde_json::from_str(&body).unwrap(),
            Ok(Ok(Err(error))) => panic!("{} failed the invocation: {error}", self.name),
            _ => panic!("{} did not answer", self.name),
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
