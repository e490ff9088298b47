//! `GET /openapi.json`: generated from the handlers' annotations and the views' types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

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
