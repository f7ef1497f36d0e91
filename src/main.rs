//! The `loopsim` command: arguments → library calls → exit code (the
//! commands are in `cli/`).

mod cli;

use clap::Parser;
use cli::args::{Cli, Command};
use std::process::ExitCode;

/// The command's allocator, not the library's (the `cli` feature brings
/// it): on a big run it takes about a sixth off the time, mostly by
/// taking memory from the system in large pages, at the price of a
/// higher peak RSS (the 100,000-timer run of `benches/whole_run.sh`: 28 →
/// 35 MiB; a streamed trace stays as small; see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help, version or a usage error: clap's text, checked like
            // every other write.
            use std::io::IsTerminal;
            let rendered = error.render();
            if error.use_stderr() {
                match std::io::stderr().is_terminal() {
                    true => cli::output::err!("{}", rendered.ansi()),
                    false => cli::output::err!("{rendered}"),
                }
            } else {
                match std::io::stdout().is_terminal() {
                    true => cli::output::out!("{}", rendered.ansi()),
                    false => cli::output::out!("{rendered}"),
                }
            }
            let code = u8::try_from(error.exit_code()).unwrap_or(cli::EXIT_INVALID);
            return ExitCode::from(cli::output::finish(code));
        }
    };
    let code = match cli.command {
        Command::Run { file, options } | Command::Replay { file, options } => {
            cli::run(&file, &options)
        }
        Command::Check { paths, options } => cli::check(&paths, &options),
        Command::Explore { file, options } => cli::explore(&file, &options),
        Command::Merge { reports, output } => cli::merge(&reports, output.as_deref()),
        Command::Shrink {
            file,
            options,
            output,
        } => cli::shrink(&file, &options, &output),
        Command::Decode { artifact, output } => cli::decode(&artifact, output.as_deref()),
        Command::Fmt {
            paths,
            write,
            check,
        } => {
            let mode = match (write, check) {
                (true, _) => cli::FmtMode::Write,
                (_, true) => cli::FmtMode::Check,
                _ => cli::FmtMode::Print,
            };
            cli::fmt(&paths, mode)
        }
        Command::View {
            file,
            options,
            output,
        } => cli::view(&file, &options, &output),
        Command::Diff {
            files,
            pythons,
            seeds,
            tie_breaks,
            jitters,
            max_iterations,
            max_events,
            max_callbacks,
            max_pending,
        } => {
            let variants = cli::DiffVariants {
                pythons,
                seeds,
                tie_breaks,
                jitters,
                common: loopsim::scenario::Overrides {
                    max_iterations,
                    max_events,
                    max_callbacks,
                    max_pending,
                    ..Default::default()
                },
            };
            cli::diff(&files, &variants)
        }
    };
    ExitCode::from(cli::output::finish(code))
}
