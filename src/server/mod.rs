//! The webhook service: `POST /webhook` verifies, decides and stores a delivery durably before
//! answering; workers (`worker`) grade queued jobs and post back. `GET /healthz`, `GET /metrics`.
//!
//! Invariant: a delivery is answered 2xx only after it is committed to the queue; nothing
//! unsigned is parsed or stored.

pub mod config;
pub mod events;
pub mod metrics;
pub mod signature;
pub mod worker;

use crate::assignment::Assignment;
use crate::queue::{Queue, Stored};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use config::Config;
use events::{Decision, Target};
use metrics::Metrics;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio::sync::Semaphore;

/// GitHub's payload cap.
pub const BODY_MAX: usize = 25 << 20;
/// Bytes of request bodies held in memory at once, across all deliveries in flight.
const BODY_BUDGET_KIB: usize = 128 << 10;

/// The assignments served, reloaded when their files change. Each spec version is snapshotted
/// under `data_dir/specs/<version>` so a job is graded with the version it was queued under.
pub struct Catalog {
    specs_dir: PathBuf,
    snapshots: PathBuf,
    state: RwLock<(u64, Vec<Target>)>,
    /// When the files were last looked at: at most once a second, off the hot path's way.
    checked: std::sync::Mutex<Option<std::time::Instant>>,
    loaded: RwLock<HashMap<String, Arc<Assignment>>>,
}

fn fingerprint(dir: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            e.path().hash(&mut h);
            if let Ok(m) = e.metadata() {
                m.len().hash(&mut h);
                m.modified().ok().hash(&mut h);
                if m.is_dir() && e.file_name() != "submissions" {
                    stack.push(e.path());
                }
            }
        }
    }
    h.finish()
}

impl Catalog {
    pub fn open(specs_dir: &Path, data_dir: &Path) -> anyhow::Result<Catalog> {
        let catalog = Catalog {
            specs_dir: specs_dir.to_path_buf(),
            snapshots: data_dir.join("specs"),
            state: RwLock::new((0, Vec::new())),
            checked: std::sync::Mutex::new(None),
            loaded: RwLock::new(HashMap::new()),
        };
        catalog.refresh();
        Ok(catalog)
    }

    /// Reloads the specs if any file changed. A spec that does not load is logged and skipped.
    pub fn refresh(&self) {
        {
            let mut checked = self.checked.lock().expect("catalog");
            if checked.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1)) {
                return;
            }
            *checked = Some(std::time::Instant::now());
        }
        let print = fingerprint(&self.specs_dir);
        if self.state.read().expect("catalog").0 == print {
            return;
        }
        let mut targets = Vec::new();
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&self.specs_dir)
            .map(|it| {
                it.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.join(crate::assignment::SPEC_FILE).is_file())
                    .collect()
            })
            .unwrap_or_default();
        dirs.sort();
        for dir in dirs {
            match Assignment::load(&dir) {
                Ok(a) => {
                    let version = a.version.clone();
                    let snap = self.snapshots.join(&version);
                    if !snap.is_dir() {
                        let tmp = self.snapshots.join(format!(".{version}.tmp{}", std::process::id()));
                        let _ = std::fs::remove_dir_all(&tmp);
                        if let Err(e) = crate::sandbox::workdir::copy_tree(&dir, &tmp, &["submissions"])
                            .and_then(|_| std::fs::rename(&tmp, &snap))
                        {
                            tracing::error!(spec.dir = %dir.display(), error = %e, "cannot snapshot spec");
                            continue;
                        }
                    }
                    let info = &a.parsed.spec.assignment;
                    targets.push(Target {
                        id: info.id.clone(),
                        prefix: info.classroom_prefix.clone(),
                        version,
                    });
                }
                Err(errors) => {
                    for e in errors {
                        tracing::error!(spec.error = %e, "spec not loaded");
                    }
                }
            }
        }
        tracing::info!(assignments = targets.len(), "specs loaded");
        *self.state.write().expect("catalog") = (print, targets);
    }

    pub fn targets(&self) -> Vec<Target> {
        self.state.read().expect("catalog").1.clone()
    }

    /// The assignment as it was at `version`.
    pub fn at_version(&self, version: &str) -> anyhow::Result<Arc<Assignment>> {
        if let Some(a) = self.loaded.read().expect("catalog").get(version) {
            return Ok(a.clone());
        }
        let dir = self.snapshots.join(version);
        let a = Arc::new(Assignment::load(&dir).map_err(|errors| {
            anyhow::anyhow!(
                "spec snapshot {version} does not load: {}",
                errors.first().map(|e| e.to_string()).unwrap_or_default()
            )
        })?);
        self.loaded
            .write()
            .expect("catalog")
            .insert(version.to_string(), a.clone());
        Ok(a)
    }
}

#[derive(Clone)]
pub struct AppState {
    pub queue: Queue,
    pub secrets: Arc<Vec<Vec<u8>>>,
    pub organisations: Arc<Vec<String>>,
    pub catalog: Arc<Catalog>,
    pub metrics: Arc<Metrics>,
    pub body_budget: Arc<Semaphore>,
    pub wake: Arc<tokio::sync::Notify>,
}

pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/webhook", post(webhook))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_MAX))
        .with_state(state)
}

async fn healthz(State(st): State<AppState>) -> impl IntoResponse {
    if st.queue.healthy().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

async fn metrics_text(State(st): State<AppState>) -> impl IntoResponse {
    let depth = st.queue.depth().await.unwrap_or_default();
    (
        [("content-type", "text/plain; version=0.0.4")],
        st.metrics.render(&depth),
    )
}

async fn webhook(State(st): State<AppState>, headers: HeaderMap, body: Body) -> axum::response::Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let declared = header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(BODY_MAX);
    if declared > BODY_MAX {
        return (StatusCode::PAYLOAD_TOO_LARGE, "payload too large").into_response();
    }
    // Hold at most BODY_BUDGET_KIB of bodies at once: later deliveries wait for room.
    let Ok(_permit) = st.body_budget.acquire_many((declared / 1024 + 1) as u32).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let Ok(bytes) = axum::body::to_bytes(body, BODY_MAX).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "payload too large").into_response();
    };
    if !signature::verify(&st.secrets, header("x-hub-signature-256").as_deref(), &bytes) {
        st.metrics.delivery("unknown", "bad-signature");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (Some(event), Some(delivery)) = (header("x-github-event"), header("x-github-delivery")) else {
        return (StatusCode::BAD_REQUEST, "missing X-GitHub-Event or X-GitHub-Delivery").into_response();
    };
    let span = tracing::info_span!("delivery", delivery.id = %delivery, delivery.event = %event);
    tracing::Instrument::instrument(handle(st.clone(), event, delivery, bytes), span).await
}

/// What to do with a verified delivery.
async fn handle(st: AppState, event: String, delivery: String, bytes: axum::body::Bytes) -> axum::response::Response {
    if event == "ping" {
        st.metrics.delivery("ping", "pong");
        return (StatusCode::OK, "pong").into_response();
    }
    let stored = if event == "push" {
        let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return (StatusCode::BAD_REQUEST, "the body is not JSON").into_response();
        };
        st.catalog.refresh();
        match events::push(&payload, &st.organisations, &st.catalog.targets()) {
            Decision::Grade(job) if !st.queue.installation_usable(job.installation_id).await.unwrap_or(true) => {
                tracing::info!(reason = "installation deleted or suspended", "ignored");
                st.queue.record_ignored(&delivery, &event).await
            }
            Decision::Grade(job) => {
                tracing::info!(repo.full_name = %format!("{}/{}", job.owner, job.repo), submission.sha = %job.sha, "queueing");
                st.queue.enqueue(&delivery, &event, &job).await
            }
            Decision::Ignore(why) => {
                tracing::info!(reason = why, "ignored");
                st.queue.record_ignored(&delivery, &event).await
            }
        }
    } else {
        if event == "installation"
            && let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&bytes)
            && let Some((id, account, state)) = events::installation(&payload)
            && let Err(e) = st.queue.set_installation(id, &account, state).await
        {
            tracing::error!(error = %e, "recording the installation failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        let rerun = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|payload| events::rerun_request(&event, &payload));
        match rerun {
            Some((owner, repo, sha)) => {
                tracing::info!(repo.full_name = %format!("{owner}/{repo}"), submission.sha = %sha, "re-run requested");
                st.queue.rerun(&delivery, &event, &owner, &repo, &sha).await
            }
            // pull_request, issue_comment, ...: acknowledged and recorded; nothing to grade yet.
            None => st.queue.record_ignored(&delivery, &event).await,
        }
    };
    match stored {
        Ok(Stored::Queued(id)) => {
            st.metrics.delivery(&event, "queued");
            st.wake.notify_waiters();
            (StatusCode::ACCEPTED, format!("queued job {id}")).into_response()
        }
        Ok(Stored::DuplicateDelivery) => {
            st.metrics.delivery(&event, "duplicate-delivery");
            (StatusCode::OK, "already received").into_response()
        }
        Ok(Stored::DuplicateSubmission(id)) => {
            st.metrics.delivery(&event, "duplicate-submission");
            (StatusCode::OK, format!("already queued as job {id}")).into_response()
        }
        Ok(Stored::Ignored) => {
            st.metrics.delivery(&event, "ignored");
            (StatusCode::ACCEPTED, "nothing to grade").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "storing the delivery failed");
            st.metrics.delivery(&event, "error");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Runs the service until SIGTERM or Ctrl-C.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let queue = Queue::open(&config.database_url).await?;
    let catalog = Arc::new(Catalog::open(&config.specs_dir, &config.data_dir)?);
    let github = Arc::new(crate::github::GitHub::new(
        &config.api_url,
        config.app_id,
        &config.private_key.0,
    )?);
    let work = config.data_dir.join("runs");
    std::fs::create_dir_all(&work)?;
    let sandbox = Arc::new(crate::sandbox::Sandboxes::new(work));
    // Start the backends the current specs use now, so that a missing runtime or Docker daemon
    // stops the service at once instead of failing every job.
    // Every course image a spec names is checked.
    let mut backends = vec![crate::sandbox::Target::Wasm];
    for t in catalog.targets() {
        if let Ok(a) = catalog.at_version(&t.version) {
            let target = crate::grading::target(&a);
            if !backends.contains(&target) {
                backends.push(target);
            }
        }
    }
    for target in &backends {
        sandbox.prepare(target).await?;
    }
    let metrics = Arc::new(Metrics::default());
    let wake = Arc::new(tokio::sync::Notify::new());
    let state = AppState {
        queue: queue.clone(),
        secrets: Arc::new(config.webhook_secrets.iter().map(|s| s.0.clone()).collect()),
        organisations: Arc::new(config.organisations.clone()),
        catalog: catalog.clone(),
        metrics: metrics.clone(),
        body_budget: Arc::new(Semaphore::new(BODY_BUDGET_KIB)),
        wake: wake.clone(),
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ctx = Arc::new(worker::Context {
        queue,
        github,
        catalog,
        sandbox,
        metrics,
        archives: config.data_dir.join("archives"),
        max_attempts: config.max_attempts,
        retry_base: config.retry_base,
        lease: config.lease,
        wake,
    });
    let mut workers = Vec::new();
    for n in 0..config.workers {
        workers.push(tokio::spawn(worker::run(ctx.clone(), n, stop_rx.clone())));
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    // Tests and operators read the bound address (port 0 picks a free one) from this line.
    println!("autograder listening on http://{}", listener.local_addr()?);
    use std::io::Write;
    std::io::stdout().flush().ok();
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown())
        .await?;
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), w).await;
    }
    eprintln!("autograder: stopped");
    Ok(())
}

async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
