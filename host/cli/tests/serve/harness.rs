//! A real `vodpipe serve` on 127.0.0.1 with its own data directory, and a client for it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub struct Server {
    child: Child,
    pub base: String,
    pub data: PathBuf,
    pub log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

/// Budgets no test that signs several users up from one address runs into; the rate limit
/// tests give their own.
const ROOMY_AUTH_LIMITS: [&str; 4] = ["--auth-address-burst", "1000", "--auth-account-burst", "1000"];

impl Server {
    pub fn start() -> Self {
        Self::start_with(&ROOMY_AUTH_LIMITS, &[])
    }

    /// Starts `vodpipe serve` with these arguments and environment variables besides the
    /// address and data directory (the rate limits are the defaults unless given).
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let (child, base, log) = Self::spawn(&data, args, env);
        Self {
            child,
            base,
            data,
            log,
            _dir: dir,
        }
    }

    /// SIGKILLs the server and starts it again on the same data directory (with the default
    /// roomy limits), as after a crash.
    pub fn kill_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let (child, base, log) = Self::spawn(&self.data, &ROOMY_AUTH_LIMITS, &[]);
        (self.child, self.base, self.log) = (child, base, log);
    }

    fn spawn(data: &Path, args: &[&str], env: &[(&str, &str)]) -> (Child, String, Arc<Mutex<String>>) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vodpipe"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(args)
            .envs(env.iter().copied())
            .env(
                "VODPIPE_CACHE_DIR",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache"),
            )
            .env("VODPIPE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vodpipe serve");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(String::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        // Keep draining stderr (a full pipe would stall the server) into a log a failing
        // test prints.
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = address_tx.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let base = address_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("vodpipe serve did not start:\n{}", log.lock().unwrap()));
        (child, base, log)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Files in the uploads directory, temporary ones included.
    pub fn stored_uploads(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.data.join("uploads"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    pub fn secrets(&self) -> vodpipe_server::Secrets {
        serde_json::from_slice(&std::fs::read(self.data.join("secrets.json")).unwrap()).unwrap()
    }

    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- vodpipe serve log ---\n{}", self.log.lock().unwrap());
        }
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

/// A signed-in user.
pub struct User {
    pub token: String,
    pub refresh_token: String,
    pub user_id: String,
}

impl Client {
    pub fn new(server: &Server) -> Self {
        Self::from_address(server, std::net::Ipv4Addr::LOCALHOST)
    }

    /// A client whose connections come from `address`: all of 127.0.0.0/8 is loopback, so
    /// 127.0.0.2 and 127.0.0.3 are two clients to the server.
    pub fn from_address(server: &Server, address: std::net::Ipv4Addr) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .local_address(std::net::IpAddr::V4(address))
                .build()
                .unwrap(),
            base: server.base.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        let mut request = self.http.post(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn sign_up(&self, username: &str) -> User {
        let response = self
            .post_json(
                "/api/auth/signup",
                None,
                json!({"username": username, "password": "correct horse battery"}),
            )
            .await;
        let body = expect(response, StatusCode::CREATED).await;
        User {
            token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
            user_id: body["user_id"].as_str().unwrap().to_owned(),
        }
    }

    /// `POST /api/uploads`: the ticket (video_id, url, fields).
    pub async fn presign(&self, user: &User) -> Value {
        expect(
            self.post_json("/api/uploads", Some(&user.token), json!({})).await,
            StatusCode::CREATED,
        )
        .await
    }

    /// Posts a multipart form: `fields` in order, then the file.
    pub async fn upload_form(&self, url: &str, fields: &BTreeMap<String, String>, file: Vec<u8>) -> Response {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.clone(), value.clone());
        }
        let part = reqwest::multipart::Part::bytes(file)
            .file_name("clip.mp4")
            .mime_str("video/mp4")
            .unwrap();
        form = form.part("file", part);
        self.http.post(url).multipart(form).send().await.unwrap()
    }

    /// Uploads `file` with the ticket's form, changed by `tamper`.
    pub async fn upload(
        &self,
        ticket: &Value,
        file: Vec<u8>,
        tamper: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Response {
        let mut fields = fields_of(ticket);
        tamper(&mut fields);
        self.upload_form(ticket["url"].as_str().unwrap(), &fields, file).await
    }

    pub async fn create_video(&self, user: &User, video_id: &str, title: &str) -> Response {
        self.post_json(
            "/api/videos",
            Some(&user.token),
            json!({"video_id": video_id, "title": title, "description": "made by a test"}),
        )
        .await
    }

    /// Polls the owner's view of a video until it leaves `processing`.
    pub async fn wait_final(&self, user: &User, video_id: &str) -> Value {
        let start = Instant::now();
        loop {
            let listing = expect(self.get("/api/me/videos", Some(&user.token)).await, StatusCode::OK).await;
            if let Some(video) = listing["videos"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["id"] == video_id && v["status"] != "processing")
            {
                return video.clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(180),
                "video {video_id} is still processing"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

pub fn fields_of(ticket: &Value) -> BTreeMap<String, String> {
    ticket["fields"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

/// Asserts the status and returns the JSON body (Null when empty).
pub async fn expect(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }
}

/// Asserts an API error: status, `error` code, and that the message is there.
pub async fn expect_error(response: Response, status: StatusCode, code: &str) -> String {
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = expect(response, status).await;
    assert_eq!(content_type.as_deref(), Some("application/json"), "{body}");
    assert_eq!(body["error"], code, "{body}");
    let message = body["message"].as_str().unwrap().to_owned();
    assert!(!message.is_empty());
    message
}

/// Asserts an S3-shaped XML refusal and returns its `<Message>`.
pub async fn expect_s3_error(response: Response, status: u16, code: &str) -> String {
    assert_eq!(
        response.headers().get("content-type").map(|v| v.to_str().unwrap()),
        Some("application/xml")
    );
    let actual = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(actual, status, "{body}");
    assert!(body.starts_with("<?xml"), "{body}");
    assert!(
        body.contains(&format!("<Code>{code}</Code>")),
        "expected {code}: {body}"
    );
    body.split("<Message>")
        .nth(1)
        .and_then(|m| m.split("</Message>").next())
        .unwrap_or_default()
        .to_owned()
}

/// A small real video made by ffmpeg (2 s, 320x180, with audio), read once per test binary.
pub fn sample_video() -> Vec<u8> {
    static SAMPLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SAMPLE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sample.mp4");
            vodpipe_embedded::ffmpeg::test_pattern(&path, 320, 180, 2, true).unwrap();
            std::fs::read(path).unwrap()
        })
        .clone()
}
