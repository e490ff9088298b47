//! The Cognito authenticator against tokens moto's Cognito user pool issues (signed with its
//! key, served from its JWKS endpoint): accepted as they are, refused when tampered with or
//! meant for another app client.

mod common;

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ExplicitAuthFlowsType, MessageActionType};
use common::Moto;
use vodpipe_auth::{CognitoAuthenticator, CognitoConfig, TokenUse};
use vodpipe_core::auth::{AuthError, Authenticator};

struct Pool {
    id: String,
    client_id: String,
    access_token: String,
    id_token: String,
}

async fn pool_with_a_signed_in_user(cognito: &Client) -> Pool {
    let pool = cognito.create_user_pool().pool_name("vodpipe").send().await.unwrap();
    let id = pool.user_pool().unwrap().id().unwrap().to_owned();
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(&id)
        .client_name("web")
        .explicit_auth_flows(ExplicitAuthFlowsType::AdminNoSrpAuth)
        .send()
        .await
        .unwrap();
    let client_id = client.user_pool_client().unwrap().client_id().unwrap().to_owned();
    cognito
        .admin_create_user()
        .user_pool_id(&id)
        .username("alice")
        .temporary_password("Temp-pass1!")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    cognito
        .admin_set_user_password()
        .user_pool_id(&id)
        .username("alice")
        .password("Real-pass1!")
        .permanent(true)
        .send()
        .await
        .unwrap();
    let auth = cognito
        .admin_initiate_auth()
        .user_pool_id(&id)
        .client_id(&client_id)
        .auth_flow(AuthFlowType::AdminNoSrpAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", "Real-pass1!")
        .send()
        .await
        .unwrap();
    let result = auth.authentication_result().unwrap();
    Pool {
        id,
        client_id,
        access_token: result.access_token().unwrap().to_owned(),
        id_token: result.id_token().unwrap().to_owned(),
    }
}

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
