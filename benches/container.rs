//! Benchmark (not a timed test): per-run overhead of the container backend next to the wasm
//! backend, the same runs through the Docker CLI for comparison, and grading the z-fit example.
//! Needs a running Docker daemon and the course image (sandbox/container/build-image.sh).
//! Run with `cargo bench --bench container`; figures go into BENCHMARKS.md.
//!
//! Medians over repeated runs, because machines here are noisy.

use autograder::assignment::Assignment;
use autograder::grading;
use autograder::sandbox::{Call, RunRequest, RunStatus, Sandboxes, Target};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const IMAGE: &str = "autograder-course:bookworm";
const RUNS: usize = 21;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn program(sub: &Path, script: &str, target: Target) -> RunRequest {
    RunRequest {
        submission: sub.to_path_buf(),
        inputs: Vec::new(),
        call: Call::Program {
            script: Some(script.into()),
            module: None,
            args: vec![],
        },
        stdin: Vec::new(),
        env: Default::default(),
        limits: Default::default(),
        collect: Vec::new(),
        target,
        job: "bench".into(),
    }
}

/// Medians of sequential runs of `req`, after one warm-up run.
fn time_runs(rt: &tokio::runtime::Runtime, sandboxes: &Sandboxes, req: &RunRequest) -> Duration {
    let first = rt.block_on(sandboxes.run(req));
    assert_eq!(
        first.status,
        RunStatus::Completed,
        "{:?}",
        String::from_utf8_lossy(&first.stderr)
    );
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let out = rt.block_on(sandboxes.run(req));
        times.push(t.elapsed());
        assert_eq!(out.status, RunStatus::Completed);
    }
    median(times)
}

/// The same work with `docker run` and the backend's hardening flags, for comparison.
fn time_cli(sub: &Path, code: &str) -> Duration {
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let status = std::process::Command::new("docker")
            .args([
                "run",
                "--rm",
                "-i",
                "--init",
                "--network",
                "none",
                "--cap-drop",
                "ALL",
                "--security-opt",
                "no-new-privileges:true",
                "--read-only",
                "--user",
                "65534:65534",
                "--pids-limit",
                "64",
                "--memory",
                "256m",
                "--memory-swap",
                "256m",
                "--ipc",
                "private",
                "--log-driver",
                "none",
                "--tmpfs",
                "/scratch:size=17m,uid=65534,gid=65534",
                "--tmpfs",
                "/tmp:size=17m,uid=65534,gid=65534",
                "-v",
            ])
            .arg(format!("{}:/submission:ro", sub.display()))
            .args(["-w", "/submission", IMAGE, "python3", "-I", "-c", code])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("docker");
        times.push(t.elapsed());
        assert!(status.success());
    }
    median(times)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let sandboxes = Sandboxes::new(work.path().to_path_buf());
    let sub = tempfile::tempdir().unwrap();
    std::fs::write(sub.path().join("trivial.py"), "pass\n").unwrap();
    std::fs::write(
        sub.path().join("numpy_sum.py"),
        "import numpy\nprint(numpy.arange(10).sum())\n",
    )
    .unwrap();
    std::fs::write(sub.path().join("scipy_fit.py"), "import scipy.optimize\n").unwrap();
    let container = Target::Container {
        image: IMAGE.into(),
        mounts: Vec::new(),
    };
    let t = Instant::now();
    rt.block_on(sandboxes.prepare(&container))
        .expect("Docker and the course image");
    println!("container backend: connect and negotiate {}", ms(t.elapsed()));
    rt.block_on(sandboxes.prepare(&Target::Wasm)).expect("wasm runtime");

    let wasm = time_runs(&rt, &sandboxes, &program(sub.path(), "trivial.py", Target::Wasm));
    println!("wasm: trivial program, median of {RUNS}: {}", ms(wasm));
    for (script, code) in [
        ("trivial.py", "pass"),
        ("numpy_sum.py", "import numpy; print(numpy.arange(10).sum())"),
        ("scipy_fit.py", "import scipy.optimize"),
    ] {
        let api = time_runs(&rt, &sandboxes, &program(sub.path(), script, container.clone()));
        let cli = time_cli(sub.path(), code);
        println!(
            "container: {script}, median of {RUNS}: API {} | docker run CLI {} | API/CLI {:.2}",
            ms(api),
            ms(cli),
            api.as_secs_f64() / cli.as_secs_f64()
        );
    }

    // Eight runs at once (a grading with parallel tests, or several jobs).
    let req = program(sub.path(), "numpy_sum.py", container.clone());
    let mut rounds = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let outs = rt.block_on(async {
            let runs: Vec<_> = (0..8).map(|_| sandboxes.run(&req)).collect();
            futures_util::future::join_all(runs).await
        });
        rounds.push(t.elapsed());
        assert!(outs.iter().all(|o| o.status == RunStatus::Completed));
    }
    println!(
        "container: 8 numpy runs at once, median of 5 rounds: {}",
        ms(median(rounds))
    );

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("grading-specs/z-fit");
    let assignment = Arc::new(Assignment::load(&dir).expect("z-fit spec"));
    let sandboxes = Arc::new(sandboxes);
    let mut grades = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let result = rt.block_on(grading::grade(
            assignment.clone(),
            &dir.join("submissions/full"),
            sandboxes.clone(),
            2,
            "bench",
        ));
        grades.push(t.elapsed());
        let (earned, max) = result.totals();
        assert_eq!(earned, max, "z-fit full marks");
    }
    println!(
        "z-fit: grade the full submission ({} tests, 2 at a time), median of 7: {}",
        assignment.parsed.spec.tests.len(),
        ms(median(grades))
    );
}
