//! Runs student code and nothing else: a request goes in, raw output comes back. The sandbox
//! never sees expected values or labels and never judges; verdicts are made in `grading`.

pub mod container;
pub mod runtime;
pub mod wasm;
pub mod workdir;

use crate::datum::Datum;
use crate::spec::Limits;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Largest harness response the host will parse; anything larger is treated as tampering
/// (the honest harness returns small values; big data travels through files).
pub const MAX_RESPONSE: usize = 4 << 20;

/// What to run inside the sandbox.
#[derive(Debug, Clone, PartialEq)]
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
    /// Which backend runs it.
    pub target: Target,
    /// What the run belongs to (a job id, or the assignment and test): labels containers.
    pub job: String,
}

/// The backend a request runs on, with what only that backend needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Wasm,
    Container {
        image: String,
        /// (host folder, guest path), mounted read-only.
        mounts: Vec<(PathBuf, String)>,
    },
}

/// Both backends, each started on first use: a wasm-only deployment never needs Docker, and a
/// container assignment never builds the Python component.
pub struct Sandboxes {
    work_base: PathBuf,
    wasm: tokio::sync::OnceCell<Arc<wasm::WasmSandbox>>,
    container: tokio::sync::OnceCell<Arc<container::ContainerSandbox>>,
}

impl Sandboxes {
    /// `work_base` holds the wasm backend's per-run folders.
    pub fn new(work_base: PathBuf) -> Sandboxes {
        Sandboxes {
            work_base,
            wasm: tokio::sync::OnceCell::new(),
            container: tokio::sync::OnceCell::new(),
        }
    }

    /// The wasm backend, loading it (and setting up the runtime) on first use.
    pub async fn wasm(&self) -> anyhow::Result<Arc<wasm::WasmSandbox>> {
        let base = self.work_base.clone();
        self.wasm
            .get_or_try_init(|| async move {
                let sandbox = tokio::task::spawn_blocking(move || wasm::WasmSandbox::new(base)).await??;
                anyhow::Ok(Arc::new(sandbox))
            })
            .await
            .cloned()
    }

    /// The container backend, connecting to Docker (and removing stale containers) on first use.
    pub async fn container(&self) -> anyhow::Result<Arc<container::ContainerSandbox>> {
        self.container
            .get_or_try_init(|| async { anyhow::Ok(Arc::new(container::ContainerSandbox::connect().await?)) })
            .await
            .cloned()
    }

    /// Starts the backend `target` needs now, so that a missing runtime or daemon shows at once.
    pub async fn prepare(&self, target: &Target) -> anyhow::Result<()> {
        match target {
            Target::Wasm => self.wasm().await.map(drop),
            Target::Container { image, .. } => self.container().await?.check_image(image).await,
        }
    }

    /// Removes this instance's containers (if the container backend was started).
    pub async fn shutdown(&self) {
        if let Some(c) = self.container.get() {
            c.close().await;
        }
    }

    /// Runs one request on its backend. Never fails: a backend that cannot start is a grader error.
    pub async fn run(&self, request: &RunRequest) -> RunOutcome {
        match &request.target {
            Target::Wasm => match self.wasm().await {
                Ok(s) => s.run(request).await,
                Err(e) => RunOutcome::grader_error(format!("the wasm sandbox cannot start: {e:#}")),
            },
            Target::Container { image, mounts } => match self.container().await {
                Ok(s) => s.run(request, image, mounts).await,
                Err(e) => RunOutcome::grader_error(format!("{e:#}")),
            },
        }
    }
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

/// A fresh random token for one run; the harness echoes it back.
pub(crate) fn nonce() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is unavailable");
    hex::encode(bytes)
}

/// The harness request (see `grader_harness.py`) for a call; the same for both backends.
pub(crate) fn harness_request(call: &Call, nonce: &str) -> String {
    use serde_json::json;
    let base = json!({"nonce": nonce, "cwd": "/submission", "path": ["/submission"]});
    let mut req = base.as_object().cloned().unwrap_or_default();
    match call {
        Call::Program { script, module, args } => {
            req.insert("kind".into(), json!("program"));
            let argv0 = match (script, module) {
                (Some(s), _) => {
                    let path = format!("/submission/{s}");
                    req.insert("script".into(), json!(path));
                    path
                }
                (None, Some(m)) => {
                    req.insert("module".into(), json!(m));
                    m.clone()
                }
                (None, None) => String::new(),
            };
            let mut argv = vec![argv0];
            argv.extend(args.iter().cloned());
            req.insert("argv".into(), json!(argv));
        }
        Call::Functions {
            module,
            function,
            cases,
        } => {
            req.insert("kind".into(), json!("functions"));
            req.insert("module".into(), json!(module));
            req.insert("function".into(), json!(function));
            let cases: Vec<_> = cases
                .iter()
                .map(|(args, kwargs)| {
                    json!({
                        "args": args.iter().map(|a| a.to_wire()).collect::<Vec<_>>(),
                        "kwargs": kwargs.iter().map(|(k, v)| (k.clone(), v.to_wire())).collect::<serde_json::Map<_, _>>(),
                    })
                })
                .collect();
            req.insert("cases".into(), json!(cases));
        }
        Call::Tests { source, filename } => {
            req.insert("kind".into(), json!("tests"));
            req.insert("source".into(), json!(source));
            req.insert("filename".into(), json!(filename));
        }
        Call::WasmProgram { .. } => {
            // Wasm programs do not use the harness; the backends never ask for this.
            req.insert("kind".into(), json!("none"));
        }
    }
    serde_json::Value::Object(req).to_string()
}
