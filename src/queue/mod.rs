//! The durable job queue (SQLite through sqlx, WAL): deliveries and their jobs are stored in one
//! transaction before a webhook is answered; workers claim jobs under a lease they keep renewing.
//!
//! Invariant: every accepted delivery ends as a graded job, a superseded one, a parked failure,
//! or an ignored delivery; a job whose worker died is claimed again once its lease runs out.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub installation_id: i64,
    pub owner: String,
    pub repo: String,
    pub sha: String,
    pub assignment: String,
    pub spec_version: String,
    pub pushed_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub delivery_id: String,
    pub installation_id: i64,
    pub owner: String,
    pub repo: String,
    pub sha: String,
    pub assignment: String,
    pub spec_version: String,
    pub pushed_at: Option<i64>,
    pub received_at: i64,
    pub attempts: i64,
    /// 1, then one more for every re-run GitHub asks for.
    pub run: i64,
}

impl Job {
    /// The check run's `external_id`: one check run per run of the job.
    pub fn external_id(&self) -> String {
        if self.run <= 1 {
            self.id.to_string()
        } else {
            format!("{}.{}", self.id, self.run)
        }
    }
}

/// What storing a delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// A new job was queued (older queued jobs for the same repo and assignment superseded).
    Queued(i64),
    /// This delivery id was seen before: acknowledged, nothing new.
    DuplicateDelivery,
    /// The same repo, commit, assignment and spec version is already queued or graded.
    DuplicateSubmission(i64),
    /// Recorded, nothing to grade.
    Ignored,
}

#[derive(Clone)]
pub struct Queue {
    pool: SqlitePool,
    /// Deliveries go through one writer task that commits them in groups: one transaction (and
    /// one fsync) for every delivery waiting at that moment, and no writers queueing on
    /// SQLite's lock.
    writer: tokio::sync::mpsc::Sender<Write>,
}

struct Write {
    delivery: String,
    event: String,
    op: Op,
    reply: tokio::sync::oneshot::Sender<Result<Stored, String>>,
}

/// What a delivery asks of the queue.
enum Op {
    Nothing,
    Grade(NewJob),
    /// Grade this commit's finished jobs again (GitHub's "Re-run" button).
    Rerun {
        owner: String,
        repo: String,
        sha: String,
    },
}

/// Most deliveries committed in one transaction.
const GROUP_MAX: usize = 256;

async fn writer(pool: SqlitePool, mut rx: tokio::sync::mpsc::Receiver<Write>) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(w) => group.push(w),
                Err(_) => break,
            }
        }
        let outcome: anyhow::Result<Vec<Stored>> = async {
            let mut tx = pool.begin().await?;
            let mut stored = Vec::with_capacity(group.len());
            for w in &group {
                stored.push(store_one(&mut tx, &w.delivery, &w.event, &w.op).await?);
            }
            if stored.iter().any(|s| matches!(s, Stored::Queued(_))) {
                supersede(&mut tx).await?;
            }
            tx.commit().await?;
            Ok(stored)
        }
        .await;
        match outcome {
            Ok(stored) => {
                for (w, s) in group.into_iter().zip(stored) {
                    let _ = w.reply.send(Ok(s));
                }
            }
            Err(e) => {
                let why = format!("{e:#}");
                for w in group {
                    let _ = w.reply.send(Err(why.clone()));
                }
            }
        }
    }
}

/// Queues this commit's finished jobs again, each as a new run (a new check run); their old
/// results are dropped so that they are graded afresh.
async fn rerun(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    owner: &str,
    repo: &str,
    sha: &str,
) -> anyhow::Result<Stored> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE jobs SET state = 'queued', attempts = 0, run = run + 1, run_after = ?, lease_until = NULL,
                last_error = NULL, finished_at = NULL
         WHERE owner = ? AND repo = ? AND sha = ? AND state IN ('done', 'failed') RETURNING id",
    )
    .bind(now_ms())
    .bind(owner)
    .bind(repo)
    .bind(sha)
    .fetch_all(&mut **tx)
    .await?;
    for id in &ids {
        sqlx::query("DELETE FROM results WHERE job_id = ?")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(match ids.first() {
        Some(id) => Stored::Queued(*id),
        None => Stored::Ignored,
    })
}

/// A newer push supersedes older ones still waiting: of the queued jobs for one repository and
/// assignment, only the newest stays queued.
async fn supersede(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE jobs SET state = 'superseded', finished_at = ?
         WHERE state = 'queued' AND id NOT IN (SELECT MAX(id) FROM jobs WHERE state = 'queued' GROUP BY owner, repo, assignment)",
    )
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Stores one delivery (and its job) inside the group's transaction.
async fn store_one(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    delivery: &str,
    event: &str,
    op: &Op,
) -> anyhow::Result<Stored> {
    let now = now_ms();
    let outcome = if matches!(op, Op::Nothing) { "ignored" } else { "queued" };
    let inserted = sqlx::query(
        "INSERT INTO deliveries (id, event, outcome, received_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(delivery)
    .bind(event)
    .bind(outcome)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(Stored::DuplicateDelivery);
    }
    let job = match op {
        Op::Nothing => return Ok(Stored::Ignored),
        Op::Rerun { owner, repo, sha } => return rerun(tx, owner, repo, sha).await,
        Op::Grade(job) => job,
    };
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO jobs (delivery_id, installation_id, owner, repo, sha, assignment, spec_version, pushed_at, received_at, run_after)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (owner, repo, sha, assignment, spec_version) DO NOTHING RETURNING id",
    )
    .bind(delivery)
    .bind(job.installation_id)
    .bind(&job.owner)
    .bind(&job.repo)
    .bind(&job.sha)
    .bind(&job.assignment)
    .bind(&job.spec_version)
    .bind(job.pushed_at)
    .bind(now)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(id) = id else {
        // The same repo, commit, assignment and spec version is already queued or graded.
        let existing: i64 = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE owner = ? AND repo = ? AND sha = ? AND assignment = ? AND spec_version = ?",
        )
        .bind(&job.owner)
        .bind(&job.repo)
        .bind(&job.sha)
        .bind(&job.assignment)
        .bind(&job.spec_version)
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query("UPDATE deliveries SET outcome = 'duplicate-submission', job_id = ? WHERE id = ?")
            .bind(existing)
            .bind(delivery)
            .execute(&mut **tx)
            .await?;
        return Ok(Stored::DuplicateSubmission(existing));
    };
    Ok(Stored::Queued(id))
}

impl Queue {
    /// Opens (creating) the database and runs the embedded migrations. `synchronous=FULL` makes
    /// every commit durable against power loss, not only against the process dying.
    pub async fn open(url: &str) -> anyhow::Result<Queue> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(4096);
        tokio::spawn(writer(pool.clone(), rx));
        Ok(Queue { pool, writer: tx })
    }

    pub async fn healthy(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Records a delivery that grades nothing (idempotent). Returns once it is committed.
    pub async fn record_ignored(&self, delivery: &str, event: &str) -> anyhow::Result<Stored> {
        self.write(delivery, event, Op::Nothing).await
    }

    /// Records a re-run request and queues the commit's finished jobs again, atomically.
    pub async fn rerun(
        &self,
        delivery: &str,
        event: &str,
        owner: &str,
        repo: &str,
        sha: &str,
    ) -> anyhow::Result<Stored> {
        let op = Op::Rerun {
            owner: owner.to_string(),
            repo: repo.to_string(),
            sha: sha.to_string(),
        };
        self.write(delivery, event, op).await
    }

    /// Stores a delivery and its job in one transaction; returns once it is committed.
    pub async fn enqueue(&self, delivery: &str, event: &str, job: &NewJob) -> anyhow::Result<Stored> {
        self.write(delivery, event, Op::Grade(job.clone())).await
    }

    async fn write(&self, delivery: &str, event: &str, op: Op) -> anyhow::Result<Stored> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let w = Write {
            delivery: delivery.to_string(),
            event: event.to_string(),
            op,
            reply,
        };
        self.writer
            .send(w)
            .await
            .map_err(|_| anyhow::anyhow!("the queue writer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the queue writer has stopped"))?
            .map_err(|e| anyhow::anyhow!(e))
    }

    /// Claims the oldest runnable job: queued and due, or running with an expired lease.
    pub async fn claim(&self, lease: Duration) -> anyhow::Result<Option<Job>> {
        let now = now_ms();
        let job = sqlx::query_as::<_, Job>(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?
             WHERE id = (SELECT id FROM jobs
                         WHERE (state = 'queued' AND run_after <= ?) OR (state = 'running' AND lease_until < ?)
                         ORDER BY id LIMIT 1)
             RETURNING id, delivery_id, installation_id, owner, repo, sha, assignment, spec_version, pushed_at, received_at, attempts, run",
        )
        .bind(now + lease.as_millis() as i64)
        .bind(now)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(job)
    }

    /// Extends a running job's lease; false when the job is no longer this worker's.
    pub async fn renew(&self, id: i64, attempts: i64, lease: Duration) -> anyhow::Result<bool> {
        let done = sqlx::query("UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'running' AND attempts = ?")
            .bind(now_ms() + lease.as_millis() as i64)
            .bind(id)
            .bind(attempts)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The stored result of a job (graded before a crash or a failed post), if any.
    pub async fn result(&self, job_id: i64) -> anyhow::Result<Option<(f64, f64, String, String)>> {
        let row = sqlx::query("SELECT score, max_score, result_json, report_md FROM results WHERE job_id = ?")
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| {
            (
                r.get("score"),
                r.get("max_score"),
                r.get("result_json"),
                r.get("report_md"),
            )
        }))
    }

    /// Stores a job's result (once graded, a retry reposts it instead of grading again).
    pub async fn store_result(
        &self,
        job: &Job,
        score: f64,
        max_score: f64,
        result_json: &str,
        report_md: &str,
    ) -> anyhow::Result<()> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO results (job_id, owner, repo, sha, assignment, spec_version, pushed_at, received_at, score, max_score, result_json, report_md, graded_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (job_id) DO UPDATE SET score = excluded.score, max_score = excluded.max_score,
                result_json = excluded.result_json, report_md = excluded.report_md, graded_at = excluded.graded_at",
        )
        .bind(job.id)
        .bind(&job.owner)
        .bind(&job.repo)
        .bind(&job.sha)
        .bind(&job.assignment)
        .bind(&job.spec_version)
        .bind(job.pushed_at)
        .bind(job.received_at)
        .bind(score)
        .bind(max_score)
        .bind(result_json)
        .bind(report_md)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a job done (its result stored and posted).
    pub async fn done(&self, id: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE jobs SET state = 'done', lease_until = NULL, finished_at = ? WHERE id = ?")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Puts a job back with a delay after a retryable failure.
    pub async fn retry_later(&self, id: i64, delay: Duration, error: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE jobs SET state = 'queued', lease_until = NULL, run_after = ?, last_error = ? WHERE id = ?")
            .bind(now_ms() + delay.as_millis() as i64)
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Parks a job as failed after its last attempt.
    pub async fn park(&self, id: i64, error: &str) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE jobs SET state = 'failed', lease_until = NULL, last_error = ?, finished_at = ? WHERE id = ?",
        )
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Jobs by state, for `/metrics`.
    pub async fn depth(&self) -> anyhow::Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<String, _>("state"), r.get::<i64, _>("n")))
            .collect())
    }

    /// Records an installation's state from an `installation` event.
    pub async fn set_installation(&self, id: i64, account: &str, state: &str) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO installations (id, account, state, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET account = excluded.account, state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(account)
        .bind(state)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether pushes from this installation may be graded: unknown ones are (pushes carry their
    /// installation), deleted or suspended ones are not.
    pub async fn installation_usable(&self, id: i64) -> anyhow::Result<bool> {
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM installations WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(state.is_none_or(|s| s == "active"))
    }

    /// Puts parked (failed) jobs back in the queue with fresh attempts; returns how many.
    pub async fn regrade_failed(&self, assignment: Option<&str>) -> anyhow::Result<u64> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_after = ?, last_error = NULL, finished_at = NULL
             WHERE state = 'failed' AND (? IS NULL OR assignment = ?)",
        )
        .bind(now_ms())
        .bind(assignment)
        .bind(assignment)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
