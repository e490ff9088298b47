#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vodpipe_fuzz::presign::check(data));
