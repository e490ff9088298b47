//! A moto user pool with an app client and a signed-in user, for the tests that need real
//! Cognito tokens.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ExplicitAuthFlowsType, MessageActionType};

pub struct Pool {
    pub id: String,
    pub client_id: String,
    pub access_token: String,
    pub id_token: String,
}

pub async fn pool_with_a_signed_in_user(cognito: &Client) -> Pool {
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
