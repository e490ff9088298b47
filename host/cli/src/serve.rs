//! `vodpipe serve`: the API, the upload endpoint, the media and the worker in one process
//! over one data directory. Uploads are processed as they arrive.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use vodpipe_api::limits::{AuthLimits, Budget};
use vodpipe_embedded::worker::WorkerConfig;
use vodpipe_server::Embedded;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Data directory: uploads, media, the database and the server's secrets.
    #[arg(long, default_value = "vodpipe-data")]
    data: PathBuf,
    /// Policy bundle directory, reloaded when it changes; the built-in bundle when omitted.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// How clients reach this server, when not at http://ADDR (a proxy, another host name):
    /// upload forms and media URLs start with it.
    #[arg(long)]
    public_url: Option<String>,
    /// The web front end's static export (`web/out`, built by `npm run build` in web/),
    /// served at `/`; without it only the API, uploads and media are served.
    #[arg(long)]
    web: Option<PathBuf>,
    /// The largest upload accepted, in bytes (the original's 100 MB by default).
    #[arg(long, default_value_t = vodpipe_api::uploads::MAX_UPLOAD_BYTES)]
    max_upload_bytes: u64,
    /// Seconds a queued message stays hidden while being worked on.
    #[arg(long, default_value_t = 60)]
    visibility: u64,
    /// Sign-up, sign-in and refresh attempts one client address may make at once...
    #[arg(long, env = "VODPIPE_AUTH_ADDRESS_BURST", value_name = "N",
          default_value_t = AuthLimits::DEFAULT.per_address.burst)]
    auth_address_burst: NonZeroU32,
    /// ...then one more every this many seconds.
    #[arg(long, env = "VODPIPE_AUTH_ADDRESS_PERIOD", value_name = "SECONDS",
          default_value_t = AuthLimits::DEFAULT.per_address.period.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    auth_address_period: u64,
    /// Failed sign-ins on one account, from any addresses, at once (and as many sign-up
    /// attempts of one name); signing in with the right password spends none...
    #[arg(long, env = "VODPIPE_AUTH_ACCOUNT_BURST", value_name = "N",
          default_value_t = AuthLimits::DEFAULT.per_account.burst)]
    auth_account_burst: NonZeroU32,
    /// ...then one more every this many seconds.
    #[arg(long, env = "VODPIPE_AUTH_ACCOUNT_PERIOD", value_name = "SECONDS",
          default_value_t = AuthLimits::DEFAULT.per_account.period.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    auth_account_period: u64,
    /// Reverse proxies in front of this server that append the client's address to
    /// X-Forwarded-For; rate limits then count that address. 0: the header is ignored
    /// (anyone can write it) and the connection's peer is the client.
    #[arg(long, env = "VODPIPE_TRUSTED_PROXIES", value_name = "N", default_value_t = 0)]
    trusted_proxies: usize,
}

impl ServeArgs {
    fn auth_limits(&self) -> AuthLimits {
        AuthLimits {
            per_address: Budget {
                burst: self.auth_address_burst,
                period: Duration::from_secs(self.auth_address_period),
            },
            per_account: Budget {
                burst: self.auth_account_burst,
                period: Duration::from_secs(self.auth_account_period),
            },
            trusted_proxies: self.trusted_proxies,
        }
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let auth_limits = args.auth_limits();
    let handle = crate::worker::policy_handle(args.policy.as_deref())?;
    let _watch = handle.watch(Duration::from_millis(500));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Storage calls run on the blocking pool; a few dozen threads keep a machine's disk
        // and database busy, more only contend for the allocator and the CPU.
        .max_blocking_threads(32)
        .build()
        .context("starting the async runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(args.addr))
        .with_context(|| format!("listening on {}", args.addr))?;
    let local = listener.local_addr()?;
    let public_url = args.public_url.unwrap_or_else(|| format!("http://{local}"));
    let mut embedded =
        Embedded::open(&args.data, &public_url).with_context(|| format!("opening {}", args.data.display()))?;
    embedded.max_upload_bytes = args.max_upload_bytes.max(1);
    embedded.auth_limits = auth_limits;
    if let Some(web) = &args.web
        && !web.join("index.html").is_file()
    {
        anyhow::bail!(
            "--web {}: no index.html there; build the front end first (cd web && npm ci && npm run build)",
            web.display()
        );
    }
    let router = embedded.router(&args.data.join("media"), args.web.as_deref());

    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let (database, store, stop) = (embedded.database.clone(), embedded.store.clone(), stop.clone());
        let config = WorkerConfig {
            visibility: Duration::from_secs(args.visibility.max(1)),
            ..WorkerConfig::default()
        };
        std::thread::Builder::new()
            .name("worker".into())
            .spawn(move || crate::worker::work(&database, &store, &handle, config, None, &stop))?
    };

    eprintln!(
        "vodpipe serve: listening on http://{local} (data in {})",
        args.data.display()
    );
    runtime
        .block_on(async {
            // The peer's address is what sign-in's rate limits count.
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(shutdown_signal())
                .await
        })
        .context("serving")?;
    eprintln!("vodpipe serve: stopping (a transcode in progress resumes at the next start)");
    stop.store(true, Ordering::Relaxed);
    // The worker notices between messages; a long transcode is not waited for: its message
    // comes back after the visibility timeout.
    drop(worker);
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
