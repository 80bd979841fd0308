-- Deliveries GitHub sent us, one row per X-GitHub-Delivery (the idempotency key).
CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,
    event       TEXT NOT NULL,
    outcome     TEXT NOT NULL,          -- queued | ignored | duplicate-submission
    job_id      INTEGER,
    received_at INTEGER NOT NULL        -- unix milliseconds
);

-- Grading jobs: one per (repository, commit, assignment, spec version).
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id     TEXT NOT NULL,
    installation_id INTEGER NOT NULL,
    owner           TEXT NOT NULL,
    repo            TEXT NOT NULL,
    sha             TEXT NOT NULL,
    assignment      TEXT NOT NULL,
    spec_version    TEXT NOT NULL,
    pushed_at       INTEGER,            -- unix seconds, as GitHub recorded the push
    received_at     INTEGER NOT NULL,   -- unix milliseconds
    state           TEXT NOT NULL DEFAULT 'queued', -- queued | running | done | failed | superseded
    attempts        INTEGER NOT NULL DEFAULT 0,
    run_after       INTEGER NOT NULL,   -- unix milliseconds
    lease_until     INTEGER,            -- unix milliseconds, while running
    last_error      TEXT,
    finished_at     INTEGER,
    UNIQUE (owner, repo, sha, assignment, spec_version)
);
CREATE INDEX jobs_claim ON jobs (state, run_after);
CREATE INDEX jobs_repo ON jobs (owner, repo, assignment, state);

-- Every graded commit keeps its result.
CREATE TABLE results (
    job_id       INTEGER PRIMARY KEY REFERENCES jobs (id),
    owner        TEXT NOT NULL,
    repo         TEXT NOT NULL,
    sha          TEXT NOT NULL,
    assignment   TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    pushed_at    INTEGER,
    received_at  INTEGER NOT NULL,
    score        REAL NOT NULL,
    max_score    REAL NOT NULL,
    result_json  TEXT NOT NULL,
    report_md    TEXT NOT NULL,
    graded_at    INTEGER NOT NULL
);
