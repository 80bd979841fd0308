//! Helpers shared by the black-box tests: run the real binary on real folders.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn example(name: &str) -> PathBuf {
    root().join("grading-specs").join(name)
}

pub fn submission(assignment: &str, name: &str) -> PathBuf {
    example(assignment).join("submissions").join(name)
}

/// `../shared`, or `None` (with a note) in a clone without it. CI sets
/// `AUTOGRADER_REQUIRE_SHARED=1`, which turns the skip into a failure.
pub fn shared() -> Option<PathBuf> {
    let dir = root().join("..").join("shared");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("AUTOGRADER_REQUIRE_SHARED").is_some() {
        panic!("../shared is missing but AUTOGRADER_REQUIRE_SHARED is set: this test must run");
    }
    eprintln!("skipping: ../shared (real data and payloads) is not beside this clone");
    None
}

pub struct Graded {
    pub code: i32,
    pub markdown: String,
    pub stderr: String,
    pub json: Value,
    pub elapsed: Duration,
}

impl Graded {
    pub fn test(&self, name: &str) -> &Value {
        self.json["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no test named {name}"))
    }
    pub fn total(&self) -> f64 {
        self.json["total"].as_f64().unwrap()
    }
    pub fn max_total(&self) -> f64 {
        self.json["max_total"].as_f64().unwrap()
    }
    pub fn statuses(&self) -> Vec<String> {
        self.json["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["status"].as_str().unwrap().to_string())
            .collect()
    }
}

pub fn autograder() -> Command {
    Command::new(env!("CARGO_BIN_EXE_autograder"))
}

/// Grades a submission with the real binary; `extra` are further arguments.
pub fn grade(assignment: &Path, submission: &Path, extra: &[&str]) -> Graded {
    let out_dir = tempfile::tempdir().unwrap();
    let json_path = out_dir.path().join("result.json");
    let started = Instant::now();
    let out = autograder()
        .arg("grade")
        .arg(assignment)
        .arg(submission)
        .arg("--json")
        .arg(&json_path)
        .args(extra)
        .output()
        .expect("running autograder");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let text = std::fs::read_to_string(&json_path)
        .unwrap_or_else(|_| panic!("no JSON result; exit {:?}; stderr:\n{stderr}", out.status.code()));
    Graded {
        code: out.status.code().unwrap_or(-1),
        markdown: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        json: serde_json::from_str(&text).unwrap(),
        elapsed,
    }
}

/// The JSON result without timings, for comparing runs.
pub fn without_timings(mut v: Value) -> Value {
    if let Some(tests) = v["tests"].as_array_mut() {
        for t in tests {
            t.as_object_mut().unwrap().remove("duration_ms");
        }
    }
    v
}

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The course image the container tests use (built by `sandbox/container/build-image.sh`).
pub const COURSE_IMAGE: &str = "autograder-course:bookworm";

/// Whether Docker answers and holds the course image; otherwise `false` with a note. CI sets
/// `AUTOGRADER_REQUIRE_DOCKER=1`, which turns the skip into a failure: container tests are never
/// skipped in silence there.
pub fn docker_ready() -> bool {
    let ok = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", COURSE_IMAGE])
        .output()
        .map(|o| o.status.success());
    let why = match ok {
        Ok(true) => return true,
        Ok(false) => format!("the Docker daemon is not running or has no {COURSE_IMAGE} image"),
        Err(e) => format!("the docker command is unavailable ({e})"),
    };
    if std::env::var_os("AUTOGRADER_REQUIRE_DOCKER").is_some() {
        panic!("{why}, but AUTOGRADER_REQUIRE_DOCKER is set: this test must run");
    }
    eprintln!("skipping: {why} (see sandbox/container/README.md)");
    false
}

/// Containers this project's sandboxes left on the daemon (all states).
pub fn sandbox_containers() -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-a", "-q", "--filter", "label=autograder.owner"])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Writes `files` (relative path, text) under `dir`.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}
