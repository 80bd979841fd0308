//! The backend contract: one spec, run on the wasm backend and on the container backend, must
//! give every test the same status, points and feedback (tracebacks aside: the Python versions
//! differ). Each case is also checked against what it should be, so that two backends that are
//! wrong the same way do not pass.

mod common;
use common::*;
use serde_json::Value;

const SPEC: &str = r#"version: 1
assignment: {id: contract, title: Contract, classroom_prefix: contract}
sandbox:
  SANDBOX
  env: {COURSE: phys398}
  limits: {wall_time: 10s, cpu_time: 2s, memory: 256MiB, output: 4KiB, scratch: 1MiB}
tests:
  - name: standard input and environment
    kind: output
    points: 1
    run: {script: echo.py, stdin: "quiet please\n"}
    expect: {exact: "QUIET PLEASE phys398"}
  - name: reads its input file
    kind: output
    points: 1
    run: {script: total.py, args: [/inputs/numbers.csv]}
    inputs: [public/numbers.csv]
    expect: {numeric: {value: 10.5, abs_tol: 1.0e-9}}
  - name: function cases
    kind: function
    points: 4
    module: funcs
    function: double
    compare: {numeric: {abs_tol: 1.0e-9}}
    cases:
      - {args: [2], expect: 4}
      - {args: [3], expect: 7}
      - {args: [-1], expect: -2}
      - {args: [99], expect: 198}
      - {args: [1.5], kwargs: {scale: 3}, expect: 4.5}
  - name: in-process checks
    kind: in_process
    points: 3
    file: private/test_funcs.py
  - name: metric from a written file
    kind: metric
    points: 2
    run: {script: predict.py, args: [/scratch/pred.csv]}
    predictions: {file: /scratch/pred.csv, format: csv, field: y}
    truth: {file: private/truth.csv, column: y}
    metric: rmse
    score: {ramp: {zero_at: 1.0, full_at: 0.1}}
  - name: output file is a link
    kind: metric
    points: 1
    run: {script: link.py}
    predictions: {file: /scratch/pred.csv, format: csv, field: y}
    truth: {file: private/truth.csv, column: y}
    metric: rmse
    score: {threshold: {max: 0.5}}
  - name: exits early
    kind: output
    points: 1
    run: {script: early.py}
    expect: {exact: never}
  - name: spins forever
    kind: output
    points: 1
    run: {script: spin.py}
    expect: {exact: never}
  - name: floods its output
    kind: output
    points: 1
    run: {script: flood.py}
    expect: {exact: never}
  - name: fills the scratch folder
    kind: output
    points: 1
    run: {script: fill.py}
    expect: {exact: never}
  - name: missing module
    kind: function
    points: 1
    module: nowhere
    function: f
    cases: [{args: [], expect: 1}]
"#;

const SUBMISSION: &[(&str, &str)] = &[
    (
        "echo.py",
        "import os, sys\nprint(sys.stdin.read().strip().upper(), os.environ['COURSE'])\n",
    ),
    (
        "total.py",
        "import csv, sys\nwith open(sys.argv[1]) as f:\n    print(sum(float(r['x']) for r in csv.DictReader(f)))\n",
    ),
    (
        "funcs.py",
        "class Anything:\n    def __eq__(self, other):\n        return True\n\n\ndef double(x, scale=2):\n    if x < 0:\n        raise ValueError('negative input')\n    if x == 99:\n        return Anything()\n    return x * scale\n",
    ),
    (
        "predict.py",
        "import sys\nwith open(sys.argv[1], 'w') as f:\n    f.write('y\\n1.1\\n2.1\\n2.9\\n')\n",
    ),
    (
        "link.py",
        "import os\nwith open('/scratch/answer.csv', 'w') as f:\n    f.write('y\\n1\\n2\\n3\\n')\nos.symlink('answer.csv', '/scratch/pred.csv')\n",
    ),
    ("early.py", "import sys\nprint('bye')\nsys.exit(3)\n"),
    ("spin.py", "while True:\n    pass\n"),
    ("flood.py", "while True:\n    print('x' * 100)\n"),
    (
        "fill.py",
        "chunk = b'x' * 65536\nwith open('/scratch/big', 'wb') as f:\n    for _ in range(64):\n        f.write(chunk)\n        f.flush()\nprint('never')\n",
    ),
];

const SPEC_FILES: &[(&str, &str)] = &[
    ("public/numbers.csv", "x\n1.5\n2\n7\n"),
    ("private/truth.csv", "y\n1\n2\n3\n"),
    (
        "private/test_funcs.py",
        "import unittest\nfrom funcs import double\n\n\nclass Doubling(unittest.TestCase):\n    def test_small(self):\n        self.assertEqual(double(1), 2)\n\n    def test_wrong_on_purpose(self):\n        self.assertEqual(double(2), 5)\n\n\ndef test_scale():\n    assert double(2, scale=5) == 10\n",
    ),
];

/// Grades the contract submission on one backend.
fn run(sandbox: &str) -> Graded {
    let spec = tempfile::tempdir().unwrap();
    write_files(spec.path(), &[("spec.yaml", &SPEC.replace("SANDBOX", sandbox))]);
    write_files(spec.path(), SPEC_FILES);
    let sub = tempfile::tempdir().unwrap();
    write_files(sub.path(), SUBMISSION);
    grade(spec.path(), sub.path(), &[])
}

/// What must agree between backends: per test, status, points and feedback without tracebacks.
fn contract_view(g: &Graded) -> Vec<Value> {
    g.json["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let feedback: Vec<Value> = t["feedback"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    let text = f.as_str().unwrap_or_default();
                    // A traceback's wording differs between Python versions; its last line is kept.
                    match text.find("Traceback") {
                        Some(_) => Value::String(text.lines().last().unwrap_or_default().trim().to_string()),
                        None => f.clone(),
                    }
                })
                .collect();
            // Where a limit cut a run off, the output ends at a different byte on each backend.
            let cut = t["status"] == "error" || t["status"] == "timeout";
            let output = if cut { Value::Null } else { t["output"].clone() };
            serde_json::json!({
                "name": t["name"], "status": t["status"], "points": t["points"],
                "feedback": feedback, "output": output, "metric": t["metric"],
            })
        })
        .collect()
}

#[test]
fn both_backends_grade_the_same_submission_the_same_way() {
    if !docker_ready() {
        return;
    }
    let wasm = run("backend: wasm");
    let container = run(&format!("backend: container\n  image: {COURSE_IMAGE}"));
    assert_eq!(wasm.code, container.code, "{}\n{}", wasm.markdown, container.markdown);
    let (w, c) = (contract_view(&wasm), contract_view(&container));
    for (a, b) in w.iter().zip(&c) {
        assert_eq!(
            a, b,
            "wasm and container differ:\n{}\n---\n{}",
            wasm.markdown, container.markdown
        );
    }
    assert_eq!(w.len(), c.len());

    // And both are right.
    let g = &container;
    let status = |name: &str| g.test(name)["status"].as_str().unwrap().to_string();
    let points = |name: &str| g.test(name)["points"].as_f64().unwrap();
    assert_eq!(status("standard input and environment"), "passed", "{}", g.markdown);
    assert_eq!(status("reads its input file"), "passed", "{}", g.markdown);
    // 2 of 5 cases pass: a wrong value, a raise and an always-equal object do not.
    assert!(
        (points("function cases") - 4.0 * 2.0 / 5.0).abs() < 1e-9,
        "{}",
        g.markdown
    );
    assert!((points("in-process checks") - 2.0).abs() < 1e-9, "{}", g.markdown);
    let metric = g.test("metric from a written file");
    let rmse = metric["metric"]["value"].as_f64().unwrap();
    assert!((rmse - (0.03f64 / 3.0).sqrt()).abs() < 1e-9, "{metric}");
    assert_eq!(status("output file is a link"), "failed", "{}", g.markdown);
    assert!(g.markdown.contains("is a link"), "{}", g.markdown);
    assert_eq!(status("exits early"), "error", "{}", g.markdown);
    assert!(g.markdown.contains("exited with code 3"), "{}", g.markdown);
    assert_eq!(status("spins forever"), "timeout", "{}", g.markdown);
    assert!(g.markdown.contains("CPU time limit exceeded"), "{}", g.markdown);
    assert_eq!(status("floods its output"), "error", "{}", g.markdown);
    assert!(g.markdown.contains("output limit exceeded"), "{}", g.markdown);
    assert_eq!(status("fills the scratch folder"), "error", "{}", g.markdown);
    assert!(g.markdown.contains("disk limit exceeded"), "{}", g.markdown);
    assert_eq!(status("missing module"), "error", "{}", g.markdown);
    assert!(g.markdown.contains("ModuleNotFoundError"), "{}", g.markdown);
}
