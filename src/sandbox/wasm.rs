//! The WebAssembly sandbox: wasmtime running the pre-initialised CPython component (or a
//! student's `wasm32-wasip1` program) with a fresh store per run, epoch CPU limits, a wall-clock
//! timeout around the async call, memory limits, capped output, no network, and only the
//! run's own folders preopened.

use super::workdir::RunDir;
use super::{Call, HarnessResponse, MAX_RESPONSE, RunOutcome, RunRequest, RunStatus, harness_request, nonce};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker as ComponentLinker, ResourceTable};
use wasmtime::{Config, Engine, Linker, Module, ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

mod bindings {
    wasmtime::component::bindgen!({
        path: "sandbox/python/wit",
        world: "harness",
        exports: { default: async },
    });
}

/// How often the epoch ticks; CPU time is counted in these.
pub const TICK: Duration = Duration::from_millis(10);
/// Most WASI resources (open files, streams, pollables) one run may hold at once.
const MAX_RESOURCES: usize = 512;

struct Limiter {
    memory: usize,
    memory_hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory {
            self.memory_hit = true;
            return Ok(false);
        }
        Ok(true)
    }
    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

struct RunState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: Limiter,
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

struct P1State {
    wasi: wasmtime_wasi::p1::WasiP1Ctx,
    limiter: Limiter,
}

/// A loaded sandbox: one engine, the harness compiled once, reused for every run.
pub struct WasmSandbox {
    engine: Engine,
    harness: bindings::HarnessPre<RunState>,
    p1_linker: Arc<Linker<P1State>>,
    work_base: PathBuf,
    _ticker: Ticker,
}

struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    // Host code called from deep wasm needs room on the fiber beyond the wasm stack itself:
    // with equal sizes, deeply nested data overflows the fiber and aborts the process.
    config.max_wasm_stack(1 << 20);
    config.async_stack_size(8 << 20);
    Ok(Engine::new(&config)?)
}

/// A hash of everything that makes a compiled artefact loadable by this engine.
fn compat_key(engine: &Engine, bytes: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    bytes.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Compiles the harness component, or loads our own cached compilation of it.
fn load_component(engine: &Engine, wasm: &Path) -> Result<Component> {
    let bytes = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let cached = wasm.with_file_name(format!("harness-{}.cwasm", compat_key(engine, &bytes)));
    if cached.is_file() {
        // SAFETY: the file is our own precompilation of our own harness, written below into the
        // runtime folder and keyed by the engine's compatibility hash; never a student's file.
        if let Ok(c) = unsafe { Component::deserialize_file(engine, &cached) } {
            return Ok(c);
        }
    }
    let compiled = engine
        .precompile_component(&bytes)
        .map_err(anyhow::Error::from)
        .context("compiling the Python harness")?;
    let tmp = cached.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &compiled)?;
    std::fs::rename(&tmp, &cached)?;
    // SAFETY: as above; we just wrote this file from `precompile_component`.
    Ok(unsafe { Component::deserialize_file(engine, &cached) }?)
}

impl WasmSandbox {
    /// Sets up the runtime if needed, then loads it. `work_base` holds per-run folders.
    pub fn new(work_base: PathBuf) -> Result<WasmSandbox> {
        let wasm = super::runtime::ensure_component()?;
        // Runs open files on the host; use the hard limit, not the often small soft one.
        if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
            tracing::warn!(error = %e, "could not raise the open-file limit");
        }
        let engine = engine()?;
        let component = load_component(&engine, &wasm)?;
        let mut linker: ComponentLinker<RunState> = ComponentLinker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .context("linking the Python harness")?;
        let harness = bindings::HarnessPre::new(pre)?;
        let mut p1_linker: Linker<P1State> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_async(&mut p1_linker, |s| &mut s.wasi)?;
        let stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new().name("epoch-ticker".into()).spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })?;
        }
        std::fs::create_dir_all(&work_base)?;
        Ok(WasmSandbox {
            engine,
            harness,
            p1_linker: Arc::new(p1_linker),
            work_base,
            _ticker: Ticker { stop },
        })
    }

    /// Runs one request. Never fails: a grader-side problem becomes `RunStatus::GraderError`.
    pub async fn run(&self, request: &RunRequest) -> RunOutcome {
        let started = Instant::now();
        let dir = match RunDir::create(&self.work_base, &request.submission, &request.inputs) {
            Ok(d) => d,
            Err(e) => return RunOutcome::grader_error(format!("{e:#}")),
        };
        let mut outcome = self.run_in(&dir, request).await;
        for path in &request.collect {
            outcome
                .files
                .insert(path.clone(), dir.read_output(path, request.limits.file_cap()));
        }
        if outcome.status == RunStatus::Completed && dir.written() > request.limits.scratch {
            outcome.status = RunStatus::ScratchLimit;
        }
        outcome.duration = started.elapsed();
        outcome
    }

    async fn run_in(&self, dir: &RunDir, request: &RunRequest) -> RunOutcome {
        let limits = request.limits;
        let stdout = MemoryOutputPipe::new(limits.output as usize);
        let stderr = MemoryOutputPipe::new(limits.output as usize);
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdin(MemoryInputPipe::new(request.stdin.clone()))
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            // File operations on the run's small local folders are quicker inline than
            // handed to tokio's blocking pool one by one.
            .allow_blocking_current_thread(true)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        for (k, v) in &request.env {
            builder.env(k, v);
        }
        let preopens = [
            (dir.submission(), "/submission", FsPerms::ReadWrite),
            (dir.scratch(), "/scratch", FsPerms::ReadWrite),
            (dir.inputs(), "/inputs", FsPerms::ReadOnly),
        ];
        for (host, guest, perms) in preopens {
            if let Err(e) = builder.preopened_dir(&host, guest, perms) {
                return RunOutcome::grader_error(format!("preopening {guest}: {e:#}"));
            }
        }
        let scratch_hit = Arc::new(AtomicBool::new(false));
        let watcher = dir.watch_quota(limits.scratch, scratch_hit.clone());
        let cpu_hit = Arc::new(AtomicBool::new(false));
        let limiter = Limiter {
            memory: limits.memory as usize,
            memory_hit: false,
        };
        let cpu_ticks = (limits.cpu_time.as_millis() / TICK.as_millis()).max(1) as u64;
        let nonce = nonce();

        let (status, response, exit_code, memory_hit) = match &request.call {
            Call::WasmProgram { path, args } => {
                builder.arg(path);
                for a in args {
                    builder.arg(a);
                }
                let mut store = Store::new(
                    &self.engine,
                    P1State {
                        wasi: builder.build_p1(),
                        limiter,
                    },
                );
                store.limiter(|s| &mut s.limiter);
                arm_epochs(&mut store, cpu_ticks, cpu_hit.clone(), scratch_hit.clone());
                let program = dir.submission().join(path.trim_start_matches('/'));
                let fut = run_wasm_program(&self.engine, &self.p1_linker, &mut store, &program, limits.program_size);
                let result = tokio::time::timeout(limits.wall_time, fut).await;
                let memory_hit = store.data().limiter.memory_hit;
                let (status, code) = match result {
                    Err(_) => (RunStatus::WallTimeout, None),
                    Ok(Ok(())) => (RunStatus::Completed, Some(0)),
                    Ok(Err(ProgramError::Rejected(why))) => (RunStatus::Crashed(why), None),
                    Ok(Err(ProgramError::Trap(e))) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                        Some(exit) => (RunStatus::Completed, Some(exit.0)),
                        None => (classify_trap(&e), None),
                    },
                };
                (status, None, code, memory_hit)
            }
            call => {
                let body = harness_request(call, &nonce);
                let mut table = ResourceTable::new();
                // Open files, streams and pollables of one run: bounded so that a run cannot
                // exhaust the host's file descriptors and break other runs.
                table.set_max_capacity(MAX_RESOURCES);
                let mut store = Store::new(
                    &self.engine,
                    RunState {
                        wasi: builder.build(),
                        table,
                        limiter,
                    },
                );
                store.limiter(|s| &mut s.limiter);
                arm_epochs(&mut store, cpu_ticks, cpu_hit.clone(), scratch_hit.clone());
                let fut = async {
                    let instance = self.harness.instantiate_async(&mut store).await?;
                    instance.call_run(&mut store, &body).await
                };
                let result = tokio::time::timeout(limits.wall_time, fut).await;
                let memory_hit = store.data().limiter.memory_hit;
                match result {
                    Err(_) => (RunStatus::WallTimeout, None, None, memory_hit),
                    Ok(Ok(text)) if text.len() > MAX_RESPONSE => (RunStatus::ResponseTooLarge, None, None, memory_hit),
                    Ok(Ok(text)) => match serde_json::from_str::<HarnessResponse>(&text) {
                        Ok(r) if r.nonce.as_deref() == Some(nonce.as_str()) => {
                            (RunStatus::Completed, Some(r), None, memory_hit)
                        }
                        _ => (RunStatus::Forged, None, None, memory_hit),
                    },
                    Ok(Err(e)) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                        Some(exit) => (RunStatus::Exited(exit.0), None, Some(exit.0), memory_hit),
                        None => (classify_trap(&e), None, None, memory_hit),
                    },
                }
            }
        };
        drop(watcher);
        let out = stdout.contents().to_vec();
        let err = stderr.contents().to_vec();
        let full = |b: &[u8]| b.len() as u64 >= limits.output;
        // The most specific cause wins: a limit we enforced explains the trap it caused.
        let status = if scratch_hit.load(Ordering::Relaxed) {
            RunStatus::ScratchLimit
        } else if matches!(status, RunStatus::Completed | RunStatus::Exited(_)) {
            status
        } else if cpu_hit.load(Ordering::Relaxed) {
            RunStatus::CpuLimit
        } else if memory_hit {
            RunStatus::MemoryLimit
        } else if full(&out) || full(&err) {
            RunStatus::OutputLimit
        } else {
            status
        };
        let status = match status {
            RunStatus::Completed if full(&out) || full(&err) => RunStatus::OutputLimit,
            s => s,
        };
        RunOutcome {
            status,
            stdout: out,
            stderr: err,
            response,
            files: BTreeMap::new(),
            duration: Duration::ZERO,
            exit_code,
        }
    }
}

fn arm_epochs<T: 'static>(
    store: &mut Store<T>,
    cpu_ticks: u64,
    cpu_hit: Arc<AtomicBool>,
    scratch_hit: Arc<AtomicBool>,
) {
    let mut used = 0u64;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        used += 1;
        if scratch_hit.load(Ordering::Relaxed) {
            return Ok(UpdateDeadline::Interrupt);
        }
        if used > cpu_ticks {
            cpu_hit.store(true, Ordering::Relaxed);
            return Ok(UpdateDeadline::Interrupt);
        }
        // Yield so that the wall-clock timeout and other runs get the thread.
        Ok(UpdateDeadline::Yield(1))
    });
}

enum ProgramError {
    Rejected(String),
    Trap(wasmtime::Error),
}

async fn run_wasm_program(
    engine: &Engine,
    linker: &Linker<P1State>,
    store: &mut Store<P1State>,
    program: &Path,
    size_cap: u64,
) -> Result<(), ProgramError> {
    let meta = std::fs::symlink_metadata(program)
        .map_err(|_| ProgramError::Rejected("the program file is missing from the submission".into()))?;
    if !meta.is_file() {
        return Err(ProgramError::Rejected("the program is not a regular file".into()));
    }
    if meta.len() > size_cap {
        return Err(ProgramError::Rejected(format!(
            "the program is larger than the {size_cap}-byte limit"
        )));
    }
    let bytes =
        std::fs::read(program).map_err(|e| ProgramError::Rejected(format!("could not read the program: {e}")))?;
    let engine2 = engine.clone();
    // Compiling counts against the wall limit; it runs off the async worker threads.
    let module = tokio::task::spawn_blocking(move || Module::from_binary(&engine2, &bytes))
        .await
        .map_err(|e| ProgramError::Rejected(format!("compiling the program failed: {e}")))?
        .map_err(|e| ProgramError::Rejected(format!("not a valid WebAssembly program: {}", first_line(&e))))?;
    let instance = linker
        .instantiate_async(&mut *store, &module)
        .await
        .map_err(|e| ProgramError::Rejected(format!("the program cannot start here: {}", first_line(&e))))?;
    let start = instance.get_typed_func::<(), ()>(&mut *store, "_start").map_err(|_| {
        ProgramError::Rejected("the program has no `_start` (build it for wasm32-wasip1 as a command)".into())
    })?;
    start.call_async(&mut *store, ()).await.map_err(ProgramError::Trap)
}

fn first_line(e: &wasmtime::Error) -> String {
    e.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

fn classify_trap(e: &wasmtime::Error) -> RunStatus {
    let text = format!("{e:?}");
    if text.contains("resource table has no free keys") {
        return RunStatus::Crashed(format!(
            "it held more than {MAX_RESOURCES} open files or streams at once"
        ));
    }
    if text.contains("write beyond capacity") {
        return RunStatus::OutputLimit;
    }
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        return RunStatus::Crashed(trap.to_string());
    }
    let first = format!("{e}");
    RunStatus::Crashed(first.lines().next().unwrap_or("trap").chars().take(200).collect())
}
