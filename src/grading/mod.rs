//! Grades a submission against an assignment: builds one sandbox request per test, runs them
//! (in parallel up to a limit), and scores each on the host with `score`.

pub mod compare;
pub mod score;

use crate::assignment::Assignment;
use crate::sandbox::{Call, RunOutcome, RunRequest};
use crate::sandbox::{Sandboxes, Target};
use crate::spec::{Runtime, TestSpec, Visibility};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Passed,
    Failed,
    /// The student's code failed: crashed, raised, hit a limit, or could not be imported.
    Error,
    /// The student's code ran out of time (wall clock or CPU).
    Timeout,
    /// The grader failed; never scored as the student's zero.
    GraderError,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MetricValue {
    pub name: String,
    #[serde(serialize_with = "finite_or_string")]
    pub value: f64,
}

fn finite_or_string<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else {
        s.serialize_str(&v.to_string())
    }
}

/// The host's verdict on one test, before visibility rules are applied.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub name: String,
    pub kind: String,
    pub visibility: Visibility,
    pub points: f64,
    pub max_points: f64,
    pub status: Status,
    pub duration_ms: u64,
    /// Ran next to the student's code (not tamper-proof).
    pub in_process: bool,
    /// The run saw hidden inputs, so its output is never shown.
    pub hidden_inputs: bool,
    pub feedback: Vec<String>,
    pub output: Option<String>,
    pub metric: Option<MetricValue>,
    /// For the instructor's logs; never shown to students.
    pub grader_error: Option<String>,
}

/// Everything the grader concluded about one submission.
#[derive(Debug, Clone, Serialize)]
pub struct GradeResult {
    pub assignment: String,
    pub title: String,
    pub spec_version: String,
    pub passing_mark: f64,
    pub tests: Vec<TestResult>,
}

impl GradeResult {
    /// Earned and maximum points over every test, hidden ones included, grader errors left out.
    pub fn totals(&self) -> (f64, f64) {
        let counted = self.tests.iter().filter(|t| t.status != Status::GraderError);
        counted.fold((0.0, 0.0), |(e, m), t| (e + t.points, m + t.max_points))
    }
    pub fn incomplete(&self) -> bool {
        self.tests.iter().any(|t| t.status == Status::GraderError)
    }
    pub fn passed(&self) -> bool {
        let (earned, max) = self.totals();
        max == 0.0 || earned / max * 100.0 + 1e-9 >= self.passing_mark
    }
}

/// The result when the submission itself cannot be graded (too large, too deep, an archive that
/// does not unpack): every test is the student's error with `why`, nothing runs.
pub fn reject_all(assignment: &Assignment, why: &str) -> GradeResult {
    let run = RunOutcome::ended(crate::sandbox::RunStatus::SubmissionRejected(why.to_string()));
    let tests = assignment
        .parsed
        .spec
        .tests
        .iter()
        .enumerate()
        .map(|(i, test)| score::score(test, &assignment.data[i], &run, &assignment.parsed.limits))
        .collect();
    grade_result(assignment, tests)
}

fn grade_result(assignment: &Assignment, tests: Vec<TestResult>) -> GradeResult {
    let info = &assignment.parsed.spec.assignment;
    GradeResult {
        assignment: info.id.clone(),
        title: info.title.clone(),
        spec_version: assignment.version.clone(),
        passing_mark: info.passing_mark,
        tests,
    }
}

/// Whether two requests of one assignment run the same program the same way (what they read
/// back aside), so that one run serves both. Environment, limits and backend are the
/// assignment's, the same for every test.
fn same_run(a: &RunRequest, b: &RunRequest) -> bool {
    a.call == b.call && a.inputs == b.inputs && a.stdin == b.stdin
}

/// The backend an assignment's runs go to.
pub fn target(assignment: &Assignment) -> Target {
    let sandbox = &assignment.parsed.spec.sandbox;
    match sandbox.backend {
        crate::spec::Backend::Wasm => Target::Wasm,
        crate::spec::Backend::Container => Target::Container {
            image: sandbox.image.clone().unwrap_or_default(),
            mounts: assignment.mounts.clone(),
        },
    }
}

/// Builds the sandbox request for one test.
fn request(assignment: &Assignment, index: usize, submission: &Path, job: &str) -> RunRequest {
    let parsed = &assignment.parsed;
    let sandbox = &parsed.spec.sandbox;
    let data = &assignment.data[index];
    let mut collect = Vec::new();
    let mut stdin = Vec::new();
    let program = |run: &crate::spec::RunSpec| match sandbox.runtime {
        Runtime::Python => Call::Program {
            script: run.script.clone(),
            module: run.module.clone(),
            args: run.args.clone(),
        },
        Runtime::Wasm => Call::WasmProgram {
            path: sandbox.program.clone().unwrap_or_default(),
            args: run.args.clone(),
        },
    };
    let call = match &parsed.spec.tests[index] {
        TestSpec::Output(t) => {
            stdin = t.run.stdin.clone().unwrap_or_default().into_bytes();
            collect.extend(t.output_file.clone());
            program(&t.run)
        }
        TestSpec::Metric(t) => {
            stdin = t.run.stdin.clone().unwrap_or_default().into_bytes();
            collect.push(t.predictions.file.clone());
            program(&t.run)
        }
        TestSpec::Function(t) => Call::Functions {
            module: t.module.clone(),
            function: t.function.clone(),
            cases: data.cases.iter().map(|c| (c.args.clone(), c.kwargs.clone())).collect(),
        },
        TestSpec::InProcess(_) => {
            let (filename, source) = data.test_source.clone().unwrap_or_default();
            Call::Tests { source, filename }
        }
    };
    RunRequest {
        submission: submission.to_path_buf(),
        inputs: data.inputs.clone(),
        call,
        stdin,
        env: sandbox.env.clone(),
        limits: parsed.limits,
        collect,
        target: target(assignment),
        job: job.to_string(),
    }
}

/// Grades `submission` (a folder) with every test of `assignment`, at most `jobs` at a time.
/// `job` names the work in sandbox labels and logs (a queue job id, or `grade`).
pub async fn grade(
    assignment: Arc<Assignment>,
    submission: &Path,
    sandbox: Arc<Sandboxes>,
    jobs: usize,
    job: &str,
) -> GradeResult {
    let limit = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut handles = Vec::new();
    // A submission over the caps is the student's to fix: every test says so, nothing runs.
    if let Err(why) = crate::sandbox::workdir::check_submission(submission) {
        return reject_all(&assignment, &why);
    }
    // Tests that run the same program the same way (same call, inputs, stdin and environment;
    // typically several metrics of one output) share one run: each container run costs a few
    // hundred milliseconds, and the tests then judge one and the same output.
    let mut requests: Vec<RunRequest> = Vec::new();
    let mut run_of_test = Vec::new();
    for index in 0..assignment.parsed.spec.tests.len() {
        let req = request(&assignment, index, submission, job);
        let shared = matches!(req.call, Call::Program { .. } | Call::WasmProgram { .. })
            .then(|| requests.iter().position(|r| same_run(r, &req)))
            .flatten();
        match shared {
            Some(i) => {
                for path in req.collect {
                    if !requests[i].collect.contains(&path) {
                        requests[i].collect.push(path);
                    }
                }
                run_of_test.push(i);
            }
            None => {
                run_of_test.push(requests.len());
                requests.push(req);
            }
        }
    }
    for req in requests {
        let sandbox = sandbox.clone();
        let limit = limit.clone();
        handles.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            sandbox.run(&req).await
        }));
    }
    let mut runs = Vec::new();
    for handle in handles {
        runs.push(match handle.await {
            Ok(run) => run,
            Err(e) => RunOutcome::grader_error(format!("the run task failed: {e}")),
        });
    }
    let mut tests = Vec::new();
    for (index, run) in run_of_test.into_iter().enumerate() {
        let test = &assignment.parsed.spec.tests[index];
        let result = score::score(test, &assignment.data[index], &runs[run], &assignment.parsed.limits);
        if let Some(why) = &result.grader_error {
            tracing::error!(test.name = %result.name, error = %why, "grader error");
        }
        tests.push(result);
    }
    grade_result(&assignment, tests)
}
