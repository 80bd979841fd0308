//! The `autograder` command line: `grade`, `validate` and `setup`. Parses arguments, calls the
//! library, prints results and maps outcomes to the documented exit codes.

use anyhow::Context;
use autograder::assignment::Assignment;
use autograder::grading;
use autograder::report;
use autograder::sandbox::Sandboxes;
use chrono::{DateTime, FixedOffset};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit codes (documented in README.md).
const EXIT_PASSED: u8 = 0;
const EXIT_BELOW_PASSING: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_INCOMPLETE: u8 = 3;
/// Stopped by SIGINT or SIGTERM (the shell's convention for SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

/// Resolves on Ctrl-C or SIGTERM.
async fn interrupted() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[derive(Parser)]
#[command(
    name = "autograder",
    version,
    about = "Grades physics and data-science homework from a YAML spec"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Grade one submission folder and print the report a student would see.
    Grade {
        /// The assignment folder (holding spec.yaml) or a spec file.
        assignment: PathBuf,
        /// The submission folder (a student's repository checkout).
        submission: PathBuf,
        /// Show what a student would see at this time (RFC 3339); default: now.
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
        /// What to print on standard output.
        #[arg(long, value_enum, default_value_t = Format::Markdown)]
        format: Format,
        /// Also write the JSON result to this file.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Tests run at once (default: the number of CPUs).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
    },
    /// Check assignment specs and their private files; prints file:line:column for each problem.
    Validate {
        #[arg(required = true)]
        assignments: Vec<PathBuf>,
    },
    /// Fetch and build the Python runtime now (the first `grade` does this when it is missing).
    Setup,
    /// Put jobs that failed on the grader's side back in the service's queue (run it beside
    /// or before `serve`, with the same configuration).
    Regrade {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Only this assignment's failed jobs.
        #[arg(long, value_name = "ID")]
        assignment: Option<String>,
    },
    /// Run the webhook service: grade every push to a student repository and post the result.
    Serve {
        /// The service's configuration file (see autograder.example.yaml).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Markdown,
    Json,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AUTOGRADER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { assignments } => validate(&assignments),
        Command::Setup => match autograder::sandbox::runtime::ensure_component() {
            Ok(path) => {
                println!("Python runtime ready: {}", path.display());
                ExitCode::from(EXIT_PASSED)
            }
            Err(e) => {
                eprintln!("autograder: setting up the Python runtime failed: {e:#}");
                ExitCode::from(EXIT_USAGE)
            }
        },
        Command::Regrade { config, assignment } => {
            let run = || -> anyhow::Result<u64> {
                let url = autograder::server::config::database_url(&config)?;
                let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
                runtime.block_on(async {
                    let queue = autograder::queue::Queue::open(&url).await?;
                    queue.regrade_failed(assignment.as_deref()).await
                })
            };
            match run() {
                Ok(n) => {
                    println!("{n} failed jobs queued again");
                    ExitCode::from(EXIT_PASSED)
                }
                Err(e) => {
                    eprintln!("autograder: {e:#}");
                    ExitCode::from(EXIT_USAGE)
                }
            }
        }
        Command::Serve { config } => {
            let run = || -> anyhow::Result<()> {
                let config = autograder::server::config::Config::load(&config)?;
                let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
                runtime.block_on(autograder::server::serve(config))
            };
            match run() {
                Ok(()) => ExitCode::from(EXIT_PASSED),
                Err(e) => {
                    eprintln!("autograder: {e:#}");
                    ExitCode::from(EXIT_USAGE)
                }
            }
        }
        Command::Grade {
            assignment,
            submission,
            as_of,
            format,
            json,
            jobs,
        } => match grade(assignment, submission, as_of, format, json, jobs) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("autograder: {e:#}");
                ExitCode::from(EXIT_USAGE)
            }
        },
    }
}

/// Whether the container image is on the local daemon (`None`: no daemon answers).
fn image_problem(image: &str) -> Option<Result<(), String>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            autograder::sandbox::container::image_problem(image),
        )
        .await
        .ok()
        .flatten()
    })
}

fn validate(paths: &[PathBuf]) -> ExitCode {
    let mut bad = false;
    let mut targets = Vec::new();
    for path in paths {
        match Assignment::load(path) {
            Ok(a) => {
                if let autograder::sandbox::Target::Container { image, .. } = grading::target(&a) {
                    match image_problem(&image) {
                        Some(Err(why)) => {
                            bad = true;
                            eprintln!("{}: `sandbox.image`: {why}", a.spec_path.display());
                            continue;
                        }
                        Some(Ok(())) => {}
                        None => eprintln!(
                            "{}: note: no Docker daemon answers here, so the image `{image}` was not checked",
                            a.spec_path.display()
                        ),
                    }
                }
                let info = &a.parsed.spec.assignment;
                targets.push(autograder::server::events::Target {
                    id: info.id.clone(),
                    prefix: info.classroom_prefix.clone(),
                    version: String::new(),
                });
                println!(
                    "{}: ok ({} tests, {} points)",
                    a.spec_path.display(),
                    a.parsed.spec.tests.len(),
                    report::pts(a.parsed.spec.tests.iter().map(|t| t.common().points).sum())
                );
            }
            Err(errors) => {
                bad = true;
                for e in errors {
                    eprintln!("{e}");
                }
            }
        }
    }
    for (a, b) in autograder::server::events::ambiguous_prefixes(&targets) {
        bad = true;
        eprintln!(
            "assignments `{a}` and `{b}`: Classroom prefixes overlap (a repository `<{b} prefix>-<login>` could be \
             a student of `{a}` whose login starts with the rest); make neither prefix extend the other with `-`"
        );
    }
    ExitCode::from(if bad { EXIT_USAGE } else { EXIT_PASSED })
}

fn grade(
    assignment: PathBuf,
    submission: PathBuf,
    as_of: Option<String>,
    format: Format,
    json: Option<PathBuf>,
    jobs: Option<usize>,
) -> anyhow::Result<u8> {
    let as_of: DateTime<FixedOffset> = match as_of {
        Some(t) => DateTime::parse_from_rfc3339(&t)
            .with_context(|| format!("--as-of `{t}` is not an RFC 3339 time (e.g. 2026-10-16T09:00:00Z)"))?,
        None => chrono::Utc::now().fixed_offset(),
    };
    let assignment = match Assignment::load(&assignment) {
        Ok(a) => Arc::new(a),
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            return Ok(EXIT_USAGE);
        }
    };
    if !submission.is_dir() {
        anyhow::bail!("the submission `{}` is not a folder", submission.display());
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let work = tempfile::Builder::new().prefix("autograder-").tempdir()?;
    let result = runtime.block_on(async {
        let sandbox = Arc::new(Sandboxes::new(work.path().to_path_buf()));
        sandbox.prepare(&grading::target(&assignment)).await?;
        let grading = grading::grade(assignment.clone(), &submission, sandbox.clone(), jobs, "grade");
        tokio::select! {
            result = grading => anyhow::Ok(Some(result)),
            () = interrupted() => {
                // Runs in flight are cancelled with the process: remove their containers first.
                sandbox.shutdown().await;
                anyhow::Ok(None)
            }
        }
    })?;
    let Some(result) = result else {
        eprintln!("autograder: interrupted; nothing was graded");
        return Ok(EXIT_INTERRUPTED);
    };
    let report = report::build(&result, assignment.parsed.due, as_of);
    let json_text = serde_json::to_string_pretty(&report)?;
    if let Some(path) = json {
        std::fs::write(&path, &json_text).with_context(|| format!("writing {}", path.display()))?;
    }
    match format {
        Format::Markdown => print!("{}", report::markdown(&report)),
        Format::Json => println!("{json_text}"),
    }
    Ok(if report.incomplete {
        EXIT_INCOMPLETE
    } else if report.passed {
        EXIT_PASSED
    } else {
        EXIT_BELOW_PASSING
    })
}
