//! Turns a crash file of the `schedule` fuzz target into a scenario:
//!
//! ```text
//! cargo run --example fuzz_decode -- fuzz/artifacts/schedule/crash-… > crash.scn
//! loopsim replay crash.scn <the flags printed on stderr>
//! ```

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: fuzz_decode ARTIFACT");
        std::process::exit(2);
    };
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(2);
    });
    let decoded = loopsim::fuzz_support::decode(&bytes);
    print!("{}", decoded.scenario_text);
    eprintln!("replay: loopsim replay FILE.scn {}", decoded.flags);
}
