//! Rate limits on sign-up, sign-in and refresh, over real HTTP from several loopback
//! addresses (all of 127.0.0.0/8 reaches the server on 127.0.0.1).

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::harness::{Client, Server, expect, expect_error};

const PASSWORD: &str = "correct horse battery";

fn from(server: &Server, last_octet: u8) -> Client {
    Client::from_address(server, Ipv4Addr::new(127, 0, 0, last_octet))
}

async fn sign_in(client: &Client, username: &str, password: &str) -> Response {
    client
        .post_json(
            "/api/auth/signin",
            None,
            json!({"username": username, "password": password}),
        )
        .await
}

async fn sign_in_via(client: &Client, forwarded_for: Option<&str>) -> Response {
    let mut request = client
        .http
        .post(client.url("/api/auth/signin"))
        .json(&json!({"username": "nobody", "password": "wrong password"}));
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    request.send().await.unwrap()
}

/// Asserts a 429 with `Retry-After` and the API's JSON error; returns the seconds and the
/// message.
async fn expect_rate_limited(response: Response) -> (u64, String) {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in whole seconds");
    let message = expect_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert!(retry_after >= 1);
    let unit = if retry_after == 1 { "second" } else { "seconds" };
    assert!(
        message.ends_with(&format!("try again in {retry_after} {unit}")),
        "{message}"
    );
    (retry_after, message)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_from_one_address_is_refused_and_other_addresses_are_not() {
    let server = Server::start_with(&["--auth-address-burst", "3", "--auth-address-period", "3600"], &[]);
    let alice_home = from(&server, 3);
    let alice = alice_home.sign_up("alice").await;
    let mallory = from(&server, 2);
    for _ in 0..3 {
        expect_error(
            sign_in(&mallory, "alice", "guess").await,
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
        )
        .await;
    }
    let (retry_after, message) = expect_rate_limited(sign_in(&mallory, "alice", "guess").await).await;
    assert!((3590..=3600).contains(&retry_after), "{retry_after}");
    assert!(message.contains("from your address"), "{message}");

    // The address's budget covers every route that hashes or can be guessed.
    expect_rate_limited(
        mallory
            .post_json(
                "/api/auth/signup",
                None,
                json!({"username": "mallory", "password": PASSWORD}),
            )
            .await,
    )
    .await;
    let refused_refresh = mallory
        .post_json("/api/auth/refresh", None, json!({"refresh_token": alice.refresh_token}))
        .await;
    expect_rate_limited(refused_refresh).await;
    // Browsers may read Retry-After across origins.
    let from_a_page = mallory
        .http
        .post(mallory.url("/api/auth/signin"))
        .header("origin", "https://app.example")
        .json(&json!({"username": "alice", "password": "guess"}))
        .send()
        .await
        .unwrap();
    let exposed = from_a_page.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(exposed.contains("retry-after"), "{exposed}");
    expect_rate_limited(from_a_page).await;

    // Another address is not affected: alice signs in, and the refresh token the refused
    // request carried was never used.
    let signed_in = expect(sign_in(&alice_home, "alice", PASSWORD).await, StatusCode::OK).await;
    assert_eq!(signed_in["user_id"], alice.user_id.as_str());
    expect(
        alice_home
            .post_json("/api/auth/refresh", None, json!({"refresh_token": alice.refresh_token}))
            .await,
        StatusCode::OK,
    )
    .await;
    // Routes that cost nothing are not limited.
    expect(alice_home.get("/healthz", None).await, StatusCode::OK).await;
    expect(mallory.get("/api/videos", None).await, StatusCode::OK).await;

    let document = expect(mallory.get("/openapi.json", None).await, StatusCode::OK).await;
    for route in ["/api/auth/signup", "/api/auth/signin", "/api/auth/refresh"] {
        let answer = &document["paths"][route]["post"]["responses"]["429"];
        assert!(answer["headers"]["Retry-After"].is_object(), "{route}: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn many_addresses_guessing_one_account_run_into_its_limit() {
    let server = Server::start_with(
        &[
            "--auth-address-burst",
            "2",
            "--auth-address-period",
            "3600",
            "--auth-account-burst",
            "4",
            "--auth-account-period",
            "3600",
        ],
        &[],
    );
    from(&server, 10).sign_up("alice").await;

    // One address spends two of alice's four attempts, then only its own budget: the
    // attempts it is refused do not count against her.
    let first = from(&server, 11);
    for _ in 0..2 {
        expect_error(
            sign_in(&first, "alice", "guess").await,
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
        )
        .await;
    }
    for _ in 0..5 {
        let (_, message) = expect_rate_limited(sign_in(&first, "alice", "guess").await).await;
        assert!(message.contains("from your address"), "{message}");
    }
    // The name counts whatever its case.
    expect_error(
        sign_in(&from(&server, 12), "ALICE", "guess").await,
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
    )
    .await;
    // Alice signing in, as often as her addresses allow, spends none of it: only failed
    // sign-ins do.
    for address in [13, 16] {
        let owner = from(&server, address);
        for _ in 0..2 {
            expect(sign_in(&owner, "alice", PASSWORD).await, StatusCode::OK).await;
        }
    }
    expect_error(
        sign_in(&from(&server, 17), "alice", "guess").await,
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
    )
    .await;

    // Four failed guesses from three addresses: the account's budget is spent, and the next
    // attempt is refused whoever makes it, even with the right password.
    let fresh = from(&server, 14);
    let (retry_after, message) = expect_rate_limited(sign_in(&fresh, "Alice", PASSWORD).await).await;
    assert!((3590..=3600).contains(&retry_after), "{retry_after}");
    assert!(message.contains("for this account"), "{message}");
    // Other accounts are not affected, nor sign-ups of the name (a 409, not a 429).
    expect_error(
        sign_in(&fresh, "bob", "guess").await,
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
    )
    .await;
    expect_error(
        from(&server, 15)
            .post_json(
                "/api/auth/signup",
                None,
                json!({"username": "alice", "password": PASSWORD}),
            )
            .await,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await;
}

/// Spends `client`'s address budget with refreshes of a token that does not exist (no
/// password hash, so quick), until refused; returns how many were let through and the
/// refusal's Retry-After. Looping rather than counting keeps a slow machine, on which the
/// budget refills meanwhile, from failing the test.
async fn spend_address_budget(client: &Client) -> (usize, u64) {
    for let_through in 0..1000 {
        let response = client
            .post_json("/api/auth/refresh", None, json!({"refresh_token": "not-a-token"}))
            .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            return (let_through, expect_rate_limited(response).await.0);
        }
        expect_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
    }
    panic!("1000 refreshes from one address and none refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_retry_after_the_client_is_let_in_again() {
    // Configured through the environment: one attempt, then one a second.
    let server = Server::start_with(
        &[],
        &[
            ("VODPIPE_AUTH_ADDRESS_BURST", "1"),
            ("VODPIPE_AUTH_ADDRESS_PERIOD", "1"),
        ],
    );
    let home = from(&server, 21);
    home.sign_up("alice").await;
    let client = from(&server, 20);
    let (let_through, retry_after) = spend_address_budget(&client).await;
    assert!(let_through >= 1);
    assert_eq!(retry_after, 1);
    // Retry-After is rounded up: once it has passed, the attempt is allowed.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    expect(sign_in(&client, "alice", PASSWORD).await, StatusCode::OK).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_budget_is_ten_attempts_then_one_every_six_seconds() {
    let server = Server::start_with(&[], &[]);
    let (let_through, retry_after) = spend_address_budget(&from(&server, 30)).await;
    assert!(let_through >= 10, "{let_through}");
    assert!((1..=6).contains(&retry_after), "{retry_after}");
    // Another address still has its ten.
    let (let_through, _) = spend_address_budget(&from(&server, 31)).await;
    assert!(let_through >= 10, "{let_through}");
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_addresses_count_only_behind_trusted_proxies() {
    let one_each = ["--auth-address-burst", "1", "--auth-address-period", "3600"];

    // Not behind a proxy: the header is the client's to write, so it changes nothing.
    let server = Server::start_with(&one_each, &[]);
    let client = Client::new(&server);
    let first = sign_in_via(&client, Some("198.51.100.1")).await;
    expect_error(first, StatusCode::UNAUTHORIZED, "bad_credentials").await;
    expect_rate_limited(sign_in_via(&client, Some("198.51.100.2")).await).await;
    drop(server);

    // Behind one proxy: its entry, the last, is the client.
    let server = Server::start_with(&[&one_each[..], &["--trusted-proxies", "1"]].concat(), &[]);
    let proxy = Client::new(&server);
    let first = sign_in_via(&proxy, Some("198.51.100.1")).await;
    expect_error(first, StatusCode::UNAUTHORIZED, "bad_credentials").await;
    expect_rate_limited(sign_in_via(&proxy, Some("198.51.100.1")).await).await;
    // What a client puts before the proxy's entry does not make it someone else.
    let second = sign_in_via(&proxy, Some("203.0.113.5, 198.51.100.2")).await;
    expect_error(second, StatusCode::UNAUTHORIZED, "bad_credentials").await;
    expect_rate_limited(sign_in_via(&proxy, Some("203.0.113.6, 198.51.100.2")).await).await;
    // Without the header the request counts as the proxy's own.
    let own = sign_in_via(&proxy, None).await;
    expect_error(own, StatusCode::UNAUTHORIZED, "bad_credentials").await;
    expect_rate_limited(sign_in_via(&proxy, Some("garbage")).await).await;
}

#[test]
fn bad_limits_are_refused_at_start_naming_the_setting() {
    let refused = [
        (vec!["--auth-address-burst", "0"], vec![], "--auth-address-burst"),
        (vec!["--auth-account-period", "0"], vec![], "--auth-account-period"),
        (vec!["--auth-account-burst", "many"], vec![], "--auth-account-burst"),
        (vec![], vec![("VODPIPE_TRUSTED_PROXIES", "-1")], "--trusted-proxies"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (args, env, named) in refused {
        let output = Command::new(env!("CARGO_BIN_EXE_vodpipe"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(dir.path().join("data"))
            .args(&args)
            .envs(env)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
        assert!(!stderr.contains("listening"), "{stderr}");
    }
    assert!(
        !dir.path().join("data").exists(),
        "nothing is created before the settings are checked"
    );
}
