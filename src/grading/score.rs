//! Turns raw run outcomes into verdicts and points. Pure: no IO, no async.
//!
//! Every verdict is made here, on the host, from data the sandbox returned; nothing the student's
//! code wrote is trusted as a verdict.

use super::compare;
use super::{Status, TestResult};
use crate::assignment::{TestData, Truth};
use crate::datum::Datum;
use crate::metrics::{self, MetricError};
use crate::sandbox::{RunOutcome, RunStatus};
use crate::spec::{
    CaseScoring, Expect, FileFormat, FunctionTest, InProcessTest, Limits, MetricSpec, MetricTest, OutputTest,
    ScoreRule, TestSpec,
};

/// Longest student output kept for feedback (head and tail are kept).
const OUTPUT_KEEP: usize = 2000;
/// At most this many failing cases are described.
const CASES_SHOWN: usize = 5;

/// Scores one test from its run.
pub fn score(test: &TestSpec, data: &TestData, run: &RunOutcome, limits: &Limits) -> TestResult {
    let common = test.common();
    let mut result = TestResult {
        name: common.name.to_string(),
        kind: test.kind().to_string(),
        visibility: common.visibility,
        points: 0.0,
        max_points: common.points,
        status: Status::Failed,
        duration_ms: run.duration.as_millis() as u64,
        in_process: matches!(test, TestSpec::InProcess(_)),
        hidden_inputs: data.hidden_inputs || data.hidden_cases || matches!(test, TestSpec::InProcess(_)),
        feedback: Vec::new(),
        output: None,
        metric: None,
        grader_error: None,
    };
    if !result.hidden_inputs {
        result.output = student_output(run);
    } else if student_output(run).is_some() && !matches!(test, TestSpec::InProcess(_)) {
        result
            .feedback
            .push("your program's output is not shown: this test uses hidden inputs".into());
    }
    match &run.status {
        RunStatus::Completed => {}
        RunStatus::GraderError(why) => {
            result.status = Status::GraderError;
            result.grader_error = Some(why.clone());
            result.feedback.push(run.status.describe(limits));
            return finish(result, common.on_pass, common.on_fail);
        }
        RunStatus::WallTimeout | RunStatus::CpuLimit => {
            result.status = Status::Timeout;
            result.feedback.push(run.status.describe(limits));
            return finish(result, common.on_pass, common.on_fail);
        }
        // A program may end itself with os._exit; its output still counts.
        RunStatus::Exited(_) if matches!(test, TestSpec::Output(_) | TestSpec::Metric(_)) => {}
        // An exit code is chosen by the program, so it can carry bytes of a hidden input.
        RunStatus::Exited(_) if result.hidden_inputs => {
            result.status = Status::Error;
            result.feedback.push(HIDDEN_EXIT.into());
            return finish(result, common.on_pass, common.on_fail);
        }
        other => {
            result.status = Status::Error;
            result.feedback.push(other.describe(limits));
            return finish(result, common.on_pass, common.on_fail);
        }
    }
    match test {
        TestSpec::Output(t) => score_output(t, data, run, &mut result),
        TestSpec::Function(t) => score_function(t, data, run, &mut result),
        TestSpec::InProcess(t) => score_in_process(t, data, run, &mut result),
        TestSpec::Metric(t) => score_metric(t, data, run, &mut result),
    }
    finish(result, common.on_pass, common.on_fail)
}

fn finish(mut r: TestResult, on_pass: Option<&str>, on_fail: Option<&str>) -> TestResult {
    if r.status == Status::Passed {
        r.points = r.max_points;
    }
    if r.status != Status::GraderError {
        let msg = if r.status == Status::Passed { on_pass } else { on_fail };
        if let Some(m) = msg {
            r.feedback.push(m.to_string());
        }
    }
    r
}

fn student_output(run: &RunOutcome) -> Option<String> {
    let mut text = String::from_utf8_lossy(&run.stdout).into_owned();
    let err = String::from_utf8_lossy(&run.stderr);
    if !err.is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&err);
    }
    if text.trim().is_empty() {
        return None;
    }
    Some(truncate_middle(&text, OUTPUT_KEEP))
}

/// Keeps the head and the tail (where tracebacks end) of a long text.
fn truncate_middle(text: &str, keep: usize) -> String {
    let count = text.chars().count();
    if count <= keep {
        return text.to_string();
    }
    let head: String = text.chars().take(keep / 2).collect();
    let tail: String = text.chars().skip(count - keep / 2).collect();
    format!("{head}\n… ({} characters left out) …\n{tail}", count - keep)
}

const HIDDEN_EXIT: &str = "your program exited with a non-zero code (the code is hidden: this test uses hidden inputs)";

/// Whether the program finished normally (exit code 0, no exception); adds feedback if not.
fn program_finished(run: &RunOutcome, r: &mut TestResult) -> bool {
    let code = match (&run.response, run.exit_code) {
        (Some(resp), _) if resp.outcome == "exception" => {
            r.status = Status::Error;
            let text = student_detail(
                r,
                || format!("your program raised {}", last_line(resp.error.as_deref())),
                "your program raised an exception (details are hidden: this test uses hidden inputs)",
            );
            r.feedback.push(text);
            return false;
        }
        (Some(resp), _) => resp.exit_code.unwrap_or(0),
        (None, Some(code)) => i64::from(code),
        (None, None) => {
            r.status = Status::Error;
            r.feedback.push("your program produced no result".into());
            return false;
        }
    };
    if code != 0 {
        r.status = Status::Error;
        let text = student_detail(r, || format!("your program exited with code {code}"), HIDDEN_EXIT);
        r.feedback.push(text);
        return false;
    }
    true
}

/// Text derived from what the student's code printed or raised. A run that saw hidden inputs
/// could have put them into that text, so such runs get the generic sentence instead.
fn student_detail(r: &TestResult, detailed: impl FnOnce() -> String, generic: &str) -> String {
    if r.hidden_inputs {
        generic.to_string()
    } else {
        detailed()
    }
}

fn last_line(traceback: Option<&str>) -> String {
    let line = traceback
        .and_then(|t| t.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("an exception");
    line.chars().take(200).collect()
}

fn score_output(t: &OutputTest, data: &TestData, run: &RunOutcome, r: &mut TestResult) {
    if !program_finished(run, r) {
        return;
    }
    let text = match &t.output_file {
        None => String::from_utf8_lossy(&run.stdout).into_owned(),
        Some(path) => match written_file(run, path, r) {
            Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            None => return,
        },
    };
    let verdict = match &t.expect {
        Expect::Exact(e) => ok_or(compare::same_text(e, &text), "the output is not the expected text"),
        Expect::ExactFile(_) => ok_or(
            compare::same_text(data.expected_text.as_deref().unwrap_or(""), &text),
            "the output is not the expected text",
        ),
        Expect::Contains(e) => ok_or(
            text.contains(e.as_str()),
            "the output does not contain the expected text",
        ),
        Expect::Regex(e) => match regex::Regex::new(e) {
            Ok(re) => ok_or(re.is_match(&text), "the output does not have the expected form"),
            Err(_) => Err("the spec's regex is invalid".into()),
        },
        Expect::Numeric(n) => compare::numeric_output(n, &text),
    };
    match verdict {
        Ok(()) => r.status = Status::Passed,
        Err(why) => {
            r.status = Status::Failed;
            let text = student_detail(r, || why, "the output is not the expected value");
            r.feedback.push(text);
        }
    }
}

/// A file the run wrote, as read back by the sandbox; `None` (with feedback) when it is missing
/// or could not be read safely.
fn written_file<'a>(run: &'a RunOutcome, path: &str, r: &mut TestResult) -> Option<&'a [u8]> {
    match run.files.get(path) {
        Some(Ok(bytes)) => Some(bytes),
        Some(Err(why)) => {
            r.status = Status::Failed;
            r.feedback.push(why.clone());
            None
        }
        None => {
            r.status = Status::Failed;
            r.feedback.push(format!("your program did not write {path}"));
            None
        }
    }
}

fn ok_or(ok: bool, why: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(why.to_string()) }
}

fn call_text(function: &str, args: &[Datum], kwargs: &std::collections::BTreeMap<String, Datum>) -> String {
    let mut inner: Vec<String> = args.iter().map(|a| a.short(30)).collect();
    inner.extend(kwargs.iter().map(|(k, v)| format!("{k}={}", v.short(30))));
    let mut text = format!("{function}({})", inner.join(", "));
    if text.chars().count() > 120 {
        text = format!("{}…)", text.chars().take(118).collect::<String>());
    }
    text
}

fn score_function(t: &FunctionTest, data: &TestData, run: &RunOutcome, r: &mut TestResult) {
    let Some(resp) = &run.response else {
        r.status = Status::Error;
        r.feedback.push("your module produced no result".into());
        return;
    };
    match resp.outcome.as_str() {
        "exit" => {
            r.status = Status::Error;
            r.feedback.push(format!(
                "importing `{}` called sys.exit(); no function could be tested",
                t.module
            ));
            return;
        }
        "exception" => {
            r.status = Status::Error;
            let text = student_detail(
                r,
                || {
                    format!(
                        "`{}` could not be imported: {}",
                        t.module,
                        last_line(resp.error.as_deref())
                    )
                },
                &format!(
                    "`{}` could not be imported (details are hidden: this test uses hidden inputs)",
                    t.module
                ),
            );
            r.feedback.push(text);
            return;
        }
        _ => {}
    }
    let total = data.cases.len();
    let mut passed = 0;
    let mut described = 0;
    let public = !data.hidden_cases;
    for (i, case) in data.cases.iter().enumerate() {
        let verdict = match resp.cases.get(i) {
            None => Err("no result".to_string()),
            Some(entry) => {
                if let Some(v) = entry.get("value") {
                    match Datum::from_wire(v) {
                        Some(got) => compare::compare(&case.expect, &got, &t.compare),
                        None => Err("the returned value could not be read".into()),
                    }
                } else if let Some(u) = entry.get("unplain").and_then(|u| u.as_str()) {
                    Err(format!(
                        "returned {u}, which is not plain data (numbers, strings, lists, dicts)"
                    ))
                } else {
                    let err = entry.get("error").and_then(|e| e.as_str());
                    Err(format!("raised {}", last_line(err)))
                }
            }
        };
        match verdict {
            Ok(()) => passed += 1,
            Err(why) => {
                if described < CASES_SHOWN {
                    let call = if public {
                        call_text(&t.function, &case.args, &case.kwargs)
                    } else {
                        format!("hidden case {}", i + 1)
                    };
                    r.feedback.push(format!("{call}: {why}"));
                }
                described += 1;
            }
        }
    }
    if described > CASES_SHOWN {
        r.feedback
            .push(format!("… and {} more failing cases", described - CASES_SHOWN));
    }
    r.feedback.insert(0, format!("{passed} of {total} cases passed"));
    if public && described == 0 {
        r.feedback.clear();
        r.feedback.push(if total == 1 {
            "the case passed".to_string()
        } else {
            format!("all {total} cases passed")
        });
    }
    // Returned values of hidden cases could reveal hidden inputs: keep only the counts.
    if !public {
        r.feedback.truncate(1);
    }
    grade_cases(r, passed, total, t.scoring);
}

fn grade_cases(r: &mut TestResult, passed: usize, total: usize, scoring: CaseScoring) {
    if total > 0 && passed == total {
        r.status = Status::Passed;
    } else {
        r.status = Status::Failed;
        if scoring == CaseScoring::Proportional && total > 0 {
            r.points = r.max_points * passed as f64 / total as f64;
        }
    }
}

fn score_in_process(t: &InProcessTest, data: &TestData, run: &RunOutcome, r: &mut TestResult) {
    let Some(resp) = &run.response else {
        r.status = Status::Error;
        r.feedback.push("the tests produced no result".into());
        return;
    };
    if resp.outcome == "exit" {
        r.status = Status::Error;
        r.feedback
            .push("your code called sys.exit() while the tests ran".into());
        return;
    }
    if resp.outcome == "exception" || resp.tests.is_empty() {
        r.status = Status::Error;
        r.feedback
            .push("the tests could not run next to your code (does your module import?)".into());
        return;
    }
    // Counts come from the test file the host read, not from what the run claims: names that
    // are not in the file are ignored, and a missing name counts as failed.
    let expected = &data.test_names;
    let passed_names: std::collections::HashSet<&str> = resp
        .tests
        .iter()
        .filter(|o| o.outcome == "passed")
        .map(|o| o.name.as_str())
        .collect();
    let total = expected.len();
    let passed = expected.iter().filter(|n| passed_names.contains(n.as_str())).count();
    r.feedback.push(format!("{passed} of {total} checks passed"));
    grade_cases(r, passed, total, t.scoring);
}

fn score_metric(t: &MetricTest, data: &TestData, run: &RunOutcome, r: &mut TestResult) {
    if !program_finished(run, r) {
        return;
    }
    let Some(bytes) = written_file(run, &t.predictions.file, r) else {
        return;
    };
    let values = match read_predictions(bytes, t.predictions.format, &t.predictions.field) {
        Ok(v) => v,
        Err(why) => {
            r.status = Status::Failed;
            let file = &t.predictions.file;
            // A missing column or field names only what the spec asks for: always safe to say.
            let text = if why.starts_with(MISSING) {
                format!("{file}: {why}")
            } else {
                student_detail(
                    r,
                    || format!("{file}: {why}"),
                    &format!("{file} is not in the expected format"),
                )
            };
            r.feedback.push(text);
            return;
        }
    };
    match compute_metric(&t.metric, &values, data.truth.as_ref()) {
        Ok(value) => {
            r.metric = Some(super::MetricValue {
                name: t.metric.name().to_string(),
                value,
            });
            let fraction = points_fraction(&t.score, value);
            r.points = r.max_points * fraction;
            r.status = if fraction >= 1.0 {
                Status::Passed
            } else {
                Status::Failed
            };
            r.feedback
                .push(format!("{} = {}", t.metric.name(), format_metric(value)));
        }
        Err(MetricError::Student(why)) => {
            r.status = Status::Failed;
            r.feedback.push(why);
        }
        Err(MetricError::Spec(why)) => {
            r.status = Status::GraderError;
            r.grader_error = Some(format!("the spec's truth is unusable: {why}"));
            r.feedback
                .push("the grader could not score this test (not your fault)".into());
        }
    }
}

pub fn format_metric(v: f64) -> String {
    if v.is_infinite() {
        "∞".into()
    } else if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        format!("{v:.4e}")
    } else {
        format!("{v:.4}")
    }
}

/// Maps a metric value to a fraction of the points.
pub fn points_fraction(rule: &ScoreRule, value: f64) -> f64 {
    if value.is_nan() {
        return 0.0;
    }
    match rule {
        ScoreRule::Threshold { min, max } => {
            let ok = min.is_none_or(|m| value >= m) && max.is_none_or(|m| value <= m);
            if ok { 1.0 } else { 0.0 }
        }
        ScoreRule::Ramp { zero_at, full_at } => {
            let f = (value - zero_at) / (full_at - zero_at);
            if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) }
        }
    }
}

/// How a missing column or field is reported (the message holds no data of the file).
const MISSING: &str = "has no ";

/// Reads the student's predictions: a CSV column or a JSON field (a number or a list of numbers).
pub fn read_predictions(bytes: &[u8], format: FileFormat, field: &str) -> Result<Vec<f64>, String> {
    match format {
        FileFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes);
            let headers = reader.headers().map_err(|e| format!("not a CSV file ({e})"))?.clone();
            let col = headers
                .iter()
                .position(|h| h == field)
                .ok_or_else(|| format!("{MISSING}column `{field}`"))?;
            let mut out = Vec::new();
            for (row, rec) in reader.records().enumerate() {
                let rec = rec.map_err(|e| format!("row {row}: {e}"))?;
                let text = rec.get(col).unwrap_or("");
                out.push(text.parse::<f64>().map_err(|_| {
                    format!(
                        "row {row}: `{}` is not a number",
                        text.chars().take(30).collect::<String>()
                    )
                })?);
            }
            Ok(out)
        }
        FileFormat::Json => {
            let value: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e})"))?;
            let v = value.get(field).ok_or_else(|| format!("{MISSING}field `{field}`"))?;
            let number = |x: &serde_json::Value| {
                x.as_f64()
                    .ok_or_else(|| format!("`{field}` must hold numbers, not {x}"))
            };
            match v {
                serde_json::Value::Array(items) => items.iter().map(number).collect(),
                other => Ok(vec![number(other)?]),
            }
        }
    }
}

fn labels(truth: &Truth) -> Vec<bool> {
    truth.values.iter().map(|v| *v == 1.0).collect()
}

fn as_selection(values: &[f64]) -> Result<Vec<bool>, MetricError> {
    values
        .iter()
        .enumerate()
        .map(|(row, v)| match v {
            x if *x == 1.0 => Ok(true),
            x if *x == 0.0 => Ok(false),
            x => Err(MetricError::Student(format!(
                "prediction at row {row} is {x}; write 0 or 1"
            ))),
        })
        .collect()
}

/// Computes a metric from the student's values and the host-held truth.
pub fn compute_metric(metric: &MetricSpec, values: &[f64], truth: Option<&Truth>) -> Result<f64, MetricError> {
    let no_truth = || MetricError::Spec("the metric needs truth and the spec gives none".into());
    let single = || -> Result<f64, MetricError> {
        match values {
            [x] => Ok(*x),
            _ => Err(MetricError::Student(format!(
                "expected one number, got {}",
                values.len()
            ))),
        }
    };
    match metric {
        MetricSpec::RocAuc => metrics::roc_auc(&labels(truth.ok_or_else(no_truth)?), values),
        MetricSpec::Accuracy => {
            let t = truth.ok_or_else(no_truth)?;
            metrics::accuracy(&labels(t), &as_selection(values)?)
        }
        MetricSpec::BackgroundRejection { signal_efficiency } => {
            metrics::background_rejection(&labels(truth.ok_or_else(no_truth)?), values, *signal_efficiency)
        }
        MetricSpec::Significance {
            signal_weight,
            background_weight,
        } => {
            let t = truth.ok_or_else(no_truth)?;
            let l = labels(t);
            if l.len() != values.len() {
                return Err(MetricError::Student(format!(
                    "expected {} predictions, got {}",
                    l.len(),
                    values.len()
                )));
            }
            let sel = as_selection(values)?;
            let s = sel.iter().zip(&l).filter(|(s, l)| **s && **l).count() as f64 * signal_weight;
            let b = sel.iter().zip(&l).filter(|(s, l)| **s && !**l).count() as f64 * background_weight;
            metrics::asimov_significance(s, b)
        }
        MetricSpec::Chi2Ndf { n_params } => {
            let t = truth.ok_or_else(no_truth)?;
            let sigma = t
                .sigma
                .as_deref()
                .ok_or_else(|| MetricError::Spec("chi2_ndf needs a sigma column".into()))?;
            metrics::chi2_ndf(values, &t.values, sigma, *n_params)
        }
        MetricSpec::Pull { reference, sigma } => metrics::pull(single()?, *reference, *sigma),
        MetricSpec::AbsError { reference } => metrics::abs_error(single()?, *reference),
        MetricSpec::RelError { reference } => metrics::rel_error(single()?, *reference),
        MetricSpec::Rmse => metrics::rmse(values, &truth.ok_or_else(no_truth)?.values),
        MetricSpec::Mae => metrics::mae(values, &truth.ok_or_else(no_truth)?.values),
        MetricSpec::Resolution => metrics::resolution(values, &truth.ok_or_else(no_truth)?.values),
        MetricSpec::Ks => metrics::ks_statistic(values, &truth.ok_or_else(no_truth)?.values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_work_in_both_directions_and_clamp() {
        let down = ScoreRule::Ramp {
            zero_at: 2.0,
            full_at: 0.5,
        };
        assert_eq!(points_fraction(&down, 0.1), 1.0);
        assert_eq!(points_fraction(&down, 1.25), 0.5);
        assert_eq!(points_fraction(&down, 5.0), 0.0);
        assert_eq!(points_fraction(&down, f64::NAN), 0.0);
        let up = ScoreRule::Ramp {
            zero_at: 0.6,
            full_at: 0.8,
        };
        assert!((points_fraction(&up, 0.7) - 0.5).abs() < 1e-12);
        assert_eq!(points_fraction(&up, f64::INFINITY), 1.0);
        let th = ScoreRule::Threshold {
            min: Some(10.0),
            max: None,
        };
        assert_eq!(points_fraction(&th, 10.0), 1.0);
        assert_eq!(points_fraction(&th, 9.99), 0.0);
    }

    #[test]
    fn predictions_are_read_strictly() {
        let csv = b"id,score\n0,0.5\n1,abc\n";
        assert!(
            read_predictions(csv, FileFormat::Csv, "score")
                .unwrap_err()
                .contains("row 1")
        );
        assert_eq!(
            read_predictions(b"{\"mass\": 91.2}", FileFormat::Json, "mass").unwrap(),
            vec![91.2]
        );
        assert!(read_predictions(b"{\"mass\": \"91.2\"}", FileFormat::Json, "mass").is_err());
    }
}
