//! Benchmark (not a timed test) of the webhook service: the answer latency of `POST /webhook`
//! under load (50 concurrent senders, 2,000 signed deliveries, durable writes on), and the
//! push-to-comment latency against the local fake GitHub for the Z example.
//! Run with `cargo bench --bench webhook`; figures go into BENCHMARKS.md.

use autograder::github::fake::{self, Shared};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "bench-secret";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "submissions" {
                copy_dir(&e.path(), &to.join(e.file_name()));
            }
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

struct Service(Child, String);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, fake_url: &str) -> Service {
    let _ = std::fs::remove_dir_all(dir);
    copy_dir(&root().join("grading-specs/z-boson"), &dir.join("specs/z-boson"));
    let ok = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(dir.join("app.pem"))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::write(
        dir.join("config.yaml"),
        format!(
            "listen: 127.0.0.1:0\ngithub: {{api_url: {fake_url}, app_id: 1, private_key_file: app.pem}}\norganisations: [phys398]\nspecs_dir: specs\ndatabase_url: sqlite://state.db\ndata_dir: data\nworkers: 1\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_autograder"))
        .args(["serve", "--config"])
        .arg(dir.join("config.yaml"))
        .env("AUTOGRADER_WEBHOOK_SECRETS", SECRET)
        .env("AUTOGRADER_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("autograder listening on ")
        .unwrap()
        .to_string();
    Service(child, url)
}

fn payload(base: &Value, sha: &str, repo: &str) -> Vec<u8> {
    let mut p = base.clone();
    p["after"] = json!(sha);
    p["repository"]["name"] = json!(repo);
    p["repository"]["owner"]["login"] = json!("phys398");
    p["installation"]["id"] = json!(7);
    serde_json::to_vec(&p).unwrap()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let shared = root().join("../shared/github/payloads/push/with-new-branch.payload.json");
    let Ok(text) = std::fs::read_to_string(&shared) else {
        eprintln!("skipping: ../shared/github/payloads is not beside this clone");
        return;
    };
    let base: Value = serde_json::from_str(&text).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let fake: Shared = Arc::default();
    let fake_url = fake::start(&rt, fake.clone());
    let work = tempfile::tempdir().unwrap();
    let sub = root().join("grading-specs/z-boson/submissions/full");

    // Phase 1: answer latency. The worker is kept waiting on a slow tarball so that grading does
    // not compete for the two cores: this measures the webhook path alone.
    fake.lock().unwrap().tarball_delay = 3600;
    let svc = start(&work.path().join("load"), &fake_url);
    let total = 2000usize;
    let senders = 50usize;
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..total)
            .map(|i| {
                payload(
                    &base,
                    &format!("{:040x}", i + 1),
                    &format!("z-boson-student{}", i % 200),
                )
            })
            .collect(),
    );
    // Signed in advance: the sender's own CPU work stays out of the measured answers.
    let signatures: Arc<Vec<String>> = Arc::new(
        bodies
            .iter()
            .map(|b| autograder::server::signature::sign(SECRET.as_bytes(), b))
            .collect(),
    );
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut lat: Vec<Duration> = rt.block_on(async {
        let mut tasks = Vec::new();
        for s in 0..senders {
            let (client, bodies, signatures, url) = (client.clone(), bodies.clone(), signatures.clone(), svc.1.clone());
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                for i in (s..total).step_by(senders) {
                    let body = &bodies[i];
                    let sig = signatures[i].clone();
                    let t = Instant::now();
                    let resp = client
                        .post(format!("{url}/webhook"))
                        .header("X-GitHub-Event", "push")
                        .header("X-GitHub-Delivery", format!("bench-{i}"))
                        .header("X-Hub-Signature-256", sig)
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    let status = resp.status().as_u16();
                    resp.bytes().await.unwrap();
                    out.push(t.elapsed());
                    assert_eq!(status, 202, "delivery {i}");
                }
                out
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let wall = started.elapsed();
    lat.sort();
    let metrics = rt.block_on(async {
        client
            .get(format!("{}/metrics", svc.1))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let queued = metrics
        .lines()
        .find(|l| l.starts_with("autograder_deliveries_total{event=\"push\",outcome=\"queued\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    println!(
        "webhook answers: {total} deliveries, {senders} senders: p50 {}, p99 {}, max {}; {:.0} deliveries/s; stored {queued} of {total}",
        ms(pct(&lat, 0.5)),
        ms(pct(&lat, 0.99)),
        ms(*lat.last().unwrap()),
        total as f64 / wall.as_secs_f64()
    );
    assert_eq!(queued, total, "nothing lost");
    drop(svc);

    // Phase 2: push to comment, one push at a time, the Z example's full-marks submission.
    fake.lock().unwrap().tarball_delay = 0;
    let svc = start(&work.path().join("latency"), &fake_url);
    let mut times = Vec::new();
    for i in 0..9 {
        let sha = format!("{:040x}", 0xabc000 + i);
        let tar = fake::tarball_of(&sub, &sha, "phys398", "z-boson-alice");
        fake.lock().unwrap().tarballs.insert(sha.clone(), tar);
        let before = fake.lock().unwrap().check_runs.len();
        let body = payload(&base, &sha, "z-boson-alice");
        let sig = autograder::server::signature::sign(SECRET.as_bytes(), &body);
        let t = Instant::now();
        let status = rt.block_on(async {
            client
                .post(format!("{}/webhook", svc.1))
                .header("X-GitHub-Event", "push")
                .header("X-GitHub-Delivery", format!("latency-{i}"))
                .header("X-Hub-Signature-256", sig)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
        assert_eq!(status, 202);
        while fake.lock().unwrap().check_runs.len() == before {
            std::thread::sleep(Duration::from_millis(2));
            assert!(t.elapsed() < Duration::from_secs(60), "no check run");
        }
        times.push(t.elapsed());
    }
    let first = times[0];
    let mut warm = times[1..].to_vec();
    warm.sort();
    println!(
        "push to comment and check run: first {} (token, spec load), then median {} over {} pushes (min {}, max {})",
        ms(first),
        ms(pct(&warm, 0.5)),
        warm.len(),
        ms(warm[0]),
        ms(*warm.last().unwrap())
    );
    assert_eq!(fake.lock().unwrap().comments.len(), 1, "one comment, edited in place");
}
