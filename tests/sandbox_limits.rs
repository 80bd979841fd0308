//! Attacks from the catalogue in `../shared/reference/sandboxing.md`, each one contained: disk
//! filling, sleeping forever, output links to host files, deep recursion, and the environment.

mod common;
use common::*;

const SPEC: &str = r#"version: 1
assignment: {id: limits, title: Limits, classroom_prefix: limits}
sandbox:
  env: {COURSE: phys398}
  limits: {wall_time: 2s, cpu_time: 1s, scratch: 2MiB, output: 16KiB}
tests:
  - name: fills the disk
    kind: output
    points: 1
    run: {script: disk.py}
    expect: {exact: done}
  - name: sleeps forever
    kind: output
    points: 1
    run: {script: sleep.py}
    expect: {exact: done}
  - name: output is a link
    kind: output
    points: 1
    run: {script: link.py}
    output_file: /scratch/out.txt
    expect: {exact: "secret answer 42"}
  - name: recurses forever
    kind: output
    points: 1
    run: {script: recurse.py}
    expect: {exact: done}
  - name: sees only the spec's environment
    kind: output
    points: 1
    run: {script: env.py}
    expect: {exact: "{'COURSE': 'phys398'}"}
  - name: reads standard input
    kind: output
    points: 1
    run: {script: shout.py, stdin: "quiet please\n"}
    expect: {exact: "QUIET PLEASE"}
"#;

fn setup() -> (tempfile::TempDir, tempfile::TempDir) {
    let spec = tempfile::tempdir().unwrap();
    std::fs::write(spec.path().join("spec.yaml"), SPEC).unwrap();
    let sub = tempfile::tempdir().unwrap();
    let files = [
        (
            "disk.py",
            "chunk = b'x' * (1 << 20)\nwith open('/scratch/big', 'wb') as f:\n    for _ in range(500):\n        f.write(chunk)\n        f.flush()\nprint('done')\n",
        ),
        ("sleep.py", "import time\ntime.sleep(10_000)\nprint('done')\n"),
        (
            "link.py",
            "import os\nos.symlink('../submission/answer.txt', '/scratch/out.txt')\n",
        ),
        ("answer.txt", "secret answer 42\n"),
        (
            "recurse.py",
            "def f(n):\n    return f(n + 1) + 1\nf(0)\nprint('done')\n",
        ),
        ("env.py", "import os\nprint(dict(os.environ))\n"),
        ("shout.py", "import sys\nprint(sys.stdin.read().strip().upper())\n"),
    ];
    for (name, text) in files {
        std::fs::write(sub.path().join(name), text).unwrap();
    }
    (spec, sub)
}

#[test]
fn attacks_are_contained_and_honest_programs_pass() {
    let (spec, sub) = setup();
    let g = grade(spec.path(), sub.path(), &[]);
    assert_eq!(g.code, 1, "{}\n{}", g.markdown, g.stderr);

    let disk = g.test("fills the disk");
    assert_eq!(disk["status"], "error", "{disk}");
    assert!(
        disk["feedback"][0].as_str().unwrap().contains("disk limit exceeded"),
        "{disk}"
    );

    // A sleeping guest is cut off by the wall clock (it holds no worker while it sleeps).
    let sleep = g.test("sleeps forever");
    assert_eq!(sleep["status"], "timeout", "{sleep}");
    assert!(sleep["duration_ms"].as_u64().unwrap() < 3_000, "{sleep}");

    // The host never follows a link the program left as its output.
    let link = g.test("output is a link");
    assert_ne!(link["status"], "passed", "{link}");
    assert!(!g.markdown.contains("secret answer 42"), "{}", g.markdown);

    let recurse = g.test("recurses forever");
    assert_eq!(recurse["status"], "error", "{recurse}");
    assert!(
        g.markdown.contains("RecursionError") || g.markdown.contains("crashed"),
        "{}",
        g.markdown
    );

    assert_eq!(
        g.test("sees only the spec's environment")["status"],
        "passed",
        "{}",
        g.markdown
    );
    assert_eq!(g.test("reads standard input")["status"], "passed", "{}", g.markdown);
}

/// Findings of a hostile review, each now contained.
const REVIEW_SPEC: &str = r#"version: 1
assignment: {id: review, title: Review, classroom_prefix: review}
sandbox:
  limits: {wall_time: 4s, cpu_time: 2s, scratch: 4MiB}
tests:
  - name: deeply nested data
    kind: output
    points: 1
    run: {script: nest.py}
    expect: {exact: done}
  - name: file descriptor exhaustion
    kind: output
    points: 1
    run: {script: fds.py}
    expect: {exact: done}
  - name: quota hidden behind long paths
    kind: output
    points: 1
    run: {script: longpath.py}
    expect: {exact: done}
  - name: hidden input in an exception
    kind: output
    points: 1
    run: {script: leak.py, args: [/inputs/secret.csv]}
    inputs: [private/secret.csv]
    expect: {exact: done}
  - name: oversized response
    kind: function
    points: 1
    module: bloat
    function: f
    cases: [{args: [], expect: 1}]
  - name: forged in-process counts
    kind: in_process
    points: 1
    file: private/test_two.py
  - name: an honest program still passes
    kind: output
    points: 1
    run: {script: honest.py}
    expect: {exact: done}
"#;

fn review_setup() -> (tempfile::TempDir, tempfile::TempDir) {
    let spec = tempfile::tempdir().unwrap();
    std::fs::write(spec.path().join("spec.yaml"), REVIEW_SPEC).unwrap();
    std::fs::create_dir(spec.path().join("private")).unwrap();
    std::fs::write(spec.path().join("private/secret.csv"), "label\nTOPSECRET-4242\n").unwrap();
    std::fs::write(
        spec.path().join("private/test_two.py"),
        "import forge\n\ndef test_one():\n    assert False\n\ndef test_two():\n    assert False\n",
    )
    .unwrap();
    let sub = tempfile::tempdir().unwrap();
    let files = [
        (
            "nest.py",
            "x = []\nfor _ in range(20000):\n    x = [x]\nprint(len(repr(x)))\n",
        ),
        (
            "fds.py",
            "held = []\ntry:\n    while True:\n        held.append(open('/scratch/x', 'w'))\nexcept OSError as e:\n    print('stopped after', len(held), type(e).__name__)\n",
        ),
        (
            "longpath.py",
            "import os\nfd = os.open('/scratch', os.O_RDONLY | os.O_DIRECTORY)\nfor i in range(20):\n    os.mkdir('d' * 250, dir_fd=fd)\n    fd = os.open('d' * 250, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)\nblob = b'x' * (1 << 20)\nfor i in range(64):\n    f = os.open('b%d' % i, os.O_WRONLY | os.O_CREAT, dir_fd=fd)\n    os.write(f, blob)\n    os.close(f)\nprint('done')\n",
        ),
        (
            "leak.py",
            "import sys\nraise Exception('LEAK ' + open(sys.argv[1]).read())\n",
        ),
        (
            "bloat.py",
            "import grader_harness\n\ndef fake(resp, **kw):\n    return '{\"nonce\":\"%s\",\"outcome\":\"ok\",\"cases\":[{\"value\":[%s0]}]}' % (resp['nonce'], '0,' * 3_000_000)\n\ngrader_harness._json_dumps = fake\n\ndef f():\n    return 1\n",
        ),
        (
            "forge.py",
            "import grader_harness\nreal = grader_harness._json_dumps\n\ndef fake(resp, **kw):\n    resp['tests'] = [{'name': 'test_%d' % i, 'outcome': 'passed'} for i in range(1000)]\n    return real(resp, **kw)\n\ngrader_harness._json_dumps = fake\n",
        ),
        ("honest.py", "print('done')\n"),
    ];
    for (name, text) in files {
        std::fs::write(sub.path().join(name), text).unwrap();
    }
    (spec, sub)
}

#[test]
fn hostile_review_findings_are_contained() {
    let (spec, sub) = review_setup();
    let g = grade(spec.path(), sub.path(), &["--jobs", "2"]);
    // The grader itself survives everything below and reports normally.
    assert_eq!(g.code, 1, "{}\n{}", g.markdown, g.stderr);

    let nest = g.test("deeply nested data");
    assert_ne!(nest["status"], "grader-error", "{nest}");

    // Descriptors are capped per run: the run fails on its own, the others are unaffected.
    let fds = g.test("file descriptor exhaustion");
    assert_eq!(fds["status"], "error", "{fds}");
    assert!(fds["feedback"][0].as_str().unwrap().contains("open files"), "{fds}");
    assert_eq!(
        g.test("an honest program still passes")["status"],
        "passed",
        "{}",
        g.markdown
    );

    let long = g.test("quota hidden behind long paths");
    assert_eq!(long["status"], "error", "{long}");
    assert!(
        long["feedback"][0].as_str().unwrap().contains("disk limit exceeded"),
        "{long}"
    );

    // Text the student's code raised in a run that saw hidden inputs is never shown.
    let leak = g.test("hidden input in an exception");
    assert_eq!(leak["status"], "error", "{leak}");
    assert!(!g.markdown.contains("TOPSECRET"), "{}", g.markdown);
    assert!(!g.json.to_string().contains("TOPSECRET"));

    let bloat = g.test("oversized response");
    assert_eq!(bloat["status"], "error", "{bloat}");
    assert!(
        bloat["feedback"][0].as_str().unwrap().contains("more than 4 MiB"),
        "{bloat}"
    );

    // In-process counts come from the test file, not from the run's claims.
    let forged = g.test("forged in-process counts");
    assert_eq!(forged["points"], 0.0, "{forged}");
    assert_eq!(forged["feedback"][0], "0 of 2 checks passed", "{forged}");
}

#[test]
fn a_submission_over_the_caps_is_the_students_error() {
    let (spec, sub) = setup();
    let mut deep = sub.path().to_path_buf();
    for _ in 0..40 {
        deep.push("d");
    }
    std::fs::create_dir_all(&deep).unwrap();
    let g = grade(spec.path(), sub.path(), &[]);
    assert_eq!(
        g.code, 1,
        "not exit 3: nothing here is the grader's fault\n{}",
        g.markdown
    );
    for t in g.json["tests"].as_array().unwrap() {
        assert_eq!(t["status"], "error", "{t}");
        assert!(
            t["feedback"][0]
                .as_str()
                .unwrap()
                .contains("nests folders more than 32 deep"),
            "{t}"
        );
    }
}

/// An exit code is chosen by the program: with hidden inputs it could carry their bytes, so the
/// report does not show it.
#[test]
fn exit_codes_of_runs_with_hidden_inputs_are_not_shown() {
    let spec = tempfile::tempdir().unwrap();
    std::fs::write(
        spec.path().join("spec.yaml"),
        "version: 1\nassignment: {id: x, title: X, classroom_prefix: x}\ntests:\n  - name: leaks through the exit code\n    kind: output\n    points: 1\n    visibility: visible\n    run: {script: leak.py, args: [/inputs/secret.txt]}\n    inputs: [private/secret.txt]\n    expect: {exact: done}\n  - name: public exit code\n    kind: output\n    points: 1\n    visibility: visible\n    run: {script: leak.py, args: [/submission/public.txt]}\n    expect: {exact: done}\n",
    )
    .unwrap();
    std::fs::create_dir(spec.path().join("private")).unwrap();
    std::fs::write(spec.path().join("private/secret.txt"), "HIDDEN").unwrap();
    let sub = tempfile::tempdir().unwrap();
    std::fs::write(
        sub.path().join("leak.py"),
        "import sys\nsys.exit(int.from_bytes(open(sys.argv[1], 'rb').read()[:6], 'big'))\n",
    )
    .unwrap();
    std::fs::write(sub.path().join("public.txt"), "\x01").unwrap();
    let g = grade(spec.path(), sub.path(), &[]);
    let leaked = u64::from_be_bytes([0, 0, b'H', b'I', b'D', b'D', b'E', b'N']).to_string();
    assert!(!g.markdown.contains(&leaked), "{}", g.markdown);
    assert!(
        g.test("leaks through the exit code")["feedback"]
            .to_string()
            .contains("the code is hidden")
    );
    // Without hidden inputs the code is the student's to see.
    assert!(
        g.test("public exit code")["feedback"]
            .to_string()
            .contains("exited with code 1"),
        "{}",
        g.markdown
    );
}

/// A predictions file without the column the spec names says so, even when the run saw hidden
/// inputs: the column's name is the spec's, not data. Output of such a run is withheld, visibly.
#[test]
fn a_missing_predictions_column_is_named() {
    let spec = tempfile::tempdir().unwrap();
    std::fs::write(
        spec.path().join("spec.yaml"),
        "version: 1\nassignment: {id: x, title: X, classroom_prefix: x}\ntests:\n  - name: scores\n    kind: metric\n    points: 1\n    visibility: visible\n    run: {script: predict.py}\n    inputs: [private/features.csv]\n    predictions: {file: /scratch/p.csv, format: csv, field: score}\n    truth: {file: private/labels.csv, column: label}\n    metric: roc_auc\n    score: {threshold: {min: 0.5}}\n",
    )
    .unwrap();
    std::fs::create_dir(spec.path().join("private")).unwrap();
    std::fs::write(spec.path().join("private/features.csv"), "x\n1\n2\n").unwrap();
    std::fs::write(spec.path().join("private/labels.csv"), "label\n0\n1\n").unwrap();
    let sub = tempfile::tempdir().unwrap();
    std::fs::write(
        sub.path().join("predict.py"),
        "print('secret row:', open('/inputs/features.csv').read())\nopen('/scratch/p.csv', 'w').write('prob\\n0.1\\n0.9\\n')\n",
    )
    .unwrap();
    let g = grade(spec.path(), sub.path(), &[]);
    let feedback = g.test("scores")["feedback"].to_string();
    assert!(feedback.contains("has no column `score`"), "{}", g.markdown);
    // What it printed could hold the hidden input: it is withheld, and the report says so.
    assert!(feedback.contains("output is not shown"), "{}", g.markdown);
    assert!(!g.markdown.contains("secret row"), "{}", g.markdown);
}

/// Tests that run the same program the same way share one run: they judge one output (here a
/// random token, which two runs would not repeat), and a different argument gets its own run.
#[test]
fn tests_of_the_same_run_share_it() {
    let spec = tempfile::tempdir().unwrap();
    let test = |name: &str, arg: &str| {
        format!(
            "  - name: {name}\n    kind: output\n    points: 1\n    run: {{script: token.py, args: [{arg}]}}\n    expect: {{contains: token}}\n"
        )
    };
    let text = format!(
        "version: 1\nassignment: {{id: x, title: X, classroom_prefix: x}}\ntests:\n{}{}{}",
        test("first", "a"),
        test("second", "a"),
        test("other argument", "b")
    );
    std::fs::write(spec.path().join("spec.yaml"), text).unwrap();
    let sub = tempfile::tempdir().unwrap();
    std::fs::write(
        sub.path().join("token.py"),
        "import os\nprint('token', os.urandom(8).hex())\n",
    )
    .unwrap();
    let g = grade(spec.path(), sub.path(), &[]);
    let output = |name: &str| g.test(name)["output"].as_str().unwrap().to_string();
    assert!(output("first").starts_with("token "), "{}", g.markdown);
    assert_eq!(output("first"), output("second"));
    assert_ne!(output("first"), output("other argument"));
}
