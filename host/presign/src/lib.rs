//! Browser uploads with S3 presigned POST (a SigV4 POST policy), both sides of it.
//!
//! [`presign_post`] writes and signs the policy for one upload and returns the form fields a
//! browser posts to S3. aws-sdk-rust has no presigned POST, so the signing uses aws-sigv4's
//! primitives directly.
//!
//! [`verify_post`] enforces such a policy for vodpipe's embedded mode, whose own
//! S3-compatible upload endpoint must accept exactly what S3 accepts and refuse what S3
//! refuses, answering with S3's errors ([`PostError::to_xml`]). No kept crate verifies POST
//! policies (S3 does it server-side), so the enforcement is written here, condition by
//! condition, and fuzzed (`host/fuzz`, target `post_policy`).

mod conditions;
mod error;
mod policy;
mod verify;

pub mod dates;

pub use error::PostError;
pub use policy::{ALGORITHM, Credentials, PresignedPost, UploadRules, presign_post, sign_policy};
pub use verify::{AcceptedPost, substitute_filename, verify_post};
