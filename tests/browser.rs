//! `loopsim view`'s page in a real browser: headless Chromium (Debian's
//! `chromium`; `.ci/run` installs it) loads the generated file, and the
//! test reads what the page reports about itself in `#status` (events,
//! marks drawn, the selected pass, errors caught) from the DOM Chromium
//! dumps, plus every console message Chromium logs. A screenshot of a
//! shipped scenario's page is saved in `target/browser/`.
//!
//! Without Chromium these tests fail and say how to install it; set
//! `LOOPSIM_SKIP_BROWSER=1` to skip them knowingly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The Chromium binary, or `None` when the test is told to skip.
fn chromium() -> Option<&'static str> {
    if std::env::var_os("LOOPSIM_SKIP_BROWSER").is_some() {
        eprintln!("LOOPSIM_SKIP_BROWSER is set: browser test skipped");
        return None;
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(name);
        }
    }
    panic!(
        "no Chromium found: install it (`apt-get install -y chromium`) or set \
         LOOPSIM_SKIP_BROWSER=1 to skip the browser tests"
    );
}

/// Runs headless Chromium on `url` with `args`; a fresh profile each time.
fn browse(browser: &str, name: &str, url: &str, args: &[&str]) -> Output {
    let profile = out_dir().join(format!("profile-{name}"));
    let _ = std::fs::remove_dir_all(&profile);
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1400,860",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    output
}

/// `loopsim view FILE -o OUT [flags]`; the page's path.
fn view(scenario: &str, name: &str, flags: &[&str]) -> PathBuf {
    let page = out_dir().join(format!("{name}.html"));
    let out = Command::new(env!("CARGO_BIN_EXE_loopsim"))
        .arg("view")
        .arg(scenario)
        .args(flags)
        .arg("-o")
        .arg(&page)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    page
}

/// How many events `loopsim run` prints for the same run.
fn trace_len(scenario: &str, flags: &[&str]) -> usize {
    let out = Command::new(env!("CARGO_BIN_EXE_loopsim"))
        .arg("run")
        .arg(scenario)
        .args(flags)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().lines().count()
}

/// The value of `data-NAME` on the `#status` element of a dumped DOM.
fn status(dom: &str, name: &str) -> String {
    let start = dom
        .find("<div id=\"status\"")
        .unwrap_or_else(|| panic!("no #status in the page:\n{dom}"));
    let tag = &dom[start..start + dom[start..].find('>').unwrap()];
    let key = format!("data-{name}=\"");
    let at = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {key} in {tag}: did the page's script run?"));
    let value = &tag[at + key.len()..];
    value[..value.find('"').unwrap()].to_string()
}

/// Loads the page (selecting pass `pass`), checks it ran without an error
/// or a console message, and returns the dumped DOM.
fn load(browser: &str, name: &str, page: &Path, fragment: &str) -> String {
    let url = format!("file://{}#{fragment}", page.display());
    let out = browse(browser, name, &url, &["--dump-dom"]);
    let dom = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "the page logged:\n{}",
        console.join("\n")
    );
    assert_eq!(status(&dom, "errors"), "0", "errors caught by the page");
    dom
}

const TIMEOUT_RACE: &str = "scenarios/175_timeout_race.scn";

#[test]
fn the_page_shows_every_event_and_a_selected_passs_state() {
    let Some(browser) = chromium() else { return };
    let page = view(TIMEOUT_RACE, "timeout_race", &[]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page is self-contained"
    );
    let dom = load(browser, "timeout_race", &page, "pass=2&fit");
    let events = trace_len(TIMEOUT_RACE, &[]);
    assert_eq!(status(&dom, "events"), events.to_string());
    assert_eq!(status(&dom, "marks"), events.to_string());
    assert_eq!(
        status(&dom, "drawn"),
        events.to_string(),
        "fitted, every mark is drawn"
    );
    assert_eq!(status(&dom, "selected"), "2");
    // Pass 2: the clock jumped to t=3, where the client's wake-up and
    // give_up tie; the client is asleep.
    for expected in [
        "Pass #2 · loop main · t=3.0",
        "the clock jumped from t=0.0 to t=3.0",
        "Ready queue",
        "wake client",
        "give_up",
        "client</b>: sleep until t=3.0",
        "the order random chose",
        "loopsim replay scenarios/175_timeout_race.scn --python 3.12 --seed 42 --tie-break random",
        "failed: #3 t=3.0 check_failed",
    ] {
        assert!(dom.contains(expected), "missing {expected:?} in the page");
    }
}

#[test]
fn a_screenshot_of_a_shipped_scenario() {
    let Some(browser) = chromium() else { return };
    let page = view(TIMEOUT_RACE, "screenshot", &[]);
    let png = out_dir().join("175_timeout_race.png");
    let _ = std::fs::remove_file(&png);
    let url = format!("file://{}#pass=2", page.display());
    let out = browse(
        browser,
        "screenshot",
        &url,
        &[&format!("--screenshot={}", png.display())],
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000);
    eprintln!("screenshot: {}", png.display());
}

#[test]
fn a_page_of_100k_events_loads_and_draws_only_what_is_in_view() {
    let Some(browser) = chromium() else { return };
    let scenario = out_dir().join("ticker.scn");
    std::fs::write(
        &scenario,
        "# 100k events: a callback that reschedules itself until the budget\n\
         max_iterations 50000\n\ncallback tick:\n    log tick\n    call_soon tick\n\n\
         main:\n    call_soon tick\n    run_forever\n",
    )
    .unwrap();
    let file = scenario.display().to_string();
    let page = view(&file, "ticker", &[]);
    let dom = load(browser, "ticker", &page, "pass=49999");
    let events: usize = status(&dom, "events").parse().unwrap();
    assert_eq!(events, trace_len(&file, &[]));
    assert!(events >= 100_000, "{events}");
    let drawn: usize = status(&dom, "drawn").parse().unwrap();
    assert!(drawn > 0 && drawn < 1000, "drew {drawn} marks");
    assert_eq!(status(&dom, "selected"), "49999");
    assert!(
        dom.contains("budget"),
        "the budget failure is in the last pass"
    );
}
