//! The Cognito authenticator against tokens moto's Cognito user pool issues (signed with its
//! key, served from its JWKS endpoint): accepted as they are, refused when tampered with or
//! meant for another app client.

use aws_sdk_cognitoidentityprovider::Client;
use vodpipe_auth::{CognitoAuthenticator, CognitoConfig, TokenUse};
use vodpipe_core::auth::{AuthError, Authenticator};
use vodpipe_test_support::cognito::{Pool, pool_with_a_signed_in_user};
use vodpipe_test_support::moto::Moto;

fn authenticator(moto: &Moto, pool: &Pool, client_id: &str, token_use: TokenUse) -> CognitoAuthenticator {
    // moto names its pools' issuer as AWS does and serves their JWKS itself.
    let issuer = format!("https://cognito-idp.us-east-1.amazonaws.com/{}", pool.id);
    CognitoAuthenticator::new(CognitoConfig {
        jwks_url: Some(format!("{}/{}/.well-known/jwks.json", moto.endpoint, pool.id)),
        ..CognitoConfig::new(issuer, client_id, token_use)
    })
    .unwrap()
}

#[test]
fn user_pool_tokens_are_verified_against_the_pools_keys() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cognito = Client::new(&runtime.block_on(moto.config()));
    let pool = runtime.block_on(pool_with_a_signed_in_user(&cognito));

    runtime.block_on(async {
        let access = authenticator(&moto, &pool, &pool.client_id, TokenUse::Access);
        let caller = access.authenticate(&pool.access_token).await.unwrap();
        assert!(!caller.user_id.is_empty());
        assert_eq!(caller.username.as_deref(), Some("alice"));
        let id = authenticator(&moto, &pool, &pool.client_id, TokenUse::Id);
        assert_eq!(id.authenticate(&pool.id_token).await.unwrap().user_id, caller.user_id);

        // An id token where an access token is expected, and the other way round.
        assert!(matches!(
            access.authenticate(&pool.id_token).await,
            Err(AuthError::Invalid(_))
        ));
        assert!(matches!(
            id.authenticate(&pool.access_token).await,
            Err(AuthError::Invalid(_))
        ));
        // A token for another app client.
        let other = authenticator(&moto, &pool, "another-client", TokenUse::Access);
        assert!(matches!(
            other.authenticate(&pool.access_token).await,
            Err(AuthError::Invalid(_))
        ));
        // A tampered payload: the signature no longer matches.
        let mut parts: Vec<String> = pool.access_token.split('.').map(str::to_owned).collect();
        let flipped = if parts[1].ends_with('A') { 'B' } else { 'A' };
        parts[1].pop();
        parts[1].push(flipped);
        let tampered = parts.join(".");
        assert!(matches!(
            access.authenticate(&tampered).await,
            Err(AuthError::Invalid(_))
        ));
    });
}
