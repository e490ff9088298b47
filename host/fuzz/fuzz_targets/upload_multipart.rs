#![no_main]

use std::sync::LazyLock;

use vodpipe_fuzz::upload::Endpoint;

static ENDPOINT: LazyLock<Endpoint> = LazyLock::new(Endpoint::new);

libfuzzer_sys::fuzz_target!(|data: &[u8]| ENDPOINT.check(data));
