//! The embedded server's rate limits as its accounts see them: a refused sign-up or sign-in
//! costs no password hash, and a router served without connection info refuses to run
//! unlimited.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;
use vodpipe_api::limits::{AuthLimits, Budget};
use vodpipe_server::Embedded;

fn open(dir: &tempfile::TempDir, address_burst: u32) -> Embedded {
    let mut embedded = Embedded::open(&dir.path().join("data"), "http://127.0.0.1").unwrap();
    embedded.auth_limits = AuthLimits {
        per_address: Budget {
            burst: NonZeroU32::new(address_burst).unwrap(),
            period: Duration::from_secs(3600),
        },
        ..AuthLimits::DEFAULT
    };
    embedded
}

fn client_from(last_octet: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)))
        .build()
        .unwrap()
}

async fn post(client: &reqwest::Client, base: &str, route: &str, body: Value) -> (StatusCode, Value) {
    let response = client.post(format!("{base}{route}")).json(&body).send().await.unwrap();
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_attempt_costs_no_password_hash() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = open(&dir, 2);
    let router = embedded.router(&dir.path().join("media"), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .unwrap();
    });

    let credentials = json!({"username": "alice", "password": "correct horse battery"});
    let wrong = json!({"username": "alice", "password": "wrong password"});
    let mallory = client_from(2);
    let (status, _) = post(&mallory, &base, "/api/auth/signup", credentials.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = post(&mallory, &base, "/api/auth/signin", wrong.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(embedded.accounts.password_hashes(), 2, "one sign-up, one sign-in");

    for _ in 0..10 {
        for (route, body) in [("/api/auth/signin", &wrong), ("/api/auth/signup", &credentials)] {
            let (status, body) = post(&mallory, &base, route, body.clone()).await;
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{route}: {body}");
            assert_eq!(body["error"], "rate_limited");
        }
    }
    assert_eq!(embedded.accounts.password_hashes(), 2, "refused attempts hash nothing");

    // The count does move for an attempt that is let through (from another address).
    let (status, _) = post(&client_from(3), &base, "/api/auth/signin", credentials).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(embedded.accounts.password_hashes(), 3);
}

#[tokio::test]
async fn without_connection_info_sign_in_is_refused_not_unlimited() {
    let dir = tempfile::tempdir().unwrap();
    let embedded = open(&dir, 1000);
    let router = embedded.router(&dir.path().join("media"), None);
    let request = Request::post("/api/auth/signin")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"username": "alice", "password": "correct horse battery"}"#,
        ))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "internal");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("connection info"), "{message}");
    assert_eq!(embedded.accounts.password_hashes(), 0);
}
