//! vodpipe's embedded HTTP server over one data directory: the API [`vodpipe_api::router`],
//! the S3-compatible upload endpoint (`/upload`) and the published media (`/media`).
//! `vodpipe serve` runs it next to the worker.

pub mod media;
pub mod secrets;
pub mod upload;
pub mod web;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use vodpipe_api::limits::{AuthLimiter, AuthLimits};
use vodpipe_api::uploads::PostForm;
use vodpipe_api::{ApiState, LocalAuth, PostSigner, UlidIds};
use vodpipe_auth::local::LocalAccounts;
use vodpipe_core::ports::{Clock, SystemClock};
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::sqlite::Database;
use vodpipe_presign::Credentials;

pub use secrets::Secrets;
pub use upload::UploadEndpoint;

/// What the server is built from.
pub struct Embedded {
    pub store: Arc<DiskStore>,
    pub database: Arc<Database>,
    pub secrets: Secrets,
    /// Local accounts, signing tokens with the key in `secrets` (and the system clock).
    pub accounts: Arc<LocalAccounts>,
    /// Rate limits on sign-up, sign-in and refresh.
    pub auth_limits: AuthLimits,
    /// How clients reach this server, e.g. `http://127.0.0.1:8080` (upload form URLs and
    /// media URLs start with it).
    pub public_url: String,
    /// The clock of video records and upload forms (`accounts` keep the one of `open`).
    pub clock: Arc<dyn Clock>,
    /// How long the public listing's first page is served from memory.
    pub public_page_ttl: std::time::Duration,
    /// The largest upload a form allows (and the front end is told).
    pub max_upload_bytes: u64,
}

impl Embedded {
    /// Opens (or creates) a data directory: store, database and secrets.
    pub fn open(data: &Path, public_url: &str) -> std::io::Result<Self> {
        let store = DiskStore::open(data)?;
        // Uploads a crash cut off: nobody will finish them.
        let abandoned = store.remove_abandoned_uploads()?;
        if abandoned > 0 {
            tracing::info!(abandoned, "removed uploads cut off by an earlier stop");
        }
        let database =
            Database::open(&data.join("vodpipe.db"), Box::new(SystemClock)).map_err(std::io::Error::other)?;
        let secrets = Secrets::load_or_create(&data.join("secrets.json"))?;
        let database = Arc::new(database);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let accounts = Arc::new(LocalAccounts::new(
            database.clone(),
            &secrets.token_key_bytes()?,
            clock.clone(),
        ));
        Ok(Self {
            store: Arc::new(store),
            database,
            secrets,
            accounts,
            auth_limits: AuthLimits::default(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            clock,
            public_page_ttl: std::time::Duration::from_secs(1),
            max_upload_bytes: vodpipe_api::uploads::MAX_UPLOAD_BYTES,
        })
    }

    /// API, upload endpoint, media and, given its static export, the web front end, with
    /// request ids, tracing and CORS. Serve it with connection info
    /// (`into_make_service_with_connect_info::<SocketAddr>`): sign-in is limited per client
    /// address.
    pub fn router(&self, media_root: &Path, site: Option<&Path>) -> Router {
        let state = ApiState {
            videos: self.database.clone(),
            objects: self.store.clone(),
            authenticator: self.accounts.clone(),
            uploads: Arc::new(PostSigner {
                form: PostForm {
                    url: format!("{}/upload", self.public_url),
                    bucket: upload::BUCKET.into(),
                    region: upload::REGION.into(),
                    max_bytes: self.max_upload_bytes,
                    expires_in: vodpipe_api::uploads::UPLOAD_EXPIRY,
                },
                credentials: Credentials {
                    access_key_id: self.secrets.upload_access_key_id.clone(),
                    secret_access_key: self.secrets.upload_secret_access_key.clone(),
                    session_token: None,
                },
            }),
            accounts: Some(LocalAuth {
                accounts: self.accounts.clone(),
                limiter: Arc::new(AuthLimiter::new(self.auth_limits)),
            }),
            media_base: format!("{}/media", self.public_url),
            ids: Arc::new(UlidIds),
            clock: self.clock.clone(),
            public_pages: Arc::new(vodpipe_api::cache::PageCache::new(self.public_page_ttl)),
        };
        let uploads = upload::router(UploadEndpoint {
            store: self.store.clone(),
            queue: self.database.clone(),
            clock: self.clock.clone(),
            access_key_id: self.secrets.upload_access_key_id.clone(),
            secret_access_key: self.secrets.upload_secret_access_key.clone(),
        });
        let mut routes = vodpipe_api::routes(state)
            .merge(uploads)
            .merge(web::config_router(self.max_upload_bytes))
            .nest("/media", media::router(media_root));
        if let Some(site) = site {
            routes = web::with_site(routes, site);
        }
        vodpipe_api::with_request_layers(routes)
    }
}
