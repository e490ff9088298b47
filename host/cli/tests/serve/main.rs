//! `vodpipe serve` over real HTTP: accounts, presigned uploads enforced like S3, records,
//! listings, media, and the worker turning uploads into HLS with real ffmpeg.

mod harness;
mod limits;

use std::sync::Arc;
use std::time::Duration;

use harness::{Client, Server, expect, expect_error, expect_s3_error, fields_of, sample_video};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vodpipe_auth::local::LocalAccounts;
use vodpipe_core::ports::{Account, Clock};

const MB: usize = 1024 * 1024;

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_is_processed_published_and_deleted() {
    let server = Server::start();
    let client = Client::new(&server);
    let alice = client.sign_up("alice").await;
    let bob = client.sign_up("bob").await;

    let ticket = client.presign(&alice).await;
    let video_id = ticket["video_id"].as_str().unwrap().to_owned();
    assert_eq!(ticket["url"], server.url("/upload"));
    assert_eq!(ticket["max_bytes"], 100 * MB);
    assert_eq!(ticket["fields"]["key"], video_id.as_str());
    assert_eq!(ticket["fields"]["x-amz-meta-user-id"], alice.user_id.as_str());

    let response = client.upload(&ticket, sample_video(), |_| {}).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let created = expect(
        client.create_video(&alice, &video_id, "  Test pattern  ").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["title"], "Test pattern", "titles are trimmed");
    assert_eq!(created["description"], "made by a test");

    // Not published yet: only its owner sees it.
    let processing = format!("/api/videos/{video_id}");
    let status = expect(client.get(&processing, Some(&alice.token)).await, StatusCode::OK).await["status"].clone();
    assert!(status == "processing" || status == "done", "{status}");
    if status == "processing" {
        expect_error(
            client.get(&processing, Some(&bob.token)).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(client.get(&processing, None).await, StatusCode::NOT_FOUND, "not_found").await;
    }

    let video = client.wait_final(&alice, &video_id).await;
    assert_eq!(video["status"], "done", "{video}");
    let names: Vec<_> = video["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert!(!names.is_empty(), "{video}");
    assert!(video["duration_ms"].as_u64().unwrap() >= 1900, "{video}");

    // Public now, newest first, for anyone.
    let listing = expect(client.get("/api/videos", None).await, StatusCode::OK).await;
    assert_eq!(listing["videos"][0]["id"], video_id.as_str());
    assert_eq!(listing["next_cursor"], Value::Null);
    let public = expect(client.get(&processing, None).await, StatusCode::OK).await;
    assert_eq!(public, video);

    // The master playlist through /media, with HLS's content type, and its variants.
    let master_url = video["playback_url"].as_str().unwrap();
    assert_eq!(master_url, server.url(&format!("/media/{video_id}/index.m3u8")));
    let master = client.http.get(master_url).send().await.unwrap();
    assert_eq!(master.status(), StatusCode::OK);
    assert_eq!(master.headers()["content-type"], "application/vnd.apple.mpegurl");
    assert_eq!(master.headers()["access-control-allow-origin"], "*");
    let master = master.text().await.unwrap();
    assert!(master.starts_with("#EXTM3U"), "{master}");
    let variant = video["renditions"][0]["playlist_url"].as_str().unwrap();
    let playlist = client.http.get(variant).send().await.unwrap().text().await.unwrap();
    let segment = playlist.lines().find(|l| l.ends_with(".ts")).expect("a segment");
    let segment_url = format!("{}/{segment}", variant.rsplit_once('/').unwrap().0);

    // Byte ranges, as players ask for them.
    let part = client
        .http
        .get(&segment_url)
        .header("range", "bytes=0-187")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-type"], "video/mp2t");
    assert!(
        part.headers()["content-range"]
            .to_str()
            .unwrap()
            .starts_with("bytes 0-187/")
    );
    let bytes = part.bytes().await.unwrap();
    assert_eq!((bytes.len(), bytes[0]), (188, 0x47), "one MPEG-TS packet");
    let thumbnail = client
        .http
        .get(video["thumbnail_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(thumbnail.headers()["content-type"], "image/jpeg");
    assert_eq!(&thumbnail.bytes().await.unwrap()[..2], [0xFF, 0xD8]);

    // The raw upload is gone once published.
    assert!(server.stored_uploads().is_empty(), "{:?}", server.stored_uploads());

    // Only the owner deletes; then record and media are gone.
    expect_error(
        client
            .http
            .delete(server.url(&processing))
            .bearer_auth(&bob.token)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let deleted = client
        .http
        .delete(server.url(&processing))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    expect_error(
        client.get(&processing, Some(&alice.token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        client.http.get(master_url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert!(!server.data.join("media").join(&video_id).exists());
    assert!(
        !server.data.join("media").join(format!("{video_id}.lock")).exists(),
        "the job's lock file goes with the media"
    );
    let listing = expect(client.get("/api/videos", None).await, StatusCode::OK).await;
    assert_eq!(listing["videos"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_upload_form_is_enforced_as_s3_would() {
    let server = Server::start();
    let client = Client::new(&server);
    let alice = client.sign_up("alice").await;
    let clip = || b"not really a video, but bytes".to_vec();

    let ticket = client.presign(&alice).await;
    // The form's own credential scope (today's date, region, service) with a key the server
    // never issued: only the key is wrong, whatever the day the test runs.
    let credential = ticket["fields"]["x-amz-credential"].as_str().unwrap();
    let (_, scope) = credential.split_once('/').unwrap();
    let unknown_key = format!("AKIDUNKNOWN/{scope}");
    let refused = [
        ("x-amz-signature", "0".repeat(64), 403, "SignatureDoesNotMatch"),
        ("key", "01ANOTHERKEY0000000000000A".into(), 403, "AccessDenied"),
        ("x-amz-meta-user-id", "mallory".into(), 403, "AccessDenied"),
        ("x-amz-credential", unknown_key, 403, "InvalidAccessKeyId"),
        ("policy", "bm90IGEgcG9saWN5".into(), 403, "SignatureDoesNotMatch"),
        (
            "success_action_redirect",
            "https://example.com".into(),
            403,
            "AccessDenied",
        ),
    ];
    for (field, value, status, code) in refused {
        let response = client
            .upload(&ticket, clip(), |f| {
                f.insert(field.into(), value.clone());
            })
            .await;
        let message = expect_s3_error(response, status, code).await;
        assert!(!message.is_empty(), "{field}");
    }
    let missing = client.upload(&ticket, clip(), |f| drop(f.remove("policy"))).await;
    let message = expect_s3_error(missing, 400, "InvalidArgument").await;
    assert!(message.contains("'Policy'"), "{message}");
    assert!(server.stored_uploads().is_empty(), "refused forms store nothing");

    // A form whose policy expired: signed with the server's own upload key, 20 minutes ago.
    let secrets = server.secrets();
    let past = std::time::SystemTime::now() - Duration::from_secs(20 * 60);
    let expired = vodpipe_presign::presign_post(
        &server.url("/upload"),
        &vodpipe_presign::UploadRules {
            bucket: "uploads".into(),
            key: "01EXPIRED00000000000000000".into(),
            metadata: vec![("user-id".into(), alice.user_id.clone())],
            content_length: 1..=(100 * MB as u64),
            expires_in: Duration::from_secs(15 * 60),
            region: "local".into(),
        },
        &vodpipe_presign::Credentials {
            access_key_id: secrets.upload_access_key_id.clone(),
            secret_access_key: secrets.upload_secret_access_key.clone(),
            session_token: None,
        },
        past,
    );
    let response = client.upload_form(&expired.url, &expired.fields, clip()).await;
    let message = expect_s3_error(response, 403, "AccessDenied").await;
    assert!(message.contains("expired"), "{message}");

    // Sizes: empty is too small, 100 MB + 1 byte too large; neither leaves anything behind.
    let empty = client.upload(&ticket, Vec::new(), |_| {}).await;
    expect_s3_error(empty, 400, "EntityTooSmall").await;
    match client
        .http
        .post(ticket["url"].as_str().unwrap())
        .multipart(too_large_form(&ticket))
        .send()
        .await
    {
        Ok(response) => {
            eprintln!("100 MB + 1: answered {}", response.status());
            let body = response.text().await.unwrap();
            assert!(body.contains("<Code>EntityTooLarge</Code>"), "{body}");
            assert!(body.contains("<MaxSizeAllowed>104857600</MaxSizeAllowed>"), "{body}");
        }
        // The server answers and closes as soon as the limit is passed; a client still
        // sending may see the connection close instead of the answer.
        Err(e) => {
            eprintln!("100 MB + 1: connection closed: {e:?}");
            assert!(e.is_request() || e.is_body(), "{e:?}")
        }
    }
    assert!(server.stored_uploads().is_empty(), "{:?}", server.stored_uploads());

    // No file at all.
    let form = fields_of(&ticket)
        .into_iter()
        .fold(reqwest::multipart::Form::new(), |form, (k, v)| form.text(k, v));
    let response = client
        .http
        .post(ticket["url"].as_str().unwrap())
        .multipart(form)
        .send()
        .await
        .unwrap();
    expect_s3_error(response, 400, "InvalidArgument").await;

    // Exactly 100 MB is within the range; the form then cannot be used again.
    let response = client.upload(&ticket, vec![7u8; 100 * MB], |_| {}).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let key = ticket["video_id"].as_str().unwrap();
    assert_eq!(
        std::fs::metadata(server.data.join("uploads").join(key)).unwrap().len(),
        100 * MB as u64
    );
    let again = client.upload(&ticket, clip(), |_| {}).await;
    expect_s3_error(again, 403, "AccessDenied").await;
    assert_eq!(
        std::fs::metadata(server.data.join("uploads").join(key)).unwrap().len(),
        100 * MB as u64
    );
    assert!(
        server.stored_uploads().iter().all(|f| !f.ends_with(".part")),
        "{:?}",
        server.stored_uploads()
    );
}

fn too_large_form(ticket: &Value) -> reqwest::multipart::Form {
    let form = fields_of(ticket)
        .into_iter()
        .fold(reqwest::multipart::Form::new(), |form, (k, v)| form.text(k, v));
    form.part(
        "file",
        reqwest::multipart::Part::bytes(vec![1u8; 100 * MB + 1]).file_name("big.mp4"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn records_belong_to_the_uploader() {
    let server = Server::start();
    let client = Client::new(&server);
    let alice = client.sign_up("alice").await;
    let bob = client.sign_up("bob").await;

    let ticket = client.presign(&alice).await;
    let video_id = ticket["video_id"].as_str().unwrap().to_owned();
    // Not uploaded yet: nothing to record.
    expect_error(
        client.create_video(&alice, &video_id, "Early").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        client.upload(&ticket, b"bytes".to_vec(), |_| {}).await.status(),
        StatusCode::NO_CONTENT
    );

    // Bob cannot claim Alice's upload.
    expect_error(
        client.create_video(&bob, &video_id, "Mine").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // Titles and descriptions are checked, naming the field.
    for (body, field) in [
        (json!({"video_id": video_id, "title": ""}), "title"),
        (json!({"video_id": video_id, "title": "x".repeat(201)}), "title"),
        (json!({"video_id": video_id, "title": "bell\u{7}"}), "title"),
        (
            json!({"video_id": video_id, "title": "ok", "description": "d".repeat(5001)}),
            "description",
        ),
        (
            json!({"video_id": video_id, "title": "ok", "description": "esc\u{1b}[2J"}),
            "description",
        ),
        (json!({"video_id": "../etc/passwd", "title": "ok"}), "video_id"),
        (json!({"video_id": video_id}), "title"),
        (json!({"video_id": video_id, "title": "ok", "extra": 1}), "extra"),
        (json!({"video_id": video_id, "title": 5}), "title"),
    ] {
        let message = expect_error(
            client.post_json("/api/videos", Some(&alice.token), body.clone()).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        )
        .await;
        assert!(message.contains(field), "{body}: {message}");
    }
    let not_json = client
        .http
        .post(server.url("/api/videos"))
        .bearer_auth(&alice.token)
        .header("content-type", "application/json")
        .body("{\"video_id\": ")
        .send()
        .await
        .unwrap();
    expect_error(not_json, StatusCode::BAD_REQUEST, "invalid_request").await;
    let huge = client
        .post_json(
            "/api/videos",
            Some(&alice.token),
            json!({"video_id": video_id, "title": "x".repeat(70_000)}),
        )
        .await;
    expect_error(huge, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let not_declared = client
        .http
        .post(server.url("/api/videos"))
        .bearer_auth(&alice.token)
        .body("{}")
        .send()
        .await
        .unwrap();
    expect_error(
        not_declared,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;

    let created = expect(
        client.create_video(&alice, &video_id, "Bytes").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["status"], "processing");
    expect_error(
        client.create_video(&alice, &video_id, "Again").await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;

    // Not a video: it fails, with a reason its owner can read; others see nothing.
    let failed = client.wait_final(&alice, &video_id).await;
    assert_eq!(failed["status"], "failed");
    assert!(!failed["failure_reason"].as_str().unwrap().is_empty(), "{failed}");
    let path = format!("/api/videos/{video_id}");
    expect_error(
        client.get(&path, Some(&bob.token)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        client
            .http
            .delete(server.url(&path))
            .bearer_auth(&bob.token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let mine = expect(client.get("/api/me/videos", Some(&alice.token)).await, StatusCode::OK).await;
    assert_eq!(mine["videos"].as_array().unwrap().len(), 1);
    let theirs = expect(client.get("/api/me/videos", Some(&bob.token)).await, StatusCode::OK).await;
    assert_eq!(theirs["videos"], json!([]));
    let public = expect(client.get("/api/videos", None).await, StatusCode::OK).await;
    assert_eq!(public["videos"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn details_may_come_after_the_video_is_processed() {
    let server = Server::start();
    let client = Client::new(&server);
    let alice = client.sign_up("alice").await;
    let ticket = client.presign(&alice).await;
    let video_id = ticket["video_id"].as_str().unwrap().to_owned();
    assert_eq!(
        client.upload(&ticket, sample_video(), |_| {}).await.status(),
        StatusCode::NO_CONTENT
    );

    // The upload event alone makes and publishes the record; untitled, it is not listed.
    let video = client.wait_final(&alice, &video_id).await;
    assert_eq!(
        (video["status"].clone(), video["title"].clone()),
        (json!("done"), Value::Null)
    );
    assert!(
        server.stored_uploads().is_empty(),
        "the source is deleted once published"
    );
    let public = expect(client.get("/api/videos", None).await, StatusCode::OK).await;
    assert_eq!(public["videos"], json!([]));

    // The details arrive late: the record carries the upload's owner, so it is accepted.
    let bob = client.sign_up("bob").await;
    expect_error(
        client.create_video(&bob, &video_id, "Mine").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let described = expect(
        client.create_video(&alice, &video_id, "Late").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (described["status"].clone(), described["title"].clone()),
        (json!("done"), json!("Late"))
    );
    assert_eq!(described["created_at"], video["created_at"]);
    let public = expect(client.get("/api/videos?limit=1", None).await, StatusCode::OK).await;
    assert_eq!(public["videos"][0]["id"], video_id.as_str());
    assert_eq!(public["next_cursor"], Value::Null);

    expect_error(
        client.get("/api/videos?limit=0", None).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    expect_error(
        client.get("/api/videos?limit=101", None).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    expect_error(
        client.get("/api/videos?cursor=nonsense", None).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    expect_error(
        client.get("/api/videos?limit=abc", None).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_checked() {
    let server = Server::start();
    let client = Client::new(&server);
    let alice = client.sign_up("alice").await;

    let missing = client.http.post(server.url("/api/uploads")).send().await.unwrap();
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    expect_error(missing, StatusCode::UNAUTHORIZED, "missing_token").await;
    let basic = client
        .http
        .post(server.url("/api/uploads"))
        .header("authorization", "Basic YWxpY2U6cHc=")
        .send()
        .await
        .unwrap();
    expect_error(basic, StatusCode::UNAUTHORIZED, "missing_token").await;
    for garbage in ["garbage", "a.b.c", "..", &"x".repeat(10_000)] {
        expect_error(
            client.post_json("/api/uploads", Some(garbage), json!({})).await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        )
        .await;
    }

    // Signed with another key, unsigned (alg none), and expired with the right key.
    let database = Arc::new(
        vodpipe_embedded::sqlite::Database::open(
            &server.data.join("vodpipe.db"),
            Box::new(vodpipe_core::ports::SystemClock),
        )
        .unwrap(),
    );
    let account = Account {
        user_id: alice.user_id.clone(),
        username: "alice".into(),
        password_hash: String::new(),
        created_at_ms: 0,
    };
    let forger = LocalAccounts::new(database.clone(), &[7u8; 32], Arc::new(vodpipe_core::ports::SystemClock));
    let forged = forger.access_token(&account).unwrap();
    expect_error(
        client.post_json("/api/uploads", Some(&forged), json!({})).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let payload = alice.token.split('.').nth(1).unwrap();
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    expect_error(
        client.post_json("/api/uploads", Some(&unsigned), json!({})).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let key = base64_decode(&server.secrets().token_key);
    let an_hour_ago = Arc::new(FixedClock(now_ms() - 3_600_000));
    let stale = LocalAccounts::new(database.clone(), &key, an_hour_ago)
        .access_token(&account)
        .unwrap();
    expect_error(
        client.post_json("/api/uploads", Some(&stale), json!({})).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    )
    .await;
    // The same key, fresh: accepted (the expired one failed for its age only).
    let fresh = LocalAccounts::new(database, &key, Arc::new(vodpipe_core::ports::SystemClock))
        .access_token(&account)
        .unwrap();
    expect(
        client.post_json("/api/uploads", Some(&fresh), json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    let me = expect(client.get("/api/me", Some(&alice.token)).await, StatusCode::OK).await;
    assert_eq!(me, json!({"user_id": alice.user_id, "username": "alice"}));

    // Accounts: unique names, checked passwords, single-use refresh tokens, sign-out.
    let refused = [
        (
            "/api/auth/signup",
            "ALICE",
            "another password",
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            "/api/auth/signup",
            "carol",
            "short",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/api/auth/signup",
            "car ol",
            "long enough",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/api/auth/signin",
            "alice",
            "wrong password",
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
        ),
        (
            "/api/auth/signin",
            "nobody",
            "wrong password",
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
        ),
    ];
    for (route, username, password, status, code) in refused {
        let response = client
            .post_json(route, None, json!({"username": username, "password": password}))
            .await;
        expect_error(response, status, code).await;
    }
    let signed_in = client
        .post_json(
            "/api/auth/signin",
            None,
            json!({"username": "alice", "password": "correct horse battery"}),
        )
        .await;
    let signed_in = expect(signed_in, StatusCode::OK).await;
    assert_eq!(signed_in["user_id"], alice.user_id.as_str());

    let refreshed = client
        .post_json("/api/auth/refresh", None, json!({"refresh_token": alice.refresh_token}))
        .await;
    let refreshed = expect(refreshed, StatusCode::OK).await;
    let reused = client
        .post_json("/api/auth/refresh", None, json!({"refresh_token": alice.refresh_token}))
        .await;
    expect_error(reused, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let newer = refreshed["refresh_token"].as_str().unwrap();
    let out = client
        .post_json("/api/auth/signout", None, json!({"refresh_token": newer}))
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let after = client
        .post_json("/api/auth/refresh", None, json!({"refresh_token": newer}))
        .await;
    expect_error(after, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

/// Schemathesis generates requests from `/openapi.json` (valid and invalid ones) and checks
/// every answer against it: status listed, body as described, limits as stated.
#[tokio::test(flavor = "multi_thread")]
async fn the_server_answers_as_its_document_says() {
    let server = Server::start();
    let client = Client::new(&server);
    let user = client.sign_up("schemathesis").await;
    let document = format!("{}/openapi.json", server.base);
    let report =
        tokio::task::spawn_blocking(move || vodpipe_test_support::python::schemathesis(&document, &user.token))
            .await
            .unwrap();
    if let Err(report) = report {
        panic!("Schemathesis found answers the document does not describe:\n{report}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_describes_itself_and_survives_garbage() {
    let mut server = Server::start();
    let client = Client::new(&server);
    assert_eq!(
        expect(client.get("/healthz", None).await, StatusCode::OK).await,
        json!({"status": "ok"})
    );

    let document = expect(client.get("/openapi.json", None).await, StatusCode::OK).await;
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/uploads",
        "/api/videos",
        "/api/videos/{id}",
        "/api/me/videos",
        "/api/auth/signup",
        "/healthz",
    ] {
        assert!(paths.contains_key(path), "{path} missing from {:?}", paths.keys());
    }
    assert!(document["components"]["schemas"]["VideoView"].is_object());
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    // Valid OpenAPI 3.1, and it states what the server enforces.
    if let Err(report) = vodpipe_test_support::python::validate_openapi(&document) {
        panic!("/openapi.json is not valid OpenAPI: {report}");
    }
    let create = &document["paths"]["/api/videos"]["post"]["responses"];
    for status in ["201", "400", "401", "413", "415", "500", "503"] {
        assert!(
            create[status]["description"].is_string(),
            "{status} of POST /api/videos: {create}"
        );
    }
    let title = &document["components"]["schemas"]["NewVideo"]["properties"]["title"];
    assert_eq!(
        (&title["minLength"], &title["maxLength"]),
        (&json!(1), &json!(200)),
        "{title}"
    );

    // Request ids: made when absent, kept when given.
    let response = client.get("/healthz", None).await;
    assert_eq!(response.headers()["x-request-id"].len(), 26);
    let response = client
        .http
        .get(server.url("/healthz"))
        .header("x-request-id", "trace-me")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me");
    expect_error(
        client.get("/api/nothing-here", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let alice = client.sign_up("alice").await;
    let bodies: [&[u8]; 7] = [
        b"",
        b"null",
        b"[]",
        b"{\"video_id\": null}",
        b"\xff\xfe\x00",
        b"{\"username\": \"\\ud800\", \"password\": 1e999}",
        &[b'['; 5000],
    ];
    let routes = [
        "/api/uploads",
        "/api/videos",
        "/api/auth/signup",
        "/api/auth/signin",
        "/api/auth/refresh",
        "/api/auth/signout",
        "/api/videos/%00",
        "/upload",
        "/media/..%2f..%2fsecrets.json",
    ];
    for route in routes {
        for body in bodies {
            for content_type in ["application/json", "multipart/form-data; boundary=x", "text/plain"] {
                let response = client
                    .http
                    .post(server.url(route))
                    .bearer_auth(&alice.token)
                    .header("content-type", content_type)
                    .body(body.to_vec())
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                // Starting an upload takes no body: whatever is sent is ignored.
                let expected = if route == "/api/uploads" {
                    status == StatusCode::CREATED
                } else {
                    status.is_client_error()
                };
                assert!(expected, "{route} {content_type} {body:?}: {status}");
            }
        }
        let response = client.get(route, Some(&alice.token)).await;
        assert!(
            !response.status().is_server_error(),
            "GET {route}: {}",
            response.status()
        );
    }
    let secrets = client.get("/media/../secrets.json", None).await;
    assert_eq!(secrets.status(), StatusCode::NOT_FOUND);
    assert!(server.alive());
    let log = server.log.lock().unwrap().clone();
    assert!(!log.contains("panicked"), "{log}");
    assert!(log.contains("request_id="), "logs carry request ids:\n{log}");
}

struct FixedClock(u64);

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.0
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_cut_off_by_a_killed_server_leaves_nothing_after_the_restart() {
    use tokio::io::AsyncWriteExt;
    let mut server = Server::start();
    let client = Client::new(&server);
    let alice = client.sign_up("alice").await;
    let ticket = client.presign(&alice).await;

    // A multipart upload whose file never finishes arriving.
    let boundary = "cutoff";
    let mut head = String::new();
    for (name, value) in fields_of(&ticket) {
        head += &format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
    }
    head += &format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
    );
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "POST /upload HTTP/1.1\r\nHost: {address}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n{head}",
        head.len() + 10 * MB
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(&vec![7u8; MB]).await.unwrap();
    let receiving = || server.stored_uploads().into_iter().any(|name| name.ends_with(".part"));
    let start = std::time::Instant::now();
    while !receiving() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the upload never reached the disk"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    server.kill_and_restart();
    drop(stream);
    assert_eq!(
        server.stored_uploads(),
        Vec::<String>::new(),
        "the restarted server removed the cut-off upload"
    );
}
