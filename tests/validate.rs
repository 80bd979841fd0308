//! `autograder validate` on broken specs: each problem is reported as file:line:column with
//! what to do, and the exit code is 2.

mod common;
use common::*;
use std::path::Path;

fn validate(dir: &Path) -> (i32, String) {
    let out = autograder().arg("validate").arg(dir).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `spec` into a fresh assignment folder with the given extra files.
fn assignment(spec: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spec.yaml"), spec).unwrap();
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const HEAD: &str = "version: 1
assignment:
  id: demo
  title: Demo
  classroom_prefix: demo
tests:
";

#[test]
fn examples_validate_cleanly() {
    for name in ["z-boson", "signal-background"] {
        let (code, err) = validate(&example(name));
        assert_eq!(code, 0, "{name}: {err}");
    }
}

#[test]
fn unknown_field_names_line_column_and_fix() {
    let spec = format!(
        "{HEAD}  - name: t\n    kind: function\n    pointz: 3\n    points: 1\n    module: m\n    function: f\n    cases: [{{args: [1], expect: 1}}]\n"
    );
    let dir = assignment(&spec, &[]);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("spec.yaml:9:5:"), "{err}");
    assert!(err.contains("unknown field `pointz`"), "{err}");
    assert!(err.contains("remove it or fix its spelling"), "{err}");
}

#[test]
fn inverted_ramp_is_refused() {
    let spec = format!(
        "{HEAD}  - name: auc\n    kind: metric\n    points: 1\n    run: {{script: c.py}}\n    predictions: {{file: /scratch/p.csv, format: csv, field: score}}\n    truth: {{file: private/labels.csv, column: label}}\n    metric: roc_auc\n    score:\n      ramp: {{zero_at: 0.9, full_at: 0.6}}\n"
    );
    let dir = assignment(&spec, &[("private/labels.csv", "label\n0\n1\n")]);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("spec.yaml:15:7:"), "{err}");
    assert!(err.contains("inverted") && err.contains("swap them"), "{err}");
}

#[test]
fn private_folder_problems_are_reported() {
    let spec = format!(
        "{HEAD}  - name: auc\n    kind: metric\n    points: 1\n    run: {{script: c.py}}\n    predictions: {{file: /scratch/p.csv, format: csv, field: score}}\n    truth: {{file: private/labels.csv, column: label}}\n    metric: roc_auc\n    score: {{threshold: {{min: 0.7}}}}\n  - name: cases\n    kind: function\n    points: 1\n    module: m\n    function: f\n    cases_file: private/missing.json\n"
    );
    let dir = assignment(&spec, &[("private/labels.csv", "label\n1\n1\n1\n")]);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("one class only"), "{err}");
    assert!(err.contains("spec.yaml:12:5:"), "{err}");
    assert!(err.contains("private/missing.json` does not exist"), "{err}");
    assert!(err.contains("spec.yaml:20:5:"), "{err}");
}

#[test]
fn empty_truth_and_bad_values_are_spec_errors() {
    let spec = format!(
        "{HEAD}  - name: rmse\n    kind: metric\n    points: 1\n    run: {{script: c.py}}\n    predictions: {{file: /scratch/p.csv, format: csv, field: y}}\n    truth: {{file: private/y.csv, column: y}}\n    metric: rmse\n    score: {{threshold: {{max: 1}}}}\n"
    );
    let dir = assignment(&spec, &[("private/y.csv", "y\n")]);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("no rows"), "{err}");
}

#[test]
fn container_backend_without_image_and_bad_due_date_are_explained() {
    let spec = "version: 1\nassignment:\n  id: demo\n  title: Demo\n  classroom_prefix: demo\n  due: next friday\nsandbox:\n  backend: container\ntests:\n  - name: t\n    kind: output\n    points: 1\n    run: {script: a.py}\n    expect: {exact: hi}\n";
    let dir = assignment(spec, &[]);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("spec.yaml:7:") && err.contains("needs `image:`"), "{err}");
    assert!(err.contains("spec.yaml:6:3:") && err.contains("RFC 3339"), "{err}");
}

#[test]
fn container_mounts_and_limits_are_checked() {
    let spec = "version: 1\nassignment:\n  id: demo\n  title: Demo\n  classroom_prefix: demo\nsandbox:\n  backend: container\n  image: course:1\n  limits: {cpus: 0, processes: 2}\n  mounts:\n    - {source: private, target: /data}\n    - {source: public, target: /scratch/data}\n    - {source: /nonexistent-course-data, target: /data2}\n    - {source: public, target: ../x}\n    - {source: public, target: /usr/share/data}\ntests:\n  - name: t\n    kind: output\n    points: 1\n    run: {script: a.py}\n    expect: {exact: hi}\n";
    let dir = assignment(spec, &[("private/x.csv", "a\n1\n"), ("public/y.csv", "a\n1\n")]);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    for (line, text) in [
        ("9:", "sandbox.limits.cpus"),
        ("9:", "sandbox.limits.processes"),
        ("11:", "hidden files"),
        ("12:", "the run's own folders"),
        ("13:", "does not exist"),
        ("14:", "absolute, plain path"),
        ("15:", "part of the image's system"),
    ] {
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("spec.yaml:{line}")) && l.contains(text)),
            "{text} at line {line}:\n{err}"
        );
    }
}

#[test]
fn container_only_fields_are_refused_on_wasm() {
    let spec = "version: 1\nassignment:\n  id: demo\n  title: Demo\n  classroom_prefix: demo\nsandbox:\n  image: course:1\n  limits: {cpus: 2}\ntests:\n  - name: t\n    kind: output\n    points: 1\n    run: {script: a.py}\n    expect: {exact: hi}\n";
    let dir = assignment(spec, &[]);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("spec.yaml:7:") && err.contains("only for `backend: container`"),
        "{err}"
    );
    assert!(
        err.contains("spec.yaml:8:") && err.contains("`cpus` is only for"),
        "{err}"
    );
}

#[test]
fn yaml_syntax_errors_have_positions() {
    let dir = assignment("version: 1\nassignment: [unclosed\n", &[]);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("spec.yaml:"), "{err}");
    let pos = err.split("spec.yaml:").nth(1).unwrap();
    assert!(
        pos.chars().next().unwrap().is_ascii_digit(),
        "a line number follows the file: {err}"
    );
}

#[test]
fn grade_refuses_a_broken_spec_with_exit_2() {
    let dir = assignment(
        &format!(
            "{HEAD}  - name: x\n    kind: output\n    points: -1\n    run: {{script: a.py}}\n    expect: {{exact: hi}}\n"
        ),
        &[],
    );
    let sub = tempfile::tempdir().unwrap();
    let out = autograder()
        .arg("grade")
        .arg(dir.path())
        .arg(sub.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("points must be a number of at least 0"));
}

#[test]
fn a_misspelled_field_inside_a_test_is_located_exactly() {
    let spec = format!(
        "{HEAD}  - name: t\n    kind: function\n    points: 1\n    module: m\n    function: f\n    compare: {{ numeric: {{ abs_tool: 1.0e-6 }} }}\n    cases: [{{args: [1], expect: 1}}]\n"
    );
    let dir = assignment(&spec, &[]);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("spec.yaml:12:27: `tests[0].compare.numeric.abs_tool`"),
        "{err}"
    );
}

#[test]
fn text_and_private_folder_problems_are_reported_together() {
    let spec = format!(
        "{HEAD}  - name: t\n    kind: function\n    points: -1\n    module: m\n    function: f\n    cases_file: private/missing.json\n"
    );
    let dir = assignment(&spec, &[]);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("points must be a number of at least 0"), "{err}");
    assert!(err.contains("private/missing.json` does not exist"), "{err}");
}

#[test]
fn a_spec_given_by_its_bare_file_name_resolves_against_the_current_folder() {
    let data = tempfile::tempdir().unwrap();
    let spec = format!(
        "version: 1\nassignment: {{id: demo, title: Demo, classroom_prefix: demo}}\nsandbox:\n  backend: container\n  image: course:1\n  mounts: [{{source: {}, target: /data}}]\ntests:\n  - name: t\n    kind: output\n    points: 1\n    run: {{script: a.py}}\n    expect: {{exact: hi}}\n",
        data.path().display()
    );
    let dir = assignment(&spec, &[]);
    let out = autograder()
        .args(["validate", "spec.yaml"])
        .current_dir(dir.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("image `course:1` was not checked"), "{err}");
}
