//! An HTTP endpoint that answers MediaConvert's CreateJob and keeps every request it got
//! (moto has no MediaConvert).

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request as received: request line, header lines, body.
pub type Request = (String, Vec<String>, Vec<u8>);

#[derive(Default, Clone)]
pub struct Captured(pub Arc<Mutex<Vec<Request>>>);

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
