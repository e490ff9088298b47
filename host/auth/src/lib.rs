//! Authenticators behind vodpipe-core's port: local accounts for embedded mode, Cognito
//! JWTs for AWS mode.

pub mod cognito;
pub mod local;

pub use cognito::{CognitoAuthenticator, CognitoConfig, CognitoSetupError, JwkSet, TokenUse};
