//! `cargo +nightly fuzz run schedule`: see `loopsim::fuzz_support::check_schedule`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(failure) = loopsim::fuzz_support::check_schedule(data) {
        panic!("{failure}");
    }
});
