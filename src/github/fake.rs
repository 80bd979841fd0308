//! A fake GitHub at the HTTP level, for the service's tests and benchmarks: installation
//! tokens, tarballs (with GitHub's redirect), pull requests, comments and check runs, with
//! injectable failures. It records what it was asked. Not used by the service itself.

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the fake GitHub holds and has seen.
#[derive(Default)]
pub struct Fake {
    /// Tarballs by commit SHA (gzipped tar with GitHub's top-level folder).
    pub tarballs: HashMap<String, Vec<u8>>,
    pub comments: Vec<Value>,
    pub check_runs: Vec<Value>,
    /// Forced answers: (path substring, method, status, retry-after, times left).
    pub faults: Vec<(String, String, u16, Option<u64>, usize)>,
    /// Seconds the tarball endpoint waits before answering.
    pub tarball_delay: u64,
    pub requests: Vec<String>,
    pub tokens_issued: usize,
}

pub type Shared = Arc<Mutex<Fake>>;

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

/// Serves the fake on a free loopback port from `rt`; returns its base URL.
pub fn start(rt: &tokio::runtime::Runtime, fake: Shared) -> String {
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
pub fn tarball_of(dir: &Path, sha: &str, owner: &str, repo: &str) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all(format!("{owner}-{repo}-{}", &sha[..7.min(sha.len())]), dir)
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap()
}
