//! The container sandbox: one fresh, hardened Docker container per run, driven over the Docker
//! Engine API (bollard). Files go in and results come out as a framed stream over the attached
//! stdin/stdout (the root file system is read-only and the run's folders are size-capped tmpfs),
//! read with byte caps; every container carries its job and owner labels and is always removed.

use super::workdir::{ReadBackError, walk_tree};
use super::{Call, HarnessResponse, MAX_RESPONSE, RunOutcome, RunRequest, RunStatus, harness_request, nonce};
use anyhow::{Context, Result, anyhow};
use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, Mount, MountType, ResourcesUlimits};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateContainerOptionsBuilder, KillContainerOptionsBuilder,
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;

/// The run's supervisor, started as `python3 -I -c BOOT` (see the file for the protocol).
const BOOT: &str = include_str!("../../sandbox/container/boot.py");

/// Labels on every container this grader starts.
pub const LABEL_OWNER: &str = "autograder.owner";
pub const LABEL_JOB: &str = "autograder.job";
/// Unix time after which no run of this container can still be going (the wall limit plus
/// start-up grace): past it, any instance may remove the container.
pub const LABEL_DEADLINE: &str = "autograder.deadline";

/// The container's own user: uid 0 of the container with only `SUPERVISOR_CAPS`, for the
/// supervisor, which runs the student's code as 65534 with no capabilities at all. A separate
/// uid keeps student processes from signalling, tracing or writing into the supervisor.
const USER: &str = "0:0";
/// What the supervisor needs: hand the submission copy to the sandbox user (CHOWN), become it in
/// the child (SETUID, SETGID), and stop every process of the run (KILL).
const SUPERVISOR_CAPS: [&str; 4] = ["CHOWN", "SETUID", "SETGID", "KILL"];
/// A tmpfs page: every file takes at least one.
const PAGE: u64 = 4096;
/// Time beyond the wall limit the host waits for a container's own report before killing it
/// (creating and starting a container, unpacking files, Python's start).
const GRACE: Duration = Duration::from_secs(10);
/// What the supervisor itself may print on stderr (its own crash), kept for the grader's log.
const DIAGNOSTICS_CAP: usize = 16 << 10;
/// Open files per process inside the container.
const NOFILE: i64 = 1024;
/// Room in each writable tmpfs beyond the scratch quota, so that crossing the quota is seen
/// (and stopped) before the file system is full.
const TMPFS_SLACK: u64 = 1 << 20;

/// A connection to the Docker daemon, shared by all runs.
pub struct ContainerSandbox {
    docker: Docker,
    owner: String,
    /// Podman's Docker-compatible API refuses the tmpfs `nr_inodes` option.
    podman: bool,
    /// Set by `close`: no new container starts.
    closing: std::sync::atomic::AtomicBool,
}

impl ContainerSandbox {
    /// Connects to the local daemon (`DOCKER_HOST`, or the default socket), settles on an API
    /// version both sides speak, and removes containers left behind by instances that are gone.
    pub async fn connect() -> Result<ContainerSandbox> {
        let docker = client().await?;
        let podman = docker.version().await.is_ok_and(|v| {
            v.components
                .unwrap_or_default()
                .iter()
                .any(|c| c.name.to_ascii_lowercase().contains("podman"))
        });
        tracing::info!(docker.api = %docker.client_version(), podman, "container backend connected");
        let sandbox = ContainerSandbox {
            docker,
            owner: owner_id(),
            podman,
            closing: std::sync::atomic::AtomicBool::new(false),
        };
        sandbox.remove_stale().await;
        Ok(sandbox)
    }

    /// Fails with a message for the instructor when `image` is not on the daemon.
    pub async fn check_image(&self, image: &str) -> Result<()> {
        check_image(&self.docker, image).await
    }

    /// Removes containers whose owner is gone (same host, process no longer running) or that
    /// are past their deadline. Containers of a live `grade` or service beside us are left alone.
    pub async fn remove_stale(&self) {
        let filters = HashMap::from([("label".to_string(), vec![LABEL_OWNER.to_string()])]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let list = match self.docker.list_containers(Some(options)).await {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(error = %e, "could not list containers to clean up");
                return;
            }
        };
        let now = unix_now();
        for c in list {
            let Some(id) = c.id else { continue };
            let labels = c.labels.unwrap_or_default();
            let owner = labels.get(LABEL_OWNER).map(String::as_str).unwrap_or("");
            let expired = labels
                .get(LABEL_DEADLINE)
                .and_then(|d| d.parse::<u64>().ok())
                .is_none_or(|d| d < now);
            if expired || owner_gone(owner) {
                tracing::info!(container.id = %short(&id), owner, "removing a stale sandbox container");
                remove(&self.docker, &id).await;
            }
        }
    }

    /// Stops starting containers and removes every container of this instance (on a signal:
    /// the process is about to exit, and cancelled runs cannot clean up after themselves).
    pub async fn close(&self) {
        self.closing.store(true, std::sync::atomic::Ordering::SeqCst);
        let filters = HashMap::from([("label".to_string(), vec![format!("{LABEL_OWNER}={}", self.owner)])]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        if let Ok(list) = self.docker.list_containers(Some(options)).await {
            for id in list.into_iter().filter_map(|c| c.id) {
                remove(&self.docker, &id).await;
            }
        }
    }

    /// Runs one request in a fresh container of `image`. Never fails: a grader-side problem
    /// becomes `RunStatus::GraderError`, and the container is removed whatever happens.
    pub async fn run(&self, request: &RunRequest, image: &str, mounts: &[(PathBuf, String)]) -> RunOutcome {
        let started = Instant::now();
        if matches!(request.call, Call::WasmProgram { .. }) {
            return RunOutcome::grader_error("the container backend runs Python, not wasm programs".into());
        }
        let nonce = nonce();
        let job = match build_job(request, &nonce).await {
            Ok(job) => job,
            Err(e) => return RunOutcome::grader_error(format!("{e:#}")),
        };
        let config = self.config(request, image, mounts, &job);
        let closing = || self.closing.load(std::sync::atomic::Ordering::SeqCst);
        if closing() {
            return RunOutcome::grader_error("the grader is shutting down".into());
        }
        let id = match self.docker.create_container(Some(create_options()), config).await {
            Ok(c) => c.id,
            Err(e) => return RunOutcome::grader_error(create_error(image, &e)),
        };
        let guard = Removal {
            docker: self.docker.clone(),
            id: Some(id.clone()),
        };
        if closing() {
            guard.now().await;
            return RunOutcome::grader_error("the grader is shutting down".into());
        }
        let mut outcome = self.drive(&id, request, &job.bytes, &nonce).await;
        guard.now().await;
        outcome.duration = started.elapsed();
        outcome
    }

    fn config(
        &self,
        request: &RunRequest,
        image: &str,
        mounts: &[(PathBuf, String)],
        job: &Job,
    ) -> ContainerCreateBody {
        let limits = &request.limits;
        // The supervisor (uid 0) unpacks into /submission and /inputs, then gives /submission,
        // /scratch and /tmp to the sandbox user. Mode 0755 lets the supervisor, which has no DAC
        // override, read results back.
        let tmpfs = |size: u64, inodes: u64| {
            // Without an inode cap (Podman refuses the option), empty files are still bounded:
            // the supervisor counts each against the scratch quota.
            let inodes = if self.podman {
                String::new()
            } else {
                format!("nr_inodes={inodes},")
            };
            format!("rw,nosuid,nodev,noexec,size={size},{inodes}mode=0755")
        };
        let writable = limits.scratch + TMPFS_SLACK;
        let files = job.submission_bytes + job.submission_entries * PAGE;
        let tmpfs = HashMap::from([
            (
                "/submission".to_string(),
                tmpfs(files + writable, job.submission_entries + 8192),
            ),
            (
                "/inputs".to_string(),
                tmpfs(job.input_bytes + job.input_entries * PAGE + TMPFS_SLACK, 1024),
            ),
            ("/scratch".to_string(), tmpfs(writable, 8192)),
            ("/tmp".to_string(), tmpfs(writable, 8192)),
        ]);
        // tmpfs pages count against the container's memory: the files come on top of the limit.
        let memory = (limits.memory + files + job.input_bytes + job.input_entries * PAGE) as i64;
        let binds = mounts
            .iter()
            .map(|(host, guest)| Mount {
                target: Some(guest.clone()),
                source: Some(host.display().to_string()),
                typ: Some(MountType::BIND),
                read_only: Some(true),
                ..Default::default()
            })
            .collect();
        let mut env: BTreeMap<String, String> = [
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
            ("HOME", "/tmp"),
            ("LANG", "C.UTF-8"),
            ("MPLBACKEND", "Agg"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.extend(request.env.clone());
        let deadline = unix_now() + (limits.wall_time + GRACE).as_secs() + 60;
        let labels = HashMap::from([
            (LABEL_OWNER.to_string(), self.owner.clone()),
            (LABEL_JOB.to_string(), request.job.clone()),
            (LABEL_DEADLINE.to_string(), deadline.to_string()),
        ]);
        let ulimit = |name: &str, value: i64| ResourcesUlimits {
            name: Some(name.into()),
            soft: Some(value),
            hard: Some(value),
        };
        let ulimits = vec![ulimit("core", 0), ulimit("nofile", NOFILE), ulimit("msgqueue", 0)];
        ContainerCreateBody {
            image: Some(image.to_string()),
            entrypoint: Some(vec!["python3".into(), "-I".into(), "-c".into(), BOOT.into()]),
            user: Some(USER.into()),
            working_dir: Some("/submission".into()),
            env: Some(env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(labels),
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            open_stdin: Some(true),
            stdin_once: Some(true),
            tty: Some(false),
            network_disabled: Some(true),
            host_config: Some(HostConfig {
                network_mode: Some("none".into()),
                cap_drop: Some(vec!["ALL".into()]),
                cap_add: Some(SUPERVISOR_CAPS.iter().map(|c| c.to_string()).collect()),
                security_opt: Some(vec!["no-new-privileges:true".into()]),
                readonly_rootfs: Some(true),
                privileged: Some(false),
                tmpfs: Some(tmpfs),
                mounts: Some(binds),
                pids_limit: Some(i64::from(limits.processes)),
                memory: Some(memory),
                memory_swap: Some(memory),
                nano_cpus: Some((limits.cpus.min(host_cpus()) * 1e9) as i64),
                ulimits: Some(ulimits),
                ipc_mode: Some("private".into()),
                // /dev/shm is writable: as small as scratch, and the supervisor counts it.
                shm_size: Some(writable as i64),
                init: Some(true),
                log_config: Some(HostConfigLogConfig {
                    typ: Some("none".into()),
                    config: None,
                }),
                auto_remove: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Attaches, starts, sends the job and reads the frames until the container ends or the
    /// host's own deadline passes.
    async fn drive(&self, id: &str, request: &RunRequest, input: &[u8], nonce: &str) -> RunOutcome {
        let limits = &request.limits;
        let options = AttachContainerOptionsBuilder::default()
            .stdin(true)
            .stdout(true)
            .stderr(true)
            .stream(true)
            .build();
        let attached = match self.docker.attach_container(id, Some(options)).await {
            Ok(a) => a,
            Err(e) => return RunOutcome::grader_error(format!("attaching to the sandbox container: {e}")),
        };
        if let Err(e) = self.docker.start_container(id, None).await {
            return RunOutcome::grader_error(format!("starting the sandbox container: {e}"));
        }
        let file_cap = limits.file_cap();
        // Everything an honest supervisor can send; more means the stream is not its own.
        let budget = 2 * limits.output + MAX_RESPONSE as u64 + request.collect.len() as u64 * (file_cap + 4096) + 65536;
        let mut frames = Frames::new(budget, limits.output, file_cap);
        let mut diagnostics = Vec::new();
        let mut input_stream = attached.input;
        let mut output = attached.output;
        let exchange = async {
            // The supervisor reads exactly the job's length; a failed write shows as a missing end.
            let _ = input_stream.write_all(input).await;
            let _ = input_stream.flush().await;
            while let Some(item) = output.next().await {
                match item {
                    Ok(bollard::container::LogOutput::StdOut { message }) => {
                        if !frames.push(&message) {
                            break;
                        }
                    }
                    Ok(bollard::container::LogOutput::StdErr { message }) => {
                        // Only the supervisor writes here (its own crash); bounded all the same.
                        let room = DIAGNOSTICS_CAP.saturating_sub(diagnostics.len());
                        diagnostics.extend_from_slice(&message[..message.len().min(room)]);
                        if room == 0 {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
                if frames.end.is_some() {
                    break;
                }
            }
        };
        let timed_out = tokio::time::timeout(limits.wall_time + GRACE, exchange).await.is_err();
        if timed_out || frames.end.is_none() {
            let kill = KillContainerOptionsBuilder::default().signal("SIGKILL").build();
            let _ = self.docker.kill_container(id, Some(kill)).await;
        }
        let mut outcome = frames.outcome(limits, nonce, file_cap);
        if timed_out {
            outcome.status = RunStatus::WallTimeout;
        } else if frames.overflow {
            outcome.status = RunStatus::OutputLimit;
        } else if frames.end.is_none() {
            // The supervisor died without its last frame: the kernel's memory killer, or worse.
            outcome.status = match self.docker.inspect_container(id, None).await {
                Ok(info) if info.state.as_ref().and_then(|s| s.oom_killed) == Some(true) => RunStatus::MemoryLimit,
                _ => {
                    let text = String::from_utf8_lossy(&diagnostics);
                    let text = text.trim().escape_debug().to_string();
                    tracing::error!(container.id = %short(id), diagnostics = %text, "sandbox supervisor ended without a report");
                    RunStatus::GraderError("the sandbox container ended without a report".into())
                }
            };
        }
        outcome
    }
}

/// A client of the local daemon (`DOCKER_HOST`, or the default socket) at an API version both
/// sides speak.
async fn client() -> Result<Docker> {
    let hint = "start it (as root: `dockerd &`, or `systemctl start docker`) or point DOCKER_HOST at it";
    let docker = Docker::connect_with_local_defaults()
        .map_err(|e| anyhow!("the container backend cannot reach Docker ({e}); {hint}"))?;
    docker
        .negotiate_version()
        .await
        .map_err(|e| anyhow!("the container backend cannot reach Docker ({e}); {hint}"))
}

async fn check_image(docker: &Docker, image: &str) -> Result<()> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
            Err(anyhow!(missing_image(image)))
        }
        Err(e) => Err(anyhow!("checking the course image `{image}`: {e}")),
    }
}

/// For `validate`: whether `image` is on the local daemon, or `None` when no daemon answers.
/// Touches nothing (no clean-up).
pub async fn image_problem(image: &str) -> Option<Result<(), String>> {
    let docker = client().await.ok()?;
    Some(check_image(&docker, image).await.map_err(|e| e.to_string()))
}

/// The job sent on stdin, and the sizes the container's folders need.
struct Job {
    bytes: Vec<u8>,
    submission_bytes: u64,
    submission_entries: u64,
    input_bytes: u64,
    input_entries: u64,
}

async fn build_job(request: &RunRequest, nonce: &str) -> Result<Job> {
    let header = serde_json::json!({
        "harness": super::runtime::HARNESS_PY,
        "request": harness_request(&request.call, nonce),
        "collect": request.collect,
        "limits": {
            "wall_ms": request.limits.wall_time.as_millis() as u64,
            "cpu_s": request.limits.cpu_time.as_secs_f64(),
            "output": request.limits.output,
            "scratch": request.limits.scratch,
            "response": MAX_RESPONSE,
            "file": request.limits.file_cap(),
        },
    });
    let submission = request.submission.clone();
    let inputs = request.inputs.clone();
    let stdin = request.stdin.clone();
    tokio::task::spawn_blocking(move || {
        let mut tar = tar::Builder::new(Vec::new());
        let (submission_bytes, submission_entries) =
            add_tree(&mut tar, &submission).with_context(|| format!("packing {}", submission.display()))?;
        let mut input_bytes = 0;
        for (name, host) in &inputs {
            let data = std::fs::read(host).with_context(|| format!("reading input {}", host.display()))?;
            input_bytes += data.len() as u64;
            add_file(&mut tar, &Path::new("inputs").join(name), &data)?;
        }
        let tar = tar.into_inner()?;
        let header = serde_json::to_vec(&header)?;
        let mut bytes = Vec::with_capacity(4 + 24 + header.len() + stdin.len() + tar.len());
        bytes.extend_from_slice(b"AGJ1");
        for blob in [&header[..], &stdin[..], &tar[..]] {
            bytes.extend_from_slice(&(blob.len() as u64).to_be_bytes());
            bytes.extend_from_slice(blob);
        }
        Ok(Job {
            bytes,
            submission_bytes,
            submission_entries,
            input_bytes,
            input_entries: inputs.len() as u64,
        })
    })
    .await?
}

/// Packs the submission under `submission/` as the wasm backend copies it (`walk_tree`: no
/// links, devices or `.git`); returns its bytes and entries.
fn add_tree(tar: &mut tar::Builder<Vec<u8>>, dir: &Path) -> Result<(u64, u64)> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Directory);
    header.set_mode(0o755);
    header.set_size(0);
    tar.append_data(&mut header.clone(), "submission/", std::io::empty())?;
    let (mut bytes, mut entries) = (0u64, 1u64);
    walk_tree(dir, &[".git"], &mut |rel, host, is_dir| {
        let path = Path::new("submission").join(rel);
        entries += 1;
        if is_dir {
            tar.append_data(&mut header.clone(), &path, std::io::empty())
        } else {
            let data = std::fs::read(host)?;
            bytes += data.len() as u64;
            add_file(tar, &path, &data)
        }
    })?;
    Ok((bytes, entries))
}

fn add_file(tar: &mut tar::Builder<Vec<u8>>, path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    tar.append_data(&mut header, path, data)
}

/// The supervisor's frames, parsed as they arrive, within a byte budget.
struct Frames {
    buf: Vec<u8>,
    budget: u64,
    output_cap: u64,
    file_cap: u64,
    received: u64,
    overflow: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    response: Option<Vec<u8>>,
    files: BTreeMap<String, Result<Vec<u8>, ReadBackError>>,
    end: Option<End>,
    malformed: bool,
}

#[derive(Debug, serde::Deserialize)]
struct End {
    end: String,
    code: Option<i32>,
    signal: Option<i32>,
    #[serde(default)]
    oom: bool,
}

#[derive(serde::Deserialize)]
struct FileMeta {
    path: String,
    error: Option<String>,
}

impl Frames {
    fn new(budget: u64, output_cap: u64, file_cap: u64) -> Frames {
        Frames {
            buf: Vec::new(),
            budget,
            output_cap,
            file_cap,
            received: 0,
            overflow: false,
            stdout: Vec::new(),
            stderr: Vec::new(),
            response: None,
            files: BTreeMap::new(),
            end: None,
            malformed: false,
        }
    }

    /// Takes more bytes; false once no more should be read.
    fn push(&mut self, bytes: &[u8]) -> bool {
        self.received += bytes.len() as u64;
        if self.received > self.budget {
            self.overflow = true;
            return false;
        }
        self.buf.extend_from_slice(bytes);
        let mut at = 0;
        while self.buf.len() - at >= 5 {
            let kind = self.buf[at];
            let len =
                u32::from_be_bytes([self.buf[at + 1], self.buf[at + 2], self.buf[at + 3], self.buf[at + 4]]) as usize;
            if self.buf.len() - at - 5 < len {
                break;
            }
            let payload = self.buf[at + 5..at + 5 + len].to_vec();
            at += 5 + len;
            if !self.take(kind, payload) {
                self.malformed = true;
                self.buf.clear();
                return false;
            }
        }
        self.buf.drain(..at);
        true
    }

    fn take(&mut self, kind: u8, payload: Vec<u8>) -> bool {
        match kind {
            b'O' | b'E' => {
                let stream = if kind == b'O' {
                    &mut self.stdout
                } else {
                    &mut self.stderr
                };
                // The supervisor already caps each stream; the host checks again.
                if (stream.len() + payload.len()) as u64 > self.output_cap {
                    self.overflow = true;
                    return false;
                }
                stream.extend_from_slice(&payload);
            }
            b'R' => self.response = Some(payload),
            b'F' => {
                if payload.len() < 4 {
                    return false;
                }
                let n = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]) as usize;
                let Some(meta) = payload.get(4..4 + n) else {
                    return false;
                };
                let Ok(meta) = serde_json::from_slice::<FileMeta>(meta) else {
                    return false;
                };
                let value = match meta.error.as_deref() {
                    None if (payload.len() - 4 - n) as u64 > self.file_cap => Err(ReadBackError::TooLarge),
                    None => Ok(payload[4 + n..].to_vec()),
                    Some(code) => Err(ReadBackError::from_code(code).unwrap_or(ReadBackError::Unreadable)),
                };
                self.files.insert(meta.path, value);
            }
            b'X' => match serde_json::from_slice::<End>(&payload) {
                Ok(end) => self.end = Some(end),
                Err(_) => return false,
            },
            _ => return false,
        }
        true
    }

    fn outcome(&self, limits: &crate::spec::Limits, nonce: &str, file_cap: u64) -> RunOutcome {
        let mut outcome = RunOutcome::ended(RunStatus::Completed);
        outcome.stdout = self.stdout.clone();
        outcome.stderr = self.stderr.clone();
        outcome.files = self
            .files
            .iter()
            .map(|(path, r)| (path.clone(), r.clone().map_err(|e| e.message(path, file_cap))))
            .collect();
        if self.malformed {
            outcome.status = RunStatus::Forged;
            return outcome;
        }
        let Some(end) = &self.end else {
            return outcome;
        };
        let full = |b: &[u8]| b.len() as u64 >= limits.output;
        outcome.status = match end.end.as_str() {
            "returned" => match &self.response {
                Some(r) if r.len() > MAX_RESPONSE => RunStatus::ResponseTooLarge,
                Some(r) => match serde_json::from_slice::<HarnessResponse>(r) {
                    Ok(resp) if resp.nonce.as_deref() == Some(nonce) => {
                        outcome.response = Some(resp);
                        RunStatus::Completed
                    }
                    _ => RunStatus::Forged,
                },
                None => RunStatus::Forged,
            },
            "exited" => {
                let code = end.code.unwrap_or(1);
                outcome.exit_code = Some(code);
                if full(&self.stdout) || full(&self.stderr) {
                    RunStatus::OutputLimit
                } else {
                    RunStatus::Exited(code)
                }
            }
            "cpu" => RunStatus::CpuLimit,
            "wall" => RunStatus::WallTimeout,
            "output" => RunStatus::OutputLimit,
            "scratch" => RunStatus::ScratchLimit,
            "response" => RunStatus::ResponseTooLarge,
            _ if end.oom => RunStatus::MemoryLimit,
            _ => RunStatus::Crashed(match end.signal {
                Some(9) => "it was killed (signal 9)".into(),
                Some(11) => "segmentation fault (signal 11)".into(),
                Some(6) => "it aborted (signal 6)".into(),
                Some(s) => format!("killed by signal {s}"),
                None => "it ended abnormally".into(),
            }),
        };
        outcome
    }
}

fn create_options() -> bollard::query_parameters::CreateContainerOptions {
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).expect("the OS random source is unavailable");
    CreateContainerOptionsBuilder::default()
        .name(&format!("autograder-run-{}", hex::encode(suffix)))
        .build()
}

fn missing_image(image: &str) -> String {
    format!(
        "the course image `{image}` is not on this machine; build it (sandbox/container/README.md) or fix `sandbox.image`"
    )
}

fn create_error(image: &str, e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code: 404, .. } => missing_image(image),
        e => format!("creating the sandbox container from `{image}`: {e}"),
    }
}

/// Removes the container when dropped (a cancelled run), or at once with `now`.
struct Removal {
    docker: Docker,
    id: Option<String>,
}

impl Removal {
    async fn now(mut self) {
        if let Some(id) = self.id.take() {
            remove(&self.docker, &id).await;
        }
    }
}

impl Drop for Removal {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let docker = self.docker.clone();
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move { remove(&docker, &id).await });
            }
        }
    }
}

async fn remove(docker: &Docker, id: &str) {
    let options = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    if let Err(e) = docker.remove_container(id, Some(options)).await {
        tracing::warn!(container.id = %short(id), error = %e, "could not remove a sandbox container");
    }
}

/// CPUs the daemon can give (it refuses more): this machine's, when the daemon is local.
fn host_cpus() -> f64 {
    std::thread::available_parallelism()
        .map(|n| n.get() as f64)
        .unwrap_or(1.0)
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// A process's start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`).
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; fields after it are plain.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19).map(str::to_string)
}

/// `host:pid:start-time` of this process: unique while it runs, never reused after.
pub fn owner_id() -> String {
    let pid = std::process::id();
    format!("{}:{pid}:{}", hostname(), start_time(pid).unwrap_or_default())
}

/// Whether the owner named by a label has certainly gone: it ran on this host and no process
/// with its id and start time exists. Owners on other hosts are never judged gone here.
fn owner_gone(owner: &str) -> bool {
    let mut parts = owner.rsplitn(3, ':');
    let (Some(start), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if host != hostname() {
        return false;
    }
    let Ok(pid) = pid.parse::<u32>() else { return false };
    start_time(pid).as_deref() != Some(start)
}
