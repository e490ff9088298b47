//! An HTTP endpoint that answers MediaConvert's CreateJob and keeps every request it got
//! (moto has no MediaConvert). It can be told to refuse requests as MediaConvert does.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request as received: request line, header lines, body.
pub type Request = (String, Vec<String>, Vec<u8>);

/// Every request received, and the refusal to answer with instead of creating the job.
#[derive(Default, Clone)]
pub struct Captured(pub Arc<Mutex<Vec<Request>>>, Arc<Mutex<Option<Refusal>>>);

/// An error answer as MediaConvert's REST-JSON protocol writes it: the status, the error type
/// (in `x-amzn-ErrorType` and the body; none for a bare status such as a load balancer's
/// 503) and the message (in a JSON body, or as the whole body when not `json`).
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: u16,
    pub error_type: Option<&'static str>,
    pub message: &'static str,
    pub json: bool,
}

impl Captured {
    /// Answers every request from now on with `refusal`; `None` creates jobs again.
    pub fn refuse(&self, refusal: Option<Refusal>) {
        *self.1.lock().unwrap() = refusal;
    }

    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

impl Refusal {
    fn response(&self) -> Vec<u8> {
        let mut body = serde_json::json!({
            "httpStatus": self.status,
            "requestId": "00000000-0000-0000-0000-000000000000",
            "message": self.message,
        });
        let mut error_header = String::new();
        if let Some(error_type) = self.error_type {
            body["errorType"] = error_type.into();
            error_header = format!("x-amzn-ErrorType: {error_type}\r\n");
        }
        let (body, content_type) = if self.json {
            (body.to_string(), "application/json")
        } else {
            (self.message.to_owned(), "text/html")
        };
        format!(
            "HTTP/1.1 {} Refused\r\ncontent-type: {content_type}\r\n{error_header}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.status,
            body.len()
        )
        .into_bytes()
    }
}

/// A one-connection-at-a-time HTTP endpoint answering CreateJob as MediaConvert does.
pub async fn capture_endpoint(captured: Captured) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = Vec::new();
            let mut chunk = [0u8; 16 * 1024];
            let (head, body) = loop {
                let n = socket.read(&mut chunk).await.unwrap();
                buffer.extend_from_slice(&chunk[..n]);
                if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    while buffer.len() < end + 4 + length {
                        let n = socket.read(&mut chunk).await.unwrap();
                        buffer.extend_from_slice(&chunk[..n]);
                    }
                    break (head, buffer[end + 4..end + 4 + length].to_vec());
                }
            };
            let mut lines = head.lines();
            let request_line = lines.next().unwrap_or_default().to_owned();
            let headers = lines.map(str::to_owned).collect();
            captured.0.lock().unwrap().push((request_line, headers, body));
            let refusal = captured.1.lock().unwrap().clone();
            if let Some(refusal) = refusal {
                socket.write_all(&refusal.response()).await.unwrap();
                continue;
            }
            let answer =
                br#"{"job":{"id":"1700000000000-abc123","role":"arn:aws:iam::123456789012:role/r","settings":{}}}"#;
            let response = format!(
                "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                answer.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
            socket.write_all(answer).await.unwrap();
        }
    });
    format!("http://{address}")
}
