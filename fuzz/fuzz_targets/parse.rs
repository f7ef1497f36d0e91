//! `cargo +nightly fuzz run parse`: see `loopsim::fuzz_support::check_parse`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(failure) = loopsim::fuzz_support::check_parse(data) {
        panic!("{failure}");
    }
});
