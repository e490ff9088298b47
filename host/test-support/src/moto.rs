//! moto's server (PyPI `moto[server]`, pinned), installed into a venv under the cargo target
//! directory on first use and started on 127.0.0.1 for each test that needs it; stopped when
//! the test ends. A real S3/DynamoDB/SQS/Cognito peer, not a mock of our code.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// moto, and the botocore whose MediaConvert model the wire checks use (the same as the CLI tests').
pub const MOTO: &[&str] = &["moto[server]==5.2.5", "botocore==1.44.8"];

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

/// The venv with moto (`<target>/tmp/moto-venv`; `scripts/test-web` uses the same).
pub fn venv() -> PathBuf {
    crate::python::venv("moto-venv", MOTO)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

impl Moto {
    pub fn start() -> Self {
        let venv = venv();
        let port = free_port();
        let log = tempfile::NamedTempFile::new().unwrap().into_temp_path().keep().unwrap();
        let child = Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start moto_server");
        let mut moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while !answers(port) {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!(
                    "moto_server exited ({status}):\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(start.elapsed() < Duration::from_secs(60), "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// An SDK configuration for this server: region us-east-1, moto's test credentials.
    pub async fn config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "moto",
            ))
            .load()
            .await
    }
}

/// An S3 client for moto: path-style addressing (a local endpoint has no bucket host names).
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 2 s 1280x720 H.264/AAC MP4 made by ffmpeg.
pub fn sample_mp4() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = crate::media::clip(dir.path(), "clip.mp4", "1280x720", "30", "2");
    std::fs::read(path).unwrap()
}
