//! What vodpipe's tests share across crates: media made by ffmpeg, a conformance checker for
//! the published HLS and DASH output, the fuzz corpora's replay,
//! pinned Python tools in venvs (openapi-spec-validator), and (feature `aws`) moto's server with a Cognito pool and a MediaConvert stand-in that
//! records requests. Never a dependency of shipped code.

pub mod conformance;
pub mod corpus;
pub mod media;
pub mod python;

#[cfg(feature = "aws")]
pub mod capture;
#[cfg(feature = "aws")]
pub mod cognito;
#[cfg(feature = "aws")]
pub mod moto;
