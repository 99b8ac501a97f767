//! The `gatewatch` binary: parses the command line, runs one subcommand, maps
//! the outcome to an exit code (0 ok, 1 a check ran and failed, 2 bad input or
//! usage). Results go to stdout, logs and progress to stderr.

/// `writeln!` into a `String` buffer (results are printed at once by [`emit`]).
macro_rules! outln {
    ($buf:expr) => {{
        $buf.push('\n');
    }};
    ($buf:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($buf, $($arg)*);
    }};
}

mod capture;
mod catalogue;
mod cli;
mod inventory;
mod output;
mod store;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.quiet, cli.verbose);
    let result = match cli.command {
        Command::Flows(args) => cli::flows::run(args, cli.quiet),
        Command::Analyze(args) => cli::analyze::run(args, cli.quiet),
        Command::Stats(args) => cli::stats::run(args, cli.quiet),
        Command::Bench(args) => cli::bench::run(args),
        Command::Simulate(args) => cli::simulate::run(args),
        Command::Demo(args) => cli::demo::run(args),
        Command::Devices(args) => cli::devices::run(args, cli.quiet),
        Command::Train(args) => cli::train::run(args, cli.quiet),
        Command::Eval(args) => cli::eval::run(args, cli.quiet),
    };
    match result {
        Ok(code) => code,
        // Every error that reaches here is about the input or the command line
        // (unreadable file, bad flag, unwritable output): exit code 2.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gatewatch: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Writes command results to stdout. A reader that went away (`| head`)
/// is not an error.
pub fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// True when the error comes from stdout's reader going away.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(quiet: bool, verbose: u8) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GATEWATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
