//! `GET /openapi.json`: generated from the handlers' annotations and the views' types.

use axum::Json;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::{accounts, error, uploads, videos};

#[derive(OpenApi)]
#[openapi(
    info(title = "vodpipe", description = "Upload videos, follow their processing, watch them as HLS."),
    paths(
        accounts::sign_up, accounts::sign_in, accounts::refresh, accounts::sign_out, accounts::me,
        uploads::create_upload,
        videos::create_video, videos::list_videos, videos::list_my_videos, videos::get_video, videos::delete_video,
        crate::health,
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&BearerAuth, &Contract),
)]
pub struct ApiDoc;

/// What every route answers besides what its own annotation says, added to each operation
/// so that a generated client knows every status: the request body's extractor (400 for a body
/// that is not the documented JSON, 413 past the body limit, 415 without
/// `Content-Type: application/json`), bad query parameters (400), the bearer token (401), local
/// accounts where a user pool signs users in (404), and the stores (500, 503). Every response gets a description, which OpenAPI requires.
struct Contract;

impl Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let service = path == "/healthz" || path == "/openapi.json";
            for operation in [&mut item.get, &mut item.post, &mut item.put, &mut item.delete]
                .into_iter()
                .flatten()
            {
                let mut implied = Vec::new();
                if operation.request_body.is_some() {
                    implied.extend([("400", BAD_REQUEST), ("413", TOO_LARGE), ("415", NOT_JSON)]);
                }
                let queried = operation.parameters.iter().flatten().any(|p| match p {
                    RefOr::T(p) => p.parameter_in == ParameterIn::Query,
                    RefOr::Ref(_) => false,
                });
                if queried {
                    implied.push(("400", BAD_REQUEST));
                }
                if operation.security.is_some() {
                    implied.push(("401", UNAUTHORIZED));
                }
                if path.starts_with("/api/auth/") {
                    implied.push(("404", NO_LOCAL_ACCOUNTS));
                }
                if !service {
                    implied.extend([("500", INTERNAL), ("503", UNAVAILABLE)]);
                }
                let responses = &mut operation.responses.responses;
                for (status, description) in implied {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error_response(description));
                }
                for (status, response) in responses.iter_mut() {
                    if let RefOr::T(response) = response
                        && response.description.is_empty()
                    {
                        response.description = described(status).to_owned();
                    }
                }
            }
        }
    }
}

const BAD_REQUEST: &str =
    "the request breaks a rule of this document; `message` says which field and why: `invalid_request`";
const TOO_LARGE: &str = "the body is larger than the server takes: `payload_too_large`";
const NOT_JSON: &str = "the body is not sent as `application/json`: `unsupported_media_type`";
const UNAUTHORIZED: &str =
    "no bearer token, or one that is not valid (expired, tampered with, signed out); `WWW-Authenticate` says which";
const NO_LOCAL_ACCOUNTS: &str = "accounts are the user pool's (AWS mode), not this API's: `not_found`";
const INTERNAL: &str = "the server failed; the request may be retried: `internal`";
const UNAVAILABLE: &str = "a store the API depends on did not answer; retry later: `unavailable`";

/// An error answer: `ErrorBody` as JSON.
fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

/// The description of a response whose annotation gave none.
fn described(status: &str) -> &'static str {
    match status {
        "200" => "the result",
        "201" => "created",
        "204" => "done; no body",
        "400" => BAD_REQUEST,
        "401" => UNAUTHORIZED,
        "403" => "the caller may not do this",
        "404" => "no such resource",
        "409" => "it exists already",
        "429" => "too many attempts; `Retry-After` says when to try again: `rate_limited`",
        _ => "see the error body",
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[utoipa::path(get, path = "/openapi.json", tag = "service", responses((status = 200, description = "this document")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
