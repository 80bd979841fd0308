//! A worker: claims a job, keeps its lease alive, fetches exactly the pushed commit, grades it
//! with the spec version it was queued under, stores the result, and posts the comment and the
//! check run. Infrastructure failures are retried with growing delays, then parked.
//!
//! Invariant: posting is idempotent (the comment is found by its marker, the check run by
//! `external_id` = job id, `<id>.<run>` after a re-run), so a job run again after a crash adds
//! nothing twice.

use super::Catalog;
use super::metrics::Metrics;
use crate::github::{GhError, GitHub, fit_body};
use crate::queue::{Job, Queue};
use crate::sandbox::Sandboxes;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Context {
    pub queue: Queue,
    pub github: Arc<GitHub>,
    pub catalog: Arc<Catalog>,
    pub sandbox: Arc<Sandboxes>,
    pub metrics: Arc<Metrics>,
    pub archives: PathBuf,
    pub max_attempts: i64,
    pub retry_base: Duration,
    pub lease: Duration,
    pub wake: Arc<tokio::sync::Notify>,
}

/// The largest repository archive fetched.
const ARCHIVE_CAP: u64 = 100 << 20;

pub async fn run(ctx: Arc<Context>, n: usize, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        match ctx.queue.claim(ctx.lease).await {
            Ok(Some(job)) => process(&ctx, job).await,
            Ok(None) => {
                tokio::select! {
                    _ = ctx.wake.notified() => {},
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {},
                    _ = stop.changed() => {},
                }
            }
            Err(e) => {
                tracing::error!(worker = n, error = %e, "claiming a job failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

enum Failure {
    Retry(Option<Duration>, String),
    Fatal(String),
}

impl From<GhError> for Failure {
    fn from(e: GhError) -> Failure {
        match e {
            GhError::Retry { after, why } => Failure::Retry(after, why),
            GhError::Fatal(why) => Failure::Fatal(why),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Retry(None, format!("{e:#}"))
    }
}

async fn process(ctx: &Arc<Context>, job: Job) {
    let span = tracing::info_span!("job", job.id = job.id, repo.full_name = %format!("{}/{}", job.owner, job.repo),
        submission.sha = %job.sha, job.attempt = job.attempts);
    tracing::Instrument::instrument(process_in_span(ctx, job), span).await
}

async fn process_in_span(ctx: &Arc<Context>, job: Job) {
    let started = Instant::now();
    // Keep the lease while we work; a dead worker's job is claimed again when it runs out.
    let renew = {
        let queue = ctx.queue.clone();
        let (id, attempts, lease) = (job.id, job.attempts, ctx.lease);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                if !matches!(queue.renew(id, attempts, lease).await, Ok(true)) {
                    return;
                }
            }
        })
    };
    let outcome = grade_and_post(ctx, &job).await;
    renew.abort();
    match outcome {
        Ok(()) => {
            if let Err(e) = ctx.queue.done(job.id).await {
                tracing::error!(error = %e, "marking the job done failed");
            }
            ctx.metrics.job("graded", started.elapsed().as_secs_f64());
            tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "graded");
        }
        Err(Failure::Retry(after, why)) if job.attempts < ctx.max_attempts => {
            let growing = ctx.retry_base * 2u32.saturating_pow((job.attempts - 1).clamp(0, 16) as u32);
            let delay = after.unwrap_or(growing).max(ctx.retry_base);
            tracing::warn!(error = %why, delay_ms = delay.as_millis() as u64, "retrying later");
            if let Err(e) = ctx.queue.retry_later(job.id, delay, &why).await {
                tracing::error!(error = %e, "re-queueing the job failed");
            }
            ctx.metrics.job("retried", started.elapsed().as_secs_f64());
        }
        Err(Failure::Retry(_, why) | Failure::Fatal(why)) => {
            tracing::error!(error = %why, "grading failed for good; parking the job");
            tell_student_it_failed(ctx, &job).await;
            if let Err(e) = ctx.queue.park(job.id, &why).await {
                tracing::error!(error = %e, "parking the job failed");
            }
            ctx.metrics.job("parked", started.elapsed().as_secs_f64());
        }
    }
}

fn marker(assignment: &str) -> String {
    format!("<!-- autograder:{assignment} -->")
}

fn check_name(assignment: &str) -> String {
    format!("autograder / {assignment}")
}

async fn grade_and_post(ctx: &Arc<Context>, job: &Job) -> Result<(), Failure> {
    let token = ctx.github.token(job.installation_id).await?;
    let stored = ctx.queue.result(job.id).await?;
    let (score, max, report_md, passed) = match stored {
        Some((score, max, json, md)) => {
            let passed = serde_json::from_str::<serde_json::Value>(&json)
                .ok()
                .and_then(|v| v["passed"].as_bool())
                .unwrap_or(false);
            (score, max, md, passed)
        }
        None => {
            let archive = fetch_archive(ctx, &token, job).await?;
            let assignment = ctx.catalog.at_version(&job.spec_version)?;
            let folder = tempfile::tempdir().map_err(|e| Failure::Retry(None, e.to_string()))?;
            let result = match crate::github::archive::unpack(&archive, folder.path()) {
                Ok(()) => {
                    let label = format!("job-{}", job.id);
                    crate::grading::grade(assignment.clone(), folder.path(), ctx.sandbox.clone(), 2, &label).await
                }
                Err(why) => crate::grading::reject_all(&assignment, &why),
            };
            if result.incomplete() {
                return Err(Failure::Retry(None, "a test hit a grader-side error".into()));
            }
            for t in &result.tests {
                ctx.metrics.sandbox_outcome(&format!("{:?}", t.status).to_lowercase());
            }
            // Visibility is judged at the time GitHub recorded the push, not at grading time.
            let as_of = job
                .pushed_at
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                .unwrap_or_else(chrono::Utc::now)
                .fixed_offset();
            let report = crate::report::build(&result, assignment.parsed.due, as_of);
            let md = crate::report::markdown(&report);
            let json = serde_json::to_string(&report).map_err(|e| Failure::Fatal(e.to_string()))?;
            ctx.queue
                .store_result(job, report.score, report.max_score, &json, &md)
                .await?;
            (report.score, report.max_score, md, report.passed)
        }
    };
    let body = fit_body(&report_md);
    if let Some(pr) = ctx.github.feedback_pr(&token, &job.owner, &job.repo).await? {
        ctx.github
            .upsert_comment(&token, &job.owner, &job.repo, pr, &marker(&job.assignment), &body)
            .await?;
    }
    let title = format!("{} / {}", crate::report::pts(score), crate::report::pts(max));
    let conclusion = if passed { "success" } else { "failure" };
    ctx.github
        .upsert_check_run(
            &token,
            &job.owner,
            &job.repo,
            &job.sha,
            &check_name(&job.assignment),
            &job.external_id(),
            conclusion,
            &title,
            &body,
        )
        .await?;
    Ok(())
}

/// The commit's tarball, from the local archive when a regrade already fetched it.
async fn fetch_archive(ctx: &Arc<Context>, token: &str, job: &Job) -> Result<Vec<u8>, Failure> {
    let safe = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    let path = ctx
        .archives
        .join(safe(&job.owner))
        .join(safe(&job.repo))
        .join(format!("{}.tar.gz", safe(&job.sha)));
    if let Ok(bytes) = std::fs::read(&path) {
        return Ok(bytes);
    }
    let bytes = ctx
        .github
        .tarball(token, &job.owner, &job.repo, &job.sha, ARCHIVE_CAP)
        .await?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Failure::Retry(None, e.to_string()))?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &bytes)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| Failure::Retry(None, e.to_string()))?;
    Ok(bytes)
}

/// Best effort: the student learns that the grader failed (never a zero).
async fn tell_student_it_failed(ctx: &Arc<Context>, job: &Job) {
    let body = format!(
        "{}\n## Grading failed on the grader's side\n\nThis is not your fault and costs you nothing. Your commit `{}` will be \
         graded again on your next push or when your instructor regrades failed submissions.\n",
        marker(&job.assignment),
        job.sha.chars().take(12).collect::<String>()
    );
    let Ok(token) = ctx.github.token(job.installation_id).await else {
        return;
    };
    if let Ok(Some(pr)) = ctx.github.feedback_pr(&token, &job.owner, &job.repo).await {
        let _ = ctx
            .github
            .upsert_comment(&token, &job.owner, &job.repo, pr, &marker(&job.assignment), &body)
            .await;
    }
    let _ = ctx
        .github
        .upsert_check_run(
            &token,
            &job.owner,
            &job.repo,
            &job.sha,
            &check_name(&job.assignment),
            &job.external_id(),
            "neutral",
            "grading failed (not your fault)",
            &body,
        )
        .await;
}
