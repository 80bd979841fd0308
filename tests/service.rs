//! The webhook service end to end: the real `autograder serve` on port 0 with a fresh database,
//! GitHub faked at the HTTP level, real payloads from `../shared/github/payloads/` signed with a
//! test secret.

mod common;
use common::*;

use autograder::github::fake::{self, Fake, Shared};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "test-webhook-secret";
const ORG: &str = "phys398";
const REPO: &str = "z-boson-alice-smith";

// ---- the service under test ------------------------------------------------------------------

struct Service {
    child: Child,
    url: String,
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
    let fake_url = fake::start(&rt, fake.clone());
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
        Service { child, url }
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
        let tar = fake::tarball_of(&submission("z-boson", submission_name), sha, ORG, REPO);
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
    // GitHub is back; the instructor regrades failed jobs: the same check run gets the grade.
    e.fake.lock().unwrap().faults.clear();
    let out = autograder()
        .arg("regrade")
        .arg("--config")
        .arg(e.dir.path().join("config.yaml"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1 failed jobs queued again"
    );
    e.wait_for("the regraded check run", WAIT, |f| {
        f.check_runs
            .iter()
            .any(|c| c["head_sha"] == SHA2 && c["conclusion"] == "failure")
    });
    let f = e.fake.lock().unwrap();
    assert_eq!(
        f.check_runs.iter().filter(|c| c["head_sha"] == SHA2).count(),
        1,
        "updated in place"
    );
    assert!(
        !f.comments[0]["body"].as_str().unwrap().contains("Grading failed"),
        "the notice is replaced by the grade"
    );
}

#[test]
fn a_newer_push_supersedes_an_older_one_still_queued() {
    if shared().is_none() {
        return;
    }
    let e = env();
    // The worker is busy fetching the first commit while two more pushes arrive.
    e.fake.lock().unwrap().tarball_delay = 2;
    let svc = e.start();
    const SHA3: &str = "3333333333333333333333333333333333333333";
    assert_eq!(e.signed(&svc, "push", "d-1", &e.push_payload(SHA1, "full")).0, 202);
    e.wait_for("the first tarball request", WAIT, |f| {
        f.requests.iter().any(|r| r.contains("/tarball/"))
    });
    assert_eq!(e.signed(&svc, "push", "d-2", &e.push_payload(SHA2, "partial")).0, 202);
    assert_eq!(e.signed(&svc, "push", "d-3", &e.push_payload(SHA3, "full")).0, 202);
    e.wait_for("check runs for the first and the last commit", WAIT, |f| {
        f.check_runs.len() == 2
    });
    std::thread::sleep(Duration::from_secs(3));
    let f = e.fake.lock().unwrap();
    let shas: Vec<&str> = f.check_runs.iter().map(|c| c["head_sha"].as_str().unwrap()).collect();
    assert_eq!(shas, vec![SHA1, SHA3], "the middle push was superseded, never graded");
    assert!(!f.requests.iter().any(|r| r.contains(SHA2)));
    drop(f);
    let metrics = e.metrics(&svc);
    assert!(metrics.contains("autograder_jobs{state=\"superseded\"} 1"), "{metrics}");
    assert!(metrics.contains("autograder_jobs{state=\"done\"} 2"), "{metrics}");
}

#[test]
fn pushes_from_a_deleted_installation_are_not_graded_until_it_returns() {
    let Some(shared) = shared() else { return };
    let e = env();
    let svc = e.start();
    let load = |file: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(shared.join("github/payloads/installation").join(file)).unwrap())
            .unwrap()
    };
    let mut deleted = load("deleted.payload.json");
    deleted["installation"]["id"] = json!(77);
    assert_eq!(
        e.signed(&svc, "installation", "i-1", &serde_json::to_vec(&deleted).unwrap())
            .0,
        202
    );
    let (status, text) = e.signed(&svc, "push", "d-1", &e.push_payload(SHA1, "full"));
    assert_eq!((status, text.as_str()), (202, "nothing to grade"));
    let mut created = load("created.payload.json");
    created["installation"]["id"] = json!(77);
    assert_eq!(
        e.signed(&svc, "installation", "i-2", &serde_json::to_vec(&created).unwrap())
            .0,
        202
    );
    assert_eq!(e.signed(&svc, "push", "d-2", &e.push_payload(SHA2, "full")).0, 202);
    e.wait_for("the check run", WAIT, |f| f.check_runs.len() == 1);
    assert_eq!(e.fake.lock().unwrap().check_runs[0]["head_sha"], SHA2);
}

#[test]
fn the_rerun_button_grades_the_commit_again_under_a_new_check_run() {
    let Some(shared) = shared() else { return };
    let e = env();
    let svc = e.start();
    assert_eq!(e.signed(&svc, "push", "d-1", &e.push_payload(SHA1, "full")).0, 202);
    e.wait_for("the first check run", WAIT, |f| f.check_runs.len() == 1);
    for (event, file, delivery, runs) in [
        ("check_run", "check_run/rerequested.payload.json", "r-1", 2),
        ("check_suite", "check_suite/rerequested.payload.json", "r-2", 3),
    ] {
        let text = std::fs::read_to_string(shared.join("github/payloads").join(file)).unwrap();
        let mut p: Value = serde_json::from_str(&text).unwrap();
        p[event]["head_sha"] = json!(SHA1);
        p["repository"]["name"] = json!(REPO);
        p["repository"]["owner"]["login"] = json!(ORG);
        p["installation"]["id"] = json!(77);
        let body = serde_json::to_vec(&p).unwrap();
        let (status, text) = e.signed(&svc, event, delivery, &body);
        assert_eq!(status, 202, "{text}");
        assert!(text.starts_with("queued job"), "{text}");
        // Redelivered: acknowledged, not run again.
        assert_eq!(e.signed(&svc, event, delivery, &body).0, 200);
        e.wait_for("a new check run for the same commit", WAIT, |f| {
            f.check_runs.len() == runs
        });
    }
    std::thread::sleep(Duration::from_secs(1));
    let f = e.fake.lock().unwrap();
    assert_eq!(f.check_runs.len(), 3);
    assert!(
        f.check_runs
            .iter()
            .all(|c| c["head_sha"] == SHA1 && c["conclusion"] == "success")
    );
    let ids: Vec<&str> = f
        .check_runs
        .iter()
        .map(|c| c["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["1", "1.2", "1.3"]);
    assert_eq!(f.comments.len(), 1, "still one comment, edited in place");
}

/// A push to a repository of a container-backend assignment goes the same way: the service
/// connects to Docker at start-up and grades the commit in containers.
#[test]
fn a_push_to_a_container_assignment_is_graded_in_containers() {
    if shared().is_none() || !docker_ready() {
        return;
    }
    let e = env();
    let specs = e.dir.path().join("specs/z-fit");
    copy_dir(&example("z-fit"), &specs);
    std::fs::remove_dir_all(specs.join("submissions")).unwrap();
    let svc = e.start();
    let mut body: Value = serde_json::from_slice(&e.push_payload(SHA1, "full")).unwrap();
    let repo = "z-fit-alice-smith";
    body["repository"]["name"] = json!(repo);
    body["repository"]["full_name"] = json!(format!("{ORG}/{repo}"));
    let tar = fake::tarball_of(&submission("z-fit", "full"), SHA1, ORG, repo);
    e.fake.lock().unwrap().tarballs.insert(SHA1.to_string(), tar);
    let (status, text) = e.signed(&svc, "push", "d-fit", &serde_json::to_vec(&body).unwrap());
    assert_eq!(status, 202, "{text}");
    e.wait_for("the check run", WAIT, |f| {
        f.check_runs.len() == 1 && f.comments.len() == 1
    });
    let f = e.fake.lock().unwrap();
    assert_eq!(f.check_runs[0]["name"], "autograder / z-fit");
    assert_eq!(f.check_runs[0]["conclusion"], "success", "{}", f.check_runs[0]);
    let comment = f.comments[0]["body"].as_str().unwrap();
    assert!(comment.starts_with("<!-- autograder:z-fit -->"), "{comment}");
    assert!(!comment.contains("error"), "{comment}");
}
