//! `cargo +nightly fuzz run api`: see `loopsim::fuzz_support::check_api`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(failure) = loopsim::fuzz_support::check_api(data) {
        panic!("{failure}");
    }
});
