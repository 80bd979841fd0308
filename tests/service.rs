//! The webhook service end to end: the real `autograder serve` on port 0 with a fresh database,
//! GitHub faked at the HTTP level, real payloads from `../shared/github/payloads/` signed with a
//! test secret.

mod common;
use common::*;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "test-webhook-secret";
const ORG: &str = "phys398";
const REPO: &str = "z-boson-alice-smith";

// ---- a fake GitHub ---------------------------------------------------------------------------

#[derive(Default)]
struct Fake {
    /// Tarballs by commit SHA (gzipped tar with GitHub's top-level folder).
    tarballs: HashMap<String, Vec<u8>>,
    comments: Vec<Value>,
    check_runs: Vec<Value>,
    /// Forced answers: (path substring, method, status, retry-after, times left).
    faults: Vec<(String, String, u16, Option<u64>, usize)>,
    /// Seconds the tarball endpoint waits before answering.
    tarball_delay: u64,
    requests: Vec<String>,
    tokens_issued: usize,
}

type Shared = Arc<Mutex<Fake>>;

fn fault(fake: &Shared, method: &str, path: &str) -> Option<Response> {
    let mut f = fake.lock().unwrap();
    f.requests.push(format!("{method} {path}"));
    for (needle, m, status, after, left) in f.faults.iter_mut() {
        if *left > 0 && m == method && path.contains(needle.as_str()) {
            *left -= 1;
            let mut resp = (StatusCode::from_u16(*status).unwrap(), "injected").into_response();
            if let Some(a) = after {
                resp.headers_mut().insert("retry-after", a.to_string().parse().unwrap());
            }
            return Some(resp);
        }
    }
    None
}

async fn token(State(f): State<Shared>, UrlPath(id): UrlPath<u64>, headers: HeaderMap) -> Response {
    if let Some(r) = fault(&f, "POST", &format!("/app/installations/{id}/access_tokens")) {
        return r;
    }
    assert!(
        headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Bearer ey"),
        "an App JWT"
    );
    f.lock().unwrap().tokens_issued += 1;
    (
        StatusCode::CREATED,
        axum::Json(json!({"token": format!("ghs_test_{id}"), "expires_at": "2099-01-01T00:00:00Z"})),
    )
        .into_response()
}

async fn tarball(State(f): State<Shared>, UrlPath((o, r, sha)): UrlPath<(String, String, String)>) -> Response {
    if let Some(resp) = fault(&f, "GET", &format!("/repos/{o}/{r}/tarball/{sha}")) {
        return resp;
    }
    let delay = f.lock().unwrap().tarball_delay;
    tokio::time::sleep(Duration::from_secs(delay)).await;
    // GitHub answers with a redirect to codeload.
    (StatusCode::FOUND, [("location", format!("/codeload/{sha}"))]).into_response()
}

async fn codeload(State(f): State<Shared>, UrlPath(sha): UrlPath<String>) -> Response {
    match f.lock().unwrap().tarballs.get(&sha) {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn pulls(State(f): State<Shared>, UrlPath((o, r)): UrlPath<(String, String)>) -> Response {
    if let Some(resp) = fault(&f, "GET", &format!("/repos/{o}/{r}/pulls")) {
        return resp;
    }
    axum::Json(json!([{"number": 1, "base": {"ref": "feedback"}}])).into_response()
}

async fn list_comments(State(f): State<Shared>, UrlPath((o, r, _n)): UrlPath<(String, String, u64)>) -> Response {
    if let Some(resp) = fault(&f, "GET", &format!("/repos/{o}/{r}/issues/comments")) {
        return resp;
    }
    axum::Json(Value::Array(f.lock().unwrap().comments.clone())).into_response()
}

async fn create_comment(
    State(f): State<Shared>,
    UrlPath((o, r, _n)): UrlPath<(String, String, u64)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(resp) = fault(&f, "POST", &format!("/repos/{o}/{r}/issues/comments")) {
        return resp;
    }
    let mut fake = f.lock().unwrap();
    let id = fake.comments.len() as u64 + 100;
    let c = json!({"id": id, "body": body["body"], "user": {"login": "autograder[bot]", "type": "Bot"}});
    fake.comments.push(c.clone());
    (StatusCode::CREATED, axum::Json(c)).into_response()
}

async fn edit_comment(
    State(f): State<Shared>,
    UrlPath((o, r, id)): UrlPath<(String, String, u64)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(resp) = fault(&f, "PATCH", &format!("/repos/{o}/{r}/issues/comments/{id}")) {
        return resp;
    }
    let mut fake = f.lock().unwrap();
    let c = fake
        .comments
        .iter_mut()
        .find(|c| c["id"] == id)
        .expect("edit of an existing comment");
    c["body"] = body["body"].clone();
    axum::Json(c.clone()).into_response()
}

async fn list_checks(State(f): State<Shared>, UrlPath((_o, _r, sha)): UrlPath<(String, String, String)>) -> Response {
    let runs: Vec<Value> = f
        .lock()
        .unwrap()
        .check_runs
        .iter()
        .filter(|c| c["head_sha"] == sha.as_str())
        .cloned()
        .collect();
    axum::Json(json!({"total_count": runs.len(), "check_runs": runs})).into_response()
}

async fn create_check(
    State(f): State<Shared>,
    UrlPath((o, r)): UrlPath<(String, String)>,
    axum::Json(mut body): axum::Json<Value>,
) -> Response {
    if let Some(resp) = fault(&f, "POST", &format!("/repos/{o}/{r}/check-runs")) {
        return resp;
    }
    let mut fake = f.lock().unwrap();
    body["id"] = json!(fake.check_runs.len() as u64 + 500);
    fake.check_runs.push(body.clone());
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn edit_check(
    State(f): State<Shared>,
    UrlPath((_o, _r, id)): UrlPath<(String, String, u64)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut fake = f.lock().unwrap();
    let c = fake
        .check_runs
        .iter_mut()
        .find(|c| c["id"] == id)
        .expect("edit of an existing check run");
    for (k, v) in body.as_object().unwrap() {
        c[k] = v.clone();
    }
    axum::Json(c.clone()).into_response()
}

fn start_fake(rt: &tokio::runtime::Runtime, fake: Shared) -> String {
    let app = axum::Router::new()
        .route("/app/installations/{id}/access_tokens", post(token))
        .route("/repos/{o}/{r}/tarball/{sha}", get(tarball))
        .route("/codeload/{sha}", get(codeload))
        .route("/repos/{o}/{r}/pulls", get(pulls))
        .route(
            "/repos/{o}/{r}/issues/{n}/comments",
            get(list_comments).post(create_comment),
        )
        .route("/repos/{o}/{r}/issues/comments/{id}", patch(edit_comment))
        .route("/repos/{o}/{r}/commits/{sha}/check-runs", get(list_checks))
        .route("/repos/{o}/{r}/check-runs", post(create_check))
        .route("/repos/{o}/{r}/check-runs/{id}", patch(edit_check))
        .with_state(fake);
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A GitHub-style tarball of a folder: everything under `<owner>-<repo>-<sha>/`.
fn tarball_of(dir: &Path, sha: &str) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all(format!("{ORG}-{REPO}-{}", &sha[..7]), dir).unwrap();
    tar.into_inner().unwrap().finish().unwrap()
}

// ---- the service under test ------------------------------------------------------------------

struct Service {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn key_pem(dir: &Path) -> PathBuf {
    let path = dir.join("app.pem");
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&path)
        .stderr(Stdio::null())
        .status()
        .expect("openssl makes the test App key (install openssl)");
    assert!(ok.success());
    path
}

struct Env {
    rt: tokio::runtime::Runtime,
    fake: Shared,
    fake_url: String,
    dir: tempfile::TempDir,
    client: reqwest::Client,
}

fn env() -> Env {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fake: Shared = Arc::default();
    let fake_url = start_fake(&rt, fake.clone());
    let dir = tempfile::tempdir().unwrap();
    // The specs folder: the Z example without its example submissions.
    let specs = dir.path().join("specs/z-boson");
    copy_dir(&example("z-boson"), &specs);
    std::fs::remove_dir_all(specs.join("submissions")).unwrap();
    key_pem(dir.path());
    std::fs::write(
        dir.path().join("config.yaml"),
        format!(
            "listen: 127.0.0.1:0\ngithub:\n  api_url: {fake_url}\n  app_id: 4242\n  private_key_file: app.pem\norganisations: [{ORG}]\nspecs_dir: specs\ndatabase_url: sqlite://state.db\ndata_dir: data\nworkers: 1\nmax_attempts: 3\nretry_base: 300ms\nlease: 2s\n"
        ),
    )
    .unwrap();
    Env {
        rt,
        fake,
        fake_url,
        dir,
        client: reqwest::Client::new(),
    }
}

impl Env {
    fn start(&self) -> Service {
        let mut child = autograder()
            .arg("serve")
            .arg("--config")
            .arg(self.dir.path().join("config.yaml"))
            .env("AUTOGRADER_WEBHOOK_SECRETS", format!("old-secret,{SECRET}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("autograder listening on ")
            .unwrap_or_else(|| panic!("no address: {line}"))
            .to_string();
        let _ = &self.fake_url;
        Service {
            child,
            url,
            dir: self.dir.path().to_path_buf(),
        }
    }

    /// A push payload from `../shared`, with only the fields this test is about changed.
    fn push_payload(&self, sha: &str, submission_name: &str) -> Vec<u8> {
        let shared = shared().expect("service tests need ../shared/github/payloads");
        let text = std::fs::read_to_string(shared.join("github/payloads/push/with-new-branch.payload.json")).unwrap();
        let mut p: Value = serde_json::from_str(&text).unwrap();
        p["after"] = json!(sha);
        p["repository"]["name"] = json!(REPO);
        p["repository"]["full_name"] = json!(format!("{ORG}/{REPO}"));
        p["repository"]["owner"]["login"] = json!(ORG);
        p["installation"]["id"] = json!(77);
        p["sender"]["login"] = json!("alice-smith");
        let tar = tarball_of(&submission("z-boson", submission_name), sha);
        self.fake.lock().unwrap().tarballs.insert(sha.to_string(), tar);
        serde_json::to_vec(&p).unwrap()
    }

    fn send(
        &self,
        svc: &Service,
        event: &str,
        delivery: &str,
        body: &[u8],
        signature: Option<String>,
    ) -> (u16, String) {
        let mut req = self
            .client
            .post(format!("{}/webhook", svc.url))
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", delivery)
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(s) = signature {
            req = req.header("X-Hub-Signature-256", s);
        }
        self.rt.block_on(async {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        })
    }

    fn signed(&self, svc: &Service, event: &str, delivery: &str, body: &[u8]) -> (u16, String) {
        self.send(
            svc,
            event,
            delivery,
            body,
            Some(autograder::server::signature::sign(SECRET.as_bytes(), body)),
        )
    }

    fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&Fake) -> bool) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if done(&self.fake.lock().unwrap()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let f = self.fake.lock().unwrap();
        panic!(
            "timed out waiting for {what}; requests: {:#?}; comments {:#?}; check runs {:#?}",
            f.requests, f.comments, f.check_runs
        );
    }

    fn metrics(&self, svc: &Service) -> String {
        self.rt.block_on(async {
            self.client
                .get(format!("{}/metrics", svc.url))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
    }
}

const SHA1: &str = "1111111111111111111111111111111111111111";
const SHA2: &str = "2222222222222222222222222222222222222222";
const WAIT: Duration = Duration::from_secs(60);

#[test]
fn a_push_gets_one_comment_and_one_check_run_and_a_second_push_edits_the_comment() {
    if shared().is_none() {
        return;
    }
    let e = env();
    let svc = e.start();
    let body = e.push_payload(SHA1, "full");
    let (status, text) = e.signed(&svc, "push", "d-1", &body);
    assert_eq!(status, 202, "{text}");
    e.wait_for("the first check run", WAIT, |f| {
        f.check_runs.len() == 1 && f.comments.len() == 1
    });
    {
        let f = e.fake.lock().unwrap();
        let run = &f.check_runs[0];
        assert_eq!(run["name"], "autograder / z-boson");
        assert_eq!(run["head_sha"], SHA1);
        assert_eq!(run["conclusion"], "success");
        // Visibility is judged at the push time GitHub recorded (2019 in this payload), before
        // the due date: the after_due test is still hidden, so 11 points are visible.
        assert_eq!(run["output"]["title"], "11 / 11", "{run}");
        let comment = f.comments[0]["body"].as_str().unwrap();
        assert!(comment.starts_with("<!-- autograder:z-boson -->"), "{comment}");
        assert!(
            comment.contains("## Z boson from dimuon events: 11 / 11 points"),
            "{comment}"
        );
    }
    let body2 = e.push_payload(SHA2, "partial");
    assert_eq!(e.signed(&svc, "push", "d-2", &body2).0, 202);
    e.wait_for("the second check run", WAIT, |f| f.check_runs.len() == 2);
    e.wait_for("the comment to be edited", WAIT, |f| {
        f.comments.len() == 1 && !f.comments[0]["body"].as_str().unwrap().contains("11 / 11 points")
    });
    let f = e.fake.lock().unwrap();
    assert_eq!(f.comments.len(), 1, "edited in place, never a second comment");
    assert_eq!(f.check_runs[1]["head_sha"], SHA2);
    assert_eq!(f.check_runs[1]["conclusion"], "failure");
    assert_eq!(f.tokens_issued, 1, "the installation token is cached");
}

#[test]
fn bad_missing_and_legacy_signatures_are_refused_and_nothing_is_queued() {
    if shared().is_none() {
        return;
    }
    let e = env();
    let svc = e.start();
    let body = e.push_payload(SHA1, "full");
    let wrong = autograder::server::signature::sign(b"not the secret", &body);
    assert_eq!(e.send(&svc, "push", "d-1", &body, Some(wrong)).0, 401);
    assert_eq!(e.send(&svc, "push", "d-2", &body, None).0, 401);
    // Only the legacy SHA-1 header: not trusted.
    let legacy = e.rt.block_on(async {
        e.client
            .post(format!("{}/webhook", svc.url))
            .header("X-GitHub-Event", "push")
            .header("X-GitHub-Delivery", "d-3")
            .header("X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567")
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(legacy, 401);
    // A signature over different bytes (the body changed in transit) is refused too.
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let sig = autograder::server::signature::sign(SECRET.as_bytes(), &body);
    assert_eq!(e.send(&svc, "push", "d-4", &tampered, Some(sig)).0, 401);
    std::thread::sleep(Duration::from_millis(500));
    let metrics = e.metrics(&svc);
    assert!(
        metrics.contains("autograder_deliveries_total{event=\"unknown\",outcome=\"bad-signature\"} 4"),
        "{metrics}"
    );
    assert!(!metrics.contains("autograder_jobs{"), "nothing queued: {metrics}");
    assert!(e.fake.lock().unwrap().requests.is_empty());
}

#[test]
fn duplicates_are_graded_once_and_deletions_and_tags_are_ignored() {
    if shared().is_none() {
        return;
    }
    let e = env();
    let svc = e.start();
    let body = e.push_payload(SHA1, "full");
    assert_eq!(e.signed(&svc, "push", "d-1", &body).0, 202);
    let (status, text) = e.signed(&svc, "push", "d-1", &body);
    assert_eq!((status, text.as_str()), (200, "already received"));
    // The same body under a fresh delivery id (the id is not covered by the signature).
    let (status, text) = e.signed(&svc, "push", "d-1-replayed", &body);
    assert_eq!(status, 200, "{text}");
    assert!(text.starts_with("already queued"), "{text}");
    // A ref deletion and a tag, from the real payloads.
    let shared = shared().unwrap();
    for (file, delivery) in [
        ("push/payload.json", "d-tag-delete"),
        ("push/with-organization.payload.json", "d-org-tag"),
    ] {
        let text = std::fs::read_to_string(shared.join("github/payloads").join(file)).unwrap();
        let mut p: Value = serde_json::from_str(&text).unwrap();
        p["repository"]["name"] = json!(REPO);
        p["repository"]["owner"]["login"] = json!(ORG);
        let b = serde_json::to_vec(&p).unwrap();
        let (status, text) = e.signed(&svc, "push", delivery, &b);
        assert_eq!((status, text.as_str()), (202, "nothing to grade"), "{file}");
    }
    // A tag push that is not a deletion.
    let mut p: Value = serde_json::from_slice(&body).unwrap();
    p["ref"] = json!("refs/tags/v1.0");
    p["after"] = json!(SHA2);
    let (status, text) = e.signed(&svc, "push", "d-tag", &serde_json::to_vec(&p).unwrap());
    assert_eq!((status, text.as_str()), (202, "nothing to grade"));
    // Classroom's own set-up push.
    p["ref"] = json!("refs/heads/master");
    p["sender"]["login"] = json!("github-classroom[bot]");
    let (status, text) = e.signed(&svc, "push", "d-classroom", &serde_json::to_vec(&p).unwrap());
    assert_eq!((status, text.as_str()), (202, "nothing to grade"));
    // A ping is answered.
    let ping = std::fs::read(shared.join("github/payloads/ping/with-app_id.payload.json")).unwrap();
    assert_eq!(e.signed(&svc, "ping", "d-ping", &ping).0, 200);
    e.wait_for("the check run", WAIT, |f| f.check_runs.len() == 1);
    std::thread::sleep(Duration::from_secs(2));
    let f = e.fake.lock().unwrap();
    assert_eq!(f.check_runs.len(), 1, "graded once");
    assert_eq!(f.comments.len(), 1);
}

#[test]
fn a_job_survives_the_service_being_killed_mid_way() {
    if shared().is_none() {
        return;
    }
    let e = env();
    e.fake.lock().unwrap().tarball_delay = 3;
    let mut svc = e.start();
    let body = e.push_payload(SHA1, "full");
    assert_eq!(e.signed(&svc, "push", "d-1", &body).0, 202);
    e.wait_for("the tarball request", WAIT, |f| {
        f.requests.iter().any(|r| r.contains("/tarball/"))
    });
    // SIGKILL: no clean-up, no goodbye.
    svc.child.kill().unwrap();
    svc.child.wait().unwrap();
    e.fake.lock().unwrap().tarball_delay = 0;
    let _svc2 = e.start();
    e.wait_for("the job to finish after the restart", WAIT, |f| {
        f.check_runs.len() == 1 && f.comments.len() == 1
    });
    std::thread::sleep(Duration::from_secs(3));
    let f = e.fake.lock().unwrap();
    assert_eq!(f.check_runs.len(), 1, "exactly one check run");
    assert_eq!(f.comments.len(), 1, "exactly one comment");
    let _ = &svc.dir;
}

#[test]
fn github_failures_are_retried_then_parked_and_the_student_told() {
    if shared().is_none() {
        return;
    }
    let e = env();
    {
        let mut f = e.fake.lock().unwrap();
        // 502 once on creating the check run, then a secondary rate limit on the comment.
        f.faults.push(("/check-runs".into(), "POST".into(), 502, None, 1));
        f.faults
            .push(("/issues/comments".into(), "POST".into(), 403, Some(1), 1));
    }
    let svc = e.start();
    let body = e.push_payload(SHA1, "full");
    assert_eq!(e.signed(&svc, "push", "d-1", &body).0, 202);
    e.wait_for("the check run after retries", WAIT, |f| {
        f.check_runs.len() == 1 && f.comments.len() == 1
    });
    {
        let f = e.fake.lock().unwrap();
        assert_eq!(f.check_runs[0]["conclusion"], "success");
        assert!(f.faults.iter().all(|x| x.4 == 0), "both faults were hit");
    }
    // A commit whose tarball never comes: every attempt fails; the job is parked, the student told.
    e.fake
        .lock()
        .unwrap()
        .faults
        .push(("/tarball/".into(), "GET".into(), 500, None, 100));
    let body2 = e.push_payload(SHA2, "partial");
    assert_eq!(e.signed(&svc, "push", "d-2", &body2).0, 202);
    e.wait_for("the failure notice", WAIT, |f| {
        f.comments.len() == 1
            && f.comments[0]["body"]
                .as_str()
                .unwrap()
                .contains("Grading failed on the grader's side")
    });
    e.wait_for("a neutral check run", WAIT, |f| {
        f.check_runs
            .iter()
            .any(|c| c["head_sha"] == SHA2 && c["conclusion"] == "neutral")
    });
    let tarball_tries = e
        .fake
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| r.contains(&format!("/tarball/{SHA2}")))
        .count();
    assert_eq!(tarball_tries, 3, "max_attempts: 3");
    let metrics = e.metrics(&svc);
    assert!(metrics.contains("autograder_jobs{state=\"failed\"} 1"), "{metrics}");
}
