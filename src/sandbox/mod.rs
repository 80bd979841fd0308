//! Runs student code and nothing else: a request goes in, raw output comes back. The sandbox
//! never sees expected values or labels and never judges; verdicts are made in `grading`.

pub mod runtime;
pub mod wasm;
pub mod workdir;

use crate::datum::Datum;
use crate::spec::Limits;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// What to run inside the sandbox.
#[derive(Debug, Clone)]
pub enum Call {
    /// A Python script or module as `__main__`.
    Program {
        script: Option<String>,
        module: Option<String>,
        args: Vec<String>,
    },
    /// Import `module` and call `function` once per case.
    Functions {
        module: String,
        function: String,
        cases: Vec<(Vec<Datum>, BTreeMap<String, Datum>)>,
    },
    /// In-process tests: the test file's text, run next to the student's code.
    Tests { source: String, filename: String },
    /// A WebAssembly program from the submission (`wasm32-wasip1`).
    WasmProgram { path: String, args: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The submission folder on the host; each run gets its own copy.
    pub submission: PathBuf,
    /// Files placed read-only under `/inputs/<name>`.
    pub inputs: Vec<(String, PathBuf)>,
    pub call: Call,
    pub stdin: Vec<u8>,
    pub env: BTreeMap<String, String>,
    pub limits: Limits,
    /// Guest paths of files to read back after the run.
    pub collect: Vec<String>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// The harness returned a response (the student's code may still have raised).
    Completed,
    /// The process exited early (`os._exit`, `proc_exit`) with this code.
    Exited(i32),
    WallTimeout,
    CpuLimit,
    MemoryLimit,
    OutputLimit,
    ScratchLimit,
    /// The guest trapped (a crash of the student's program).
    Crashed(String),
    /// The response did not carry this run's nonce, or was not the harness's format.
    Forged,
    /// The code returned more data than the host accepts in one response.
    ResponseTooLarge,
    /// The submission itself breaks a cap (size, file count, depth): the student's to fix.
    SubmissionRejected(String),
    /// The grader itself failed (not the student's fault).
    GraderError(String),
}

impl RunStatus {
    /// A short explanation for the student.
    pub fn describe(&self, limits: &Limits) -> String {
        match self {
            RunStatus::Completed => "completed".into(),
            RunStatus::Exited(code) => {
                format!("your program exited early (exit code {code}) before results were collected")
            }
            RunStatus::WallTimeout => format!(
                "time limit exceeded ({} wall time)",
                humantime::format_duration(limits.wall_time)
            ),
            RunStatus::CpuLimit => format!(
                "CPU time limit exceeded ({})",
                humantime::format_duration(limits.cpu_time)
            ),
            RunStatus::MemoryLimit => format!(
                "memory limit exceeded ({})",
                bytesize::ByteSize(limits.memory).display().iec()
            ),
            RunStatus::OutputLimit => format!(
                "output limit exceeded ({})",
                bytesize::ByteSize(limits.output).display().iec()
            ),
            RunStatus::ScratchLimit => {
                format!(
                    "disk limit exceeded: wrote more than {}",
                    bytesize::ByteSize(limits.scratch).display().iec()
                )
            }
            RunStatus::Crashed(why) => format!("your program crashed: {why}"),
            RunStatus::Forged => "the run's result channel was tampered with".into(),
            RunStatus::ResponseTooLarge => "your code returned more than 4 MiB of data in one test".into(),
            RunStatus::SubmissionRejected(why) => why.clone(),
            RunStatus::GraderError(_) => "the grader failed while running this test (not your fault)".into(),
        }
    }
}

/// What the harness reported (see `grader_harness.py`).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct HarnessResponse {
    pub nonce: Option<String>,
    pub outcome: String,
    #[serde(default)]
    pub exit_code: Option<i64>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cases: Vec<serde_json::Value>,
    #[serde(default)]
    pub tests: Vec<TestOutcome>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TestOutcome {
    pub name: String,
    pub outcome: String,
}

#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub status: RunStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub response: Option<HarnessResponse>,
    /// Files read back, by guest path: contents, or why they could not be read.
    pub files: BTreeMap<String, Result<Vec<u8>, String>>,
    pub duration: Duration,
    /// For `WasmProgram`: the exit code (0 when `_start` returned).
    pub exit_code: Option<i32>,
}

impl RunOutcome {
    pub fn grader_error(why: String) -> RunOutcome {
        RunOutcome::ended(RunStatus::GraderError(why))
    }

    /// An outcome with this status and nothing else: no output, no response, no time.
    pub fn ended(status: RunStatus) -> RunOutcome {
        RunOutcome {
            status,
            stdout: Vec::new(),
            stderr: Vec::new(),
            response: None,
            files: BTreeMap::new(),
            duration: Duration::ZERO,
            exit_code: None,
        }
    }
}
