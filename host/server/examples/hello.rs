//! A plain axum hello-world: the ceiling `bench/api.sh` measures vodpipe's API against.
//! Same runtime as `vodpipe serve` (tokio's multi-thread runtime, one worker per core), no
//! layers, no state, no storage.
//!
//! Usage: `hello [ADDR]` (default `127.0.0.1:0`: a free port; the address is printed on stderr).

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;

fn main() -> std::io::Result<()> {
    let addr: SocketAddr = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{arg}: {e}")))?,
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind(addr))?;
    eprintln!("hello: listening on http://{}", listener.local_addr()?);
    let router = Router::new().route("/", get(|| async { "hello" }));
    runtime.block_on(async { axum::serve(listener, router).await })
}
