//! Benchmark (not a timed test): per-run sandbox overhead, cold and warm, and the time to grade
//! each example. Run with `cargo bench --bench sandbox`; figures go into BENCHMARKS.md.
//!
//! Medians over repeated runs, because machines here are noisy.

use autograder::assignment::Assignment;
use autograder::datum::Datum;
use autograder::grading;
use autograder::sandbox::wasm::WasmSandbox;
use autograder::sandbox::{Call, RunRequest, RunStatus, Sandboxes, Target};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn request(sub: &Path, call: Call) -> RunRequest {
    RunRequest {
        submission: sub.to_path_buf(),
        inputs: Vec::new(),
        call,
        stdin: Vec::new(),
        env: Default::default(),
        limits: Default::default(),
        collect: Vec::new(),
        target: Target::Wasm,
        job: "bench".into(),
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let sub = tempfile::tempdir().unwrap();
    std::fs::write(sub.path().join("trivial.py"), "pass\n").unwrap();
    std::fs::write(sub.path().join("square.py"), "def square(x):\n    return x * x\n").unwrap();

    // Cold: loading the cached, precompiled component and the first run.
    let t = Instant::now();
    let sandbox = Arc::new(WasmSandbox::new(work.path().to_path_buf()).expect("sandbox"));
    let load = t.elapsed();
    let program = request(
        sub.path(),
        Call::Program {
            script: Some("trivial.py".into()),
            module: None,
            args: vec![],
        },
    );
    let t = Instant::now();
    let first = rt.block_on(sandbox.run(&program));
    let first_run = t.elapsed();
    assert_eq!(first.status, RunStatus::Completed);
    println!(
        "cold: sandbox load (cached compiled component) {}, first run {}",
        ms(load),
        ms(first_run)
    );

    // Warm: one run = copy of the submission, fresh store, instantiate from the snapshot, call.
    let n = 300;
    let mut runs = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let out = rt.block_on(sandbox.run(&program));
        runs.push(t.elapsed());
        assert_eq!(out.status, RunStatus::Completed);
    }
    println!(
        "warm: trivial program, {n} runs: median {}, p90 {}, min {}",
        ms(median(runs.clone())),
        ms(pct(runs.clone(), 0.9)),
        ms(*runs.iter().min().unwrap())
    );
    let call = request(
        sub.path(),
        Call::Functions {
            module: "square".into(),
            function: "square".into(),
            cases: vec![(vec![Datum::Int(12)], Default::default())],
        },
    );
    let mut calls = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let out = rt.block_on(sandbox.run(&call));
        calls.push(t.elapsed());
        assert_eq!(out.status, RunStatus::Completed);
    }
    println!(
        "warm: one function call, {n} runs: median {}, p90 {}",
        ms(median(calls.clone())),
        ms(pct(calls, 0.9))
    );

    // The work Otter-Grader was timed on (BENCHMARKS.md): one test, two cases of invariant_mass.
    let otter_like = tempfile::tempdir().unwrap();
    std::fs::write(
        otter_like.path().join("spec.yaml"),
        "version: 1
assignment: {id: otter-like, title: Two cases, classroom_prefix: otter-like}
tests:
  - name: invariant mass
    kind: function
    points: 2
    module: zboson
    function: invariant_mass
    compare: {numeric: {abs_tol: 1.0e-6}}
    cases:
      - {args: [45.594, 0, 0, 45.594, 45.594, 0, 0, -45.594], expect: 91.188}
      - {args: [10, 0, 0, 10, 20, 0, 0, 20], expect: 0.0}
",
    )
    .unwrap();
    let z_full = root().join("grading-specs/z-boson/submissions/full");
    let mut process = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_autograder"))
            .arg("grade")
            .arg(otter_like.path())
            .arg(&z_full)
            .output()
            .unwrap();
        process.push(t.elapsed());
        assert_eq!(out.status.code(), Some(0));
    }
    println!(
        "grade two-case function test (Otter's work), whole process: median {}",
        ms(median(process))
    );

    // Grading each example's full-marks submission (sandbox already loaded), and the whole
    // process as a user runs it.
    let sandboxes = Arc::new(Sandboxes::new(work.path().to_path_buf()));
    rt.block_on(sandboxes.prepare(&Target::Wasm)).expect("wasm sandbox");
    for (name, tests) in [("z-boson", "full"), ("signal-background", "full")] {
        let dir = root().join("grading-specs").join(name);
        let submission = dir.join("submissions").join(tests);
        let assignment = Arc::new(Assignment::load(&dir).expect("example spec"));
        let count = assignment.parsed.spec.tests.len();
        let mut grades = Vec::new();
        for _ in 0..15 {
            let t = Instant::now();
            let result = rt.block_on(grading::grade(
                assignment.clone(),
                &submission,
                sandboxes.clone(),
                2,
                "bench",
            ));
            grades.push(t.elapsed());
            let (earned, max) = result.totals();
            assert_eq!(earned, max, "{name} full marks");
        }
        let mut process = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_autograder"))
                .arg("grade")
                .arg(&dir)
                .arg(&submission)
                .output()
                .unwrap();
            process.push(t.elapsed());
            assert_eq!(out.status.code(), Some(0));
        }
        let g = median(grades);
        println!(
            "grade {name}/{tests} ({count} tests, 2 at a time): in-process median {}, whole process median {}",
            ms(g),
            ms(median(process))
        );
    }
}
