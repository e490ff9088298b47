//! `CognitoAuthenticator` against real RSA-2048 keys generated here (aws-lc-rs), tokens signed with
//! jsonwebtoken, and a real HTTP server on loopback serving the JWKS and counting requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vodpipe_auth::cognito::{CognitoAuthenticator, CognitoConfig, CognitoSetupError, JwkSet, MAX_LEEWAY, TokenUse};
use vodpipe_core::auth::{AuthError, Authenticator, Caller};

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool1";
const CLIENT_ID: &str = "3n4b5urk1ft4fl3mg5e62d9ado";
const SUB: &str = "9a7c5e31-2b4d-4f6a-8c1e-0d3b5f7a9c2e";

// ---------------------------------------------------------------------------------------------
// Keys and tokens

struct TestKey {
    kid: &'static str,
    encoding: EncodingKey,
    /// base64url modulus and exponent, as in a JWK.
    n: String,
    e: String,
}

impl TestKey {
    fn generate(kid: &'static str) -> Self {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("generate RSA-2048 key");
        let pkcs8 = pair.as_der().expect("export PKCS#8");
        let encoding = EncodingKey::from_rsa_der(&pkcs1_from_pkcs8(pkcs8.as_ref()));
        let public = pair.public_key();
        TestKey {
            kid,
            encoding,
            n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        }
    }

    fn jwk(&self) -> Value {
        json!({ "kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid, "n": self.n, "e": self.e })
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(self.kid, Algorithm::RS256, claims)
    }

    fn sign_as(&self, kid: &str, alg: Algorithm, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign token")
    }
}

/// jsonwebtoken wants the RSAPrivateKey (PKCS#1) that PKCS#8's PrivateKeyInfo wraps:
/// SEQUENCE { INTEGER version, SEQUENCE algorithm, OCTET STRING privateKey }.
fn pkcs1_from_pkcs8(pkcs8: &[u8]) -> Vec<u8> {
    fn next(input: &[u8]) -> (u8, &[u8], &[u8]) {
        let tag = input[0];
        let (len, start) = if input[1] < 0x80 {
            (usize::from(input[1]), 2)
        } else {
            let count = usize::from(input[1] & 0x7f);
            (
                input[2..2 + count]
                    .iter()
                    .fold(0, |acc, &b| (acc << 8) | usize::from(b)),
                2 + count,
            )
        };
        (tag, &input[start..start + len], &input[start + len..])
    }
    let (tag, info, _) = next(pkcs8);
    assert_eq!(tag, 0x30);
    let (tag, _version, rest) = next(info);
    assert_eq!(tag, 0x02);
    let (tag, _algorithm, rest) = next(rest);
    assert_eq!(tag, 0x30);
    let (tag, private_key, _) = next(rest);
    assert_eq!(tag, 0x04);
    private_key.to_vec()
}

struct Keys {
    a: TestKey,
    b: TestKey,
    /// Never published in any JWKS.
    rogue: TestKey,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        a: TestKey::generate("key-a"),
        b: TestKey::generate("key-b"),
        rogue: TestKey::generate("key-rogue"),
    })
}

fn jwks(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Claims shaped like a real Cognito access token.
fn access_claims() -> Value {
    let now = now();
    json!({
        "sub": SUB,
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "origin_jti": "5d0e7f5c-4b1a-4e7a-9f55-2c1d3e4f5a6b",
        "event_id": "0c8f6b1e-6f2d-4c3b-a5e4-7d9c1b2a3f4e",
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "jti": "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9",
        "username": "alice",
    })
}

/// Claims shaped like a real Cognito ID token.
fn id_claims() -> Value {
    let now = now();
    json!({
        "sub": SUB,
        "email_verified": true,
        "iss": ISSUER,
        "cognito:username": "alice",
        "origin_jti": "5d0e7f5c-4b1a-4e7a-9f55-2c1d3e4f5a6b",
        "aud": CLIENT_ID,
        "event_id": "0c8f6b1e-6f2d-4c3b-a5e4-7d9c1b2a3f4e",
        "token_use": "id",
        "auth_time": now,
        "exp": now + 3600,
        "iat": now,
        "jti": "2a3b4c5d-6e7f-4081-9293-a4b5c6d7e8f9",
        "email": "alice@example.com",
    })
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

// ---------------------------------------------------------------------------------------------
// JWKS server

/// A minimal HTTP/1.1 server: answers every request with the current status and body, after an
/// optional delay, and counts requests.
struct JwksServer {
    url: String,
    hits: Arc<AtomicUsize>,
    reply: Arc<Mutex<(u16, String)>>,
}

impl JwksServer {
    async fn start(body: Value) -> Self {
        Self::start_with_delay(body, Duration::ZERO).await
    }

    async fn start_with_delay(body: Value, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/eu-west-1_TestPool1/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let hits = Arc::new(AtomicUsize::new(0));
        let reply = Arc::new(Mutex::new((200, body.to_string())));
        let (task_hits, task_reply) = (hits.clone(), reply.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                let (hits, reply) = (task_hits.clone(), task_reply.clone());
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    hits.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                    let (status, body) = reply.lock().unwrap().clone();
                    let response = format!(
                        "HTTP/1.1 {status} Whatever\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        JwksServer { url, hits, reply }
    }

    fn serve(&self, body: Value) {
        self.serve_raw(200, &body.to_string());
    }

    fn serve_raw(&self, status: u16, body: &str) {
        *self.reply.lock().unwrap() = (status, body.to_owned());
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn config(url: &str, token_use: TokenUse) -> CognitoConfig {
    CognitoConfig {
        jwks_url: Some(url.to_owned()),
        ..CognitoConfig::new(ISSUER, CLIENT_ID, token_use)
    }
}

fn verifier(config: CognitoConfig) -> CognitoAuthenticator {
    CognitoAuthenticator::new(config).expect("valid config")
}

#[track_caller]
fn assert_invalid(result: Result<Caller, AuthError>, needle: &str) {
    match result {
        Err(AuthError::Invalid(reason)) => {
            assert!(reason.contains(needle), "reason {reason:?} does not mention {needle:?}");
        }
        other => panic!("expected Invalid(..{needle}..), got {other:?}"),
    }
}

fn alice() -> Caller {
    Caller {
        user_id: SUB.to_owned(),
        username: Some("alice".to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// Accepted tokens

#[tokio::test]
async fn valid_access_token_is_accepted() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a, &k.b])).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    assert_eq!(auth.authenticate(&k.a.sign(&access_claims())).await, Ok(alice()));
    assert_eq!(auth.authenticate(&k.b.sign(&access_claims())).await, Ok(alice()));
    assert_eq!(server.hits(), 1, "both keys come from one fetch");
}

#[tokio::test]
async fn valid_id_token_is_accepted_with_token_use_id() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(config(&server.url, TokenUse::Id));

    assert_eq!(auth.authenticate(&k.a.sign(&id_claims())).await, Ok(alice()));
}

#[tokio::test]
async fn username_is_optional() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    let token = k.a.sign(&without(access_claims(), "username"));
    let caller = auth.authenticate(&token).await.unwrap();
    assert_eq!(
        caller,
        Caller {
            user_id: SUB.to_owned(),
            username: None
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Claims

#[tokio::test]
async fn expired_token_is_expired() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    let long_ago = k.a.sign(&with(access_claims(), "exp", json!(now() - 3600)));
    assert_eq!(auth.authenticate(&long_ago).await, Err(AuthError::Expired));

    // Within the default 30 s leeway.
    let just_now = k.a.sign(&with(access_claims(), "exp", json!(now() - 5)));
    assert_eq!(auth.authenticate(&just_now).await, Ok(alice()));

    // Without leeway it is expired.
    let strict = verifier(CognitoConfig {
        leeway: Duration::ZERO,
        ..config(&server.url, TokenUse::Access)
    });
    assert_eq!(strict.authenticate(&just_now).await, Err(AuthError::Expired));
}

#[tokio::test]
async fn exp_must_be_a_number() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    assert_invalid(
        auth.authenticate(&k.a.sign(&without(access_claims(), "exp"))).await,
        "missing exp",
    );
    let text = with(access_claims(), "exp", json!("tomorrow"));
    assert_invalid(auth.authenticate(&k.a.sign(&text)).await, "exp is not a valid time");
    let negative = with(access_claims(), "exp", json!(-1));
    assert_invalid(auth.authenticate(&k.a.sign(&negative)).await, "exp is not a valid time");
}

#[tokio::test]
async fn wrong_issuer_is_refused_without_fetching_keys() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    let other_pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OtherPool";
    for iss in [
        json!(other_pool),
        json!(format!("{ISSUER}/")),
        json!([ISSUER]),
        json!(7),
    ] {
        let token = k.a.sign(&with(access_claims(), "iss", iss));
        assert_invalid(auth.authenticate(&token).await, "wrong issuer");
    }
    assert_invalid(
        auth.authenticate(&k.a.sign(&without(access_claims(), "iss"))).await,
        "missing iss",
    );
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn wrong_client_is_refused() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let access = verifier(config(&server.url, TokenUse::Access));
    let id = verifier(config(&server.url, TokenUse::Id));

    let token = k.a.sign(&with(access_claims(), "client_id", json!("someotherclient")));
    assert_invalid(access.authenticate(&token).await, "wrong client_id");
    let token = k.a.sign(&without(access_claims(), "client_id"));
    assert_invalid(access.authenticate(&token).await, "missing client_id");

    let token = k.a.sign(&with(id_claims(), "aud", json!("someotherclient")));
    assert_invalid(id.authenticate(&token).await, "wrong aud");
    let token = k.a.sign(&without(id_claims(), "aud"));
    assert_invalid(id.authenticate(&token).await, "missing aud");
    // An access token's client_id does not stand in for an ID token's aud.
    let token =
        k.a.sign(&with(without(id_claims(), "aud"), "client_id", json!(CLIENT_ID)));
    assert_invalid(id.authenticate(&token).await, "missing aud");
}

#[tokio::test]
async fn id_token_aud_may_be_a_list_that_names_the_client() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let id = verifier(config(&server.url, TokenUse::Id));

    // RFC 7519 allows a list; Cognito writes a string, but a list naming the client is as good.
    let token =
        k.a.sign(&with(id_claims(), "aud", json!(["someotherclient", CLIENT_ID])));
    assert_eq!(id.authenticate(&token).await, Ok(alice()));
    for aud in [json!(["someotherclient"]), json!([])] {
        let token = k.a.sign(&with(id_claims(), "aud", aud));
        assert_invalid(id.authenticate(&token).await, "wrong aud");
    }
    let token = k.a.sign(&with(id_claims(), "aud", json!(7)));
    assert_invalid(id.authenticate(&token).await, "aud");
}

#[tokio::test]
async fn token_use_must_match() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let access = verifier(config(&server.url, TokenUse::Access));
    let id = verifier(config(&server.url, TokenUse::Id));

    assert_invalid(
        access.authenticate(&k.a.sign(&id_claims())).await,
        "token_use is id, expected access",
    );
    assert_invalid(
        id.authenticate(&k.a.sign(&access_claims())).await,
        "token_use is access, expected id",
    );
    let token = k.a.sign(&without(access_claims(), "token_use"));
    assert_invalid(access.authenticate(&token).await, "missing token_use");
}

#[tokio::test]
async fn sub_is_required() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    assert_invalid(
        auth.authenticate(&k.a.sign(&without(access_claims(), "sub"))).await,
        "missing sub",
    );
    assert_invalid(
        auth.authenticate(&k.a.sign(&with(access_claims(), "sub", json!(""))))
            .await,
        "missing sub",
    );
    assert_invalid(
        auth.authenticate(&k.a.sign(&with(access_claims(), "sub", json!(42))))
            .await,
        "missing sub",
    );
}

// ---------------------------------------------------------------------------------------------
// Algorithms, keys, signatures

#[tokio::test]
async fn alg_none_is_refused() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    let header = b64_json(&json!({ "alg": "none", "typ": "JWT", "kid": k.a.kid }));
    let payload = b64_json(&access_claims());
    assert_invalid(
        auth.authenticate(&format!("{header}.{payload}.")).await,
        "alg none is not accepted",
    );
    assert_invalid(
        auth.authenticate(&format!("{header}.{payload}.c2ln")).await,
        "alg none is not accepted",
    );
    let header = b64_json(&json!({ "alg": "None", "kid": k.a.kid }));
    assert_invalid(
        auth.authenticate(&format!("{header}.{payload}.")).await,
        "alg None is not accepted",
    );
    let header = b64_json(&json!({ "kid": k.a.kid }));
    assert_invalid(
        auth.authenticate(&format!("{header}.{payload}.c2ln")).await,
        "missing alg",
    );
}

#[tokio::test]
async fn hs256_and_other_algs_are_refused() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    // The classic confusion attack: HMAC keyed with the public key material.
    for secret in [k.a.n.as_bytes().to_vec(), k.a.jwk().to_string().into_bytes()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(k.a.kid.to_owned());
        let token = jsonwebtoken::encode(&header, &access_claims(), &EncodingKey::from_secret(&secret)).unwrap();
        assert_invalid(auth.authenticate(&token).await, "alg HS256 is not accepted");
    }
    // Right key, other RSA algorithms.
    for (alg, name) in [(Algorithm::RS512, "RS512"), (Algorithm::PS256, "PS256")] {
        let token = k.a.sign_as(k.a.kid, alg, &access_claims());
        assert_invalid(auth.authenticate(&token).await, &format!("alg {name} is not accepted"));
    }
}

#[tokio::test]
async fn kid_is_required() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    let token = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &access_claims(), &k.a.encoding).unwrap();
    assert_invalid(auth.authenticate(&token).await, "missing kid");
    assert_invalid(
        auth.authenticate(&k.a.sign_as("", Algorithm::RS256, &access_claims()))
            .await,
        "missing kid",
    );
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn signature_by_a_key_not_in_the_jwks_is_refused() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    // Claims a published kid, signed with another key.
    let forged = k.rogue.sign_as(k.a.kid, Algorithm::RS256, &access_claims());
    assert_invalid(auth.authenticate(&forged).await, "bad signature");
    // Its own kid, which the pool never published.
    assert_invalid(
        auth.authenticate(&k.rogue.sign(&access_claims())).await,
        "unknown signing key",
    );
}

#[tokio::test]
async fn tampered_token_is_refused() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    let token = k.a.sign(&access_claims());
    let parts: Vec<&str> = token.split('.').collect();

    let other_user = b64_json(&with(access_claims(), "sub", json!("someone-else")));
    let tampered = format!("{}.{other_user}.{}", parts[0], parts[2]);
    assert_invalid(auth.authenticate(&tampered).await, "bad signature");

    let later = b64_json(&with(access_claims(), "exp", json!(now() + 365 * 24 * 3600)));
    assert_invalid(
        auth.authenticate(&format!("{}.{later}.{}", parts[0], parts[2])).await,
        "bad signature",
    );

    let mut signature = parts[2].as_bytes().to_vec();
    let middle = signature.len() / 2;
    signature[middle] = if signature[middle] == b'A' { b'B' } else { b'A' };
    let flipped = format!("{}.{}.{}", parts[0], parts[1], String::from_utf8(signature).unwrap());
    assert_invalid(auth.authenticate(&flipped).await, "bad signature");

    let header = b64_json(&json!({ "alg": "RS256", "kid": k.a.kid, "typ": "JWT", "x": 1 }));
    assert_invalid(
        auth.authenticate(&format!("{header}.{}.{}", parts[1], parts[2])).await,
        "bad signature",
    );

    assert_invalid(auth.authenticate(&format!("{}.{}.", parts[0], parts[1])).await, "");
    assert_invalid(
        auth.authenticate(&format!("{}.{}.!!!", parts[0], parts[1])).await,
        "malformed token",
    );

    // The untouched token still passes.
    assert_eq!(auth.authenticate(&token).await, Ok(alice()));
}

#[tokio::test]
async fn garbage_is_refused_without_panicking_or_fetching() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    let rs256_kid = b64_json(&json!({ "alg": "RS256", "kid": k.a.kid }));
    let huge = "a".repeat(100_000);
    let huge_dots = ".".repeat(50_000);
    let garbage: Vec<String> = vec![
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        "....".into(),
        "a.b".into(),
        "a.b.c".into(),
        "a.b.c.d".into(),
        "Bearer abc.def.ghi".into(),
        "not a token".into(),
        "💥.💥.💥".into(),
        "\0.\0.\0".into(),
        "e30.e30.e30".into(),
        "bnVsbA.bnVsbA.bnVsbA".into(),
        huge,
        huge_dots,
        format!("{}.e30.", URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0x00])),
        format!("{}.e30.", b64_json(&json!({ "alg": 256, "kid": "x" }))),
        format!("{}.e30.", b64_json(&json!(["alg", "RS256"]))),
        format!("{}.e30.", b64_json(&json!({ "alg": "RS256", "kid": 5 }))),
        format!("{rs256_kid}.{}.sig", URL_SAFE_NO_PAD.encode("not json")),
        format!("{rs256_kid}.{}.sig", b64_json(&json!([1, 2, 3]))),
        format!("{rs256_kid}.{}.sig", b64_json(&json!({ "iss": 5 }))),
        format!("{rs256_kid}.e30.sig"),
        format!("{rs256_kid}.e30=.sig"),
        format!(" {rs256_kid}.e30.sig"),
    ];
    for token in &garbage {
        match auth.authenticate(token).await {
            Err(AuthError::Invalid(reason)) => assert!(!reason.is_empty()),
            other => panic!("{:?} gave {other:?}", &token[..token.len().min(60)]),
        }
    }
    assert_eq!(server.hits(), 0, "nothing here should reach the key set");
}

// ---------------------------------------------------------------------------------------------
// Key set cache

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_verifications_fetch_the_key_set_once() {
    let k = keys();
    let server = JwksServer::start_with_delay(jwks(&[&k.a]), Duration::from_millis(200)).await;
    let auth = Arc::new(verifier(config(&server.url, TokenUse::Access)));
    let token = Arc::new(k.a.sign(&access_claims()));

    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (auth, token) = (auth.clone(), token.clone());
            tokio::spawn(async move { auth.authenticate(&token).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(alice()));
    }
    assert_eq!(server.hits(), 1);

    for _ in 0..10 {
        assert_eq!(auth.authenticate(&token).await, Ok(alice()));
    }
    assert_eq!(server.hits(), 1, "later verifications use the cache");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotation_is_picked_up_with_one_refetch_and_unknown_kids_respect_the_cooldown() {
    let k = keys();
    let server = JwksServer::start_with_delay(jwks(&[&k.a]), Duration::from_millis(100)).await;
    let auth = Arc::new(verifier(config(&server.url, TokenUse::Access)));

    assert_eq!(auth.authenticate(&k.a.sign(&access_claims())).await, Ok(alice()));
    assert_eq!(server.hits(), 1);

    // Cognito rotates: key A is retired, key B signs from now on. Many requests at once.
    server.serve(jwks(&[&k.b]));
    let token_b = Arc::new(k.b.sign(&access_claims()));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (auth, token) = (auth.clone(), token_b.clone());
            tokio::spawn(async move { auth.authenticate(&token).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(alice()));
    }
    assert_eq!(server.hits(), 2, "one refetch for the new kid");

    // Within the cooldown (default 60 s) unknown kids are refused without asking again.
    for _ in 0..5 {
        assert_invalid(
            auth.authenticate(&k.rogue.sign(&access_claims())).await,
            "unknown signing key",
        );
    }
    // The retired key is gone with the refetched set.
    assert_invalid(
        auth.authenticate(&k.a.sign(&access_claims())).await,
        "unknown signing key",
    );
    assert_eq!(server.hits(), 2);
    assert_eq!(auth.authenticate(&token_b).await, Ok(alice()));
}

#[tokio::test]
async fn unknown_kid_refetches_again_once_the_cooldown_has_passed() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(CognitoConfig {
        refetch_cooldown: Duration::from_secs(1),
        ..config(&server.url, TokenUse::Access)
    });
    let unknown = k.rogue.sign(&access_claims());

    assert_eq!(auth.authenticate(&k.a.sign(&access_claims())).await, Ok(alice()));
    assert_eq!(server.hits(), 1);
    assert_invalid(auth.authenticate(&unknown).await, "unknown signing key");
    assert_eq!(server.hits(), 2);
    assert_invalid(auth.authenticate(&unknown).await, "unknown signing key");
    assert_eq!(server.hits(), 2);

    tokio::time::sleep(Duration::from_millis(1200)).await;
    server.serve(jwks(&[&k.a, &k.rogue]));
    assert_eq!(auth.authenticate(&unknown).await, Ok(alice()));
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn key_set_is_refreshed_after_the_ttl() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(CognitoConfig {
        cache_ttl: Duration::from_secs(1),
        ..config(&server.url, TokenUse::Access)
    });
    let token = k.a.sign(&access_claims());

    assert_eq!(auth.authenticate(&token).await, Ok(alice()));
    assert_eq!(auth.authenticate(&token).await, Ok(alice()));
    assert_eq!(server.hits(), 1);

    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(auth.authenticate(&token).await, Ok(alice()));
    assert_eq!(server.hits(), 2);
    assert_eq!(auth.authenticate(&token).await, Ok(alice()));
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn failed_refresh_keeps_the_cached_keys() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let auth = verifier(CognitoConfig {
        cache_ttl: Duration::ZERO,
        refetch_cooldown: Duration::from_secs(1),
        ..config(&server.url, TokenUse::Access)
    });
    let token = k.a.sign(&access_claims());
    assert_eq!(auth.authenticate(&token).await, Ok(alice()));
    assert_eq!(server.hits(), 1);

    server.serve_raw(503, "Service Unavailable");
    assert_eq!(auth.authenticate(&token).await, Ok(alice()), "stale keys beat no keys");
    assert_eq!(server.hits(), 2);
    // A failed refresh is not retried within the cooldown.
    assert_eq!(auth.authenticate(&token).await, Ok(alice()));
    assert_eq!(server.hits(), 2);

    server.serve(json!({ "keys": [] }));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        auth.authenticate(&token).await,
        Ok(alice()),
        "an empty set does not replace a good one"
    );
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn jwks_server_down_with_empty_cache_is_unavailable() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
    drop(listener);
    let auth = verifier(config(&url, TokenUse::Access));
    let token = keys().a.sign(&access_claims());

    for _ in 0..2 {
        match auth.authenticate(&token).await {
            Err(AuthError::Unavailable(reason)) => assert!(reason.contains("JWKS"), "{reason}"),
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
    assert!(matches!(auth.refresh_keys().await, Err(AuthError::Unavailable(_))));
}

#[tokio::test]
async fn bad_jwks_responses_with_empty_cache_are_unavailable_until_a_good_one() {
    let k = keys();
    let server = JwksServer::start(json!({})).await;
    let auth = verifier(config(&server.url, TokenUse::Access));
    let token = k.a.sign(&access_claims());

    let cases: [(u16, String, &str); 5] = [
        (500, "oops".into(), "HTTP 500"),
        (200, "<html>not json</html>".into(), "not a key set"),
        (200, json!({ "keys": {} }).to_string(), "not a key set"),
        (200, json!({ "keys": [] }).to_string(), "no usable RS256 signing key"),
        (200, "x".repeat(300 * 1024), "too large"),
    ];
    for (status, body, needle) in cases {
        server.serve_raw(status, &body);
        match auth.authenticate(&token).await {
            Err(AuthError::Unavailable(reason)) => assert!(reason.contains(needle), "{reason:?} lacks {needle:?}"),
            other => panic!("expected Unavailable({needle}), got {other:?}"),
        }
    }
    // With no keys at all there is no cooldown: the first good answer is used at once.
    server.serve(jwks(&[&k.a]));
    assert_eq!(auth.authenticate(&token).await, Ok(alice()));
}

#[tokio::test]
async fn unusable_jwks_entries_are_skipped() {
    let k = keys();
    let a = k.a.jwk();
    let rsa_like = |kid: &str, changes: Value| {
        let mut jwk = a.clone();
        jwk["kid"] = json!(kid);
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                jwk.as_object_mut().unwrap().remove(name);
            } else {
                jwk[name] = value.clone();
            }
        }
        jwk
    };
    let body = json!({ "keys": [
        42,
        "key",
        null,
        [],
        { "kty": "EC", "crv": "P-256", "kid": "ec", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
          "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" },
        { "kty": "oct", "kid": "hmac", "k": "c2VjcmV0" },
        rsa_like("no-n", json!({ "n": null })),
        rsa_like("no-e", json!({ "e": null })),
        rsa_like("bad-n", json!({ "n": "!!! not base64 !!!" })),
        rsa_like("padded-n", json!({ "n": format!("{}==", k.a.n) })),
        rsa_like("small-n", json!({ "n": URL_SAFE_NO_PAD.encode([0xc5u8; 128]) })),
        rsa_like("huge-n", json!({ "n": URL_SAFE_NO_PAD.encode([0xc5u8; 1100]) })),
        rsa_like("even-e", json!({ "e": URL_SAFE_NO_PAD.encode([1u8, 0]) })),
        rsa_like("e-one", json!({ "e": "AQ" })),
        rsa_like("enc", json!({ "use": "enc" })),
        rsa_like("rs512", json!({ "alg": "RS512" })),
        rsa_like("n-number", json!({ "n": 12345 })),
        rsa_like("", json!({})),
        rsa_like("x", json!({ "kid": null })),
        rsa_like("no-kty", json!({ "kty": null })),
        { "kty": "RSA", "kid": 7, "n": k.a.n, "e": k.a.e },
        a,
        // A duplicate kid: the first entry wins.
        { "kty": "RSA", "kid": k.a.kid, "n": k.b.n, "e": k.b.e },
        // Minimal but usable: no alg, no use.
        { "kty": "RSA", "kid": k.b.kid, "n": k.b.n, "e": k.b.e },
    ]});
    let server = JwksServer::start(body).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    assert_eq!(auth.refresh_keys().await, Ok(2));
    assert_eq!(auth.authenticate(&k.a.sign(&access_claims())).await, Ok(alice()));
    assert_eq!(auth.authenticate(&k.b.sign(&access_claims())).await, Ok(alice()));
    let skipped = k.a.sign_as("enc", Algorithm::RS256, &access_claims());
    assert_invalid(auth.authenticate(&skipped).await, "unknown signing key");
}

#[tokio::test]
async fn leading_zero_octets_in_a_jwk_are_dropped() {
    let k = keys();
    // Some encoders write n (and e) with a leading zero octet (RFC 7518 6.3.1.1); aws-lc-rs
    // refuses such components, so they are stripped when the key is loaded.
    let padded = |b64: &str| {
        let mut bytes = vec![0u8];
        bytes.extend(URL_SAFE_NO_PAD.decode(b64).unwrap());
        URL_SAFE_NO_PAD.encode(bytes)
    };
    let mut jwk = k.a.jwk();
    jwk["n"] = json!(padded(&k.a.n));
    jwk["e"] = json!(padded(&k.a.e));
    let server = JwksServer::start(json!({ "keys": [jwk] })).await;
    let auth = verifier(config(&server.url, TokenUse::Access));

    assert_eq!(auth.authenticate(&k.a.sign(&access_claims())).await, Ok(alice()));
}

// ---------------------------------------------------------------------------------------------
// Configuration

#[test]
fn config_defaults_and_validation() {
    let config = CognitoConfig::for_user_pool("eu-west-1", "eu-west-1_AbC123", "client", TokenUse::Id);
    assert_eq!(
        config.issuer,
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
    );
    assert_eq!(
        config.effective_jwks_url(),
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"
    );
    assert_eq!(config.refetch_cooldown, Duration::from_secs(60));
    assert_eq!(config.cache_ttl, Duration::from_secs(3600));
    assert_eq!(config.leeway, Duration::from_secs(30));
    assert!(CognitoAuthenticator::new(config.clone()).is_ok());

    let broken = [
        CognitoConfig {
            issuer: String::new(),
            ..config.clone()
        },
        CognitoConfig {
            issuer: format!("{}/", config.issuer),
            ..config.clone()
        },
        CognitoConfig {
            client_id: String::new(),
            ..config.clone()
        },
        CognitoConfig {
            jwks_url: Some("not a url".into()),
            ..config.clone()
        },
        CognitoConfig {
            jwks_url: Some("ftp://example.com/jwks.json".into()),
            ..config.clone()
        },
    ];
    for config in broken {
        assert!(matches!(
            CognitoAuthenticator::new(config),
            Err(CognitoSetupError::Config(_))
        ));
    }

    assert_eq!("access".parse::<TokenUse>(), Ok(TokenUse::Access));
    assert_eq!("id".parse::<TokenUse>(), Ok(TokenUse::Id));
    assert!("ID".parse::<TokenUse>().is_err());
    assert_eq!(TokenUse::Id.to_string(), "id");
}

#[tokio::test]
async fn leeway_is_at_most_a_day() {
    let k = keys();
    let server = JwksServer::start(jwks(&[&k.a])).await;
    let lenient = CognitoConfig {
        leeway: MAX_LEEWAY,
        ..config(&server.url, TokenUse::Access)
    };
    let auth = verifier(lenient.clone());
    let yesterday = k.a.sign(&with(access_claims(), "exp", json!(now() - 23 * 3600)));
    assert_eq!(auth.authenticate(&yesterday).await, Ok(alice()));
    let earlier = k.a.sign(&with(access_claims(), "exp", json!(now() - 25 * 3600)));
    assert_eq!(auth.authenticate(&earlier).await, Err(AuthError::Expired));

    for leeway in [MAX_LEEWAY + Duration::from_secs(1), Duration::MAX] {
        match CognitoAuthenticator::new(CognitoConfig {
            leeway,
            ..lenient.clone()
        }) {
            Err(CognitoSetupError::Config(reason)) => assert!(reason.contains("leeway"), "{reason}"),
            other => panic!("leeway {leeway:?} gave {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A key set held by the caller

#[test]
fn a_held_key_set_checks_tokens_without_fetching() {
    let k = keys();
    let mut document = jwks(&[&k.a, &k.b]);
    document["keys"]
        .as_array_mut()
        .unwrap()
        .extend([json!({ "kty": "EC", "kid": "ec" }), json!(7)]);
    let held = JwkSet::parse(document.to_string().as_bytes()).unwrap();
    assert_eq!(held.len(), 2, "the EC entry and the number are skipped");
    assert!(held.contains("key-a") && held.contains("key-b") && !held.contains("ec"));

    // Nothing listens on this URL: a fetch would fail as Unavailable.
    let auth = verifier(config("http://127.0.0.1:9/jwks.json", TokenUse::Access));
    assert_eq!(
        auth.verify_with_keys(&k.b.sign(&access_claims()), &held).unwrap(),
        alice()
    );
    assert_invalid(
        auth.verify_with_keys(&k.rogue.sign(&access_claims()), &held),
        "unknown signing key",
    );
    assert_invalid(
        auth.verify_with_keys(&k.a.sign(&access_claims()), &JwkSet::default()),
        "unknown signing key",
    );
    assert_eq!(
        auth.verify_with_keys(&k.a.sign(&with(access_claims(), "exp", json!(1000))), &held),
        Err(AuthError::Expired)
    );
}

#[test]
fn a_key_set_without_usable_keys_is_refused() {
    let k = keys();
    for (document, reason) in [
        ("[]", "JWKS response is not a key set"),
        ("{\"keys\": 5}", "JWKS response is not a key set"),
        ("{\"keys\": []}", "JWKS has no usable RS256 signing key"),
        (
            "{\"keys\": [{\"kty\": \"EC\", \"kid\": \"ec\"}]}",
            "JWKS has no usable RS256 signing key",
        ),
    ] {
        assert_eq!(JwkSet::parse(document.as_bytes()).unwrap_err(), reason, "{document}");
    }
    let mut enc = k.a.jwk();
    enc["use"] = json!("enc");
    assert!(JwkSet::parse(json!({ "keys": [enc] }).to_string().as_bytes()).is_err());
}
