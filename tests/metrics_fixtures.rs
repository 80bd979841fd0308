//! Replays the scikit-learn / scipy reference values in `tests/fixtures/metrics.json` (written by
//! `scripts/metric_fixtures.py`) against `autograder::metrics`.
//!
//! Values must agree to `|got - want| <= 1e-9 * max(1, |want|)`; error cases must return exactly
//! the recorded fault class. Non-finite floats are encoded in the JSON as "nan", "inf", "-inf".

use autograder::metrics::*;
use serde_json::Value;
use std::collections::BTreeSet;

const METRICS: [&str; 12] = [
    "roc_auc",
    "accuracy",
    "background_rejection",
    "asimov_significance",
    "chi2_ndf",
    "pull",
    "abs_error",
    "rel_error",
    "rmse",
    "mae",
    "resolution",
    "ks_statistic",
];

fn float(v: &Value, ctx: &str) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or_else(|| panic!("{ctx}: number {n} is not an f64")),
        Value::String(s) => match s.as_str() {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => panic!("{ctx}: unknown float string {other:?}"),
        },
        other => panic!("{ctx}: expected a float, got {other}"),
    }
}

struct Inputs<'a> {
    map: &'a serde_json::Map<String, Value>,
    ctx: String,
}

impl Inputs<'_> {
    fn get(&self, key: &str) -> &Value {
        self.map
            .get(key)
            .unwrap_or_else(|| panic!("{}: missing input {key:?}", self.ctx))
    }
    fn f(&self, key: &str) -> f64 {
        float(self.get(key), &format!("{} {key}", self.ctx))
    }
    fn fs(&self, key: &str) -> Vec<f64> {
        let ctx = format!("{} {key}", self.ctx);
        self.get(key)
            .as_array()
            .unwrap_or_else(|| panic!("{ctx}: not an array"))
            .iter()
            .map(|v| float(v, &ctx))
            .collect()
    }
    fn bs(&self, key: &str) -> Vec<bool> {
        self.get(key)
            .as_array()
            .unwrap_or_else(|| panic!("{} {key}: not an array", self.ctx))
            .iter()
            .map(|v| {
                v.as_bool()
                    .unwrap_or_else(|| panic!("{} {key}: {v} is not a bool", self.ctx))
            })
            .collect()
    }
    fn usize(&self, key: &str) -> usize {
        let v = self.get(key);
        v.as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or_else(|| panic!("{} {key}: {v} is not a usize", self.ctx))
    }
}

/// Runs one metric by name; `None` for a name this test does not know (which fails the test).
fn run(metric: &str, i: &Inputs) -> Option<MetricResult> {
    Some(match metric {
        "roc_auc" => roc_auc(&i.bs("labels"), &i.fs("scores")),
        "accuracy" => accuracy(&i.bs("labels"), &i.bs("predicted")),
        "background_rejection" => background_rejection(&i.bs("labels"), &i.fs("scores"), i.f("signal_efficiency")),
        "asimov_significance" => asimov_significance(i.f("s"), i.f("b")),
        "chi2_ndf" => chi2_ndf(
            &i.fs("observed"),
            &i.fs("expected"),
            &i.fs("sigma"),
            i.usize("n_params"),
        ),
        "pull" => pull(i.f("x"), i.f("x_ref"), i.f("sigma")),
        "abs_error" => abs_error(i.f("x"), i.f("x_ref")),
        "rel_error" => rel_error(i.f("x"), i.f("x_ref")),
        "rmse" => rmse(&i.fs("predicted"), &i.fs("truth")),
        "mae" => mae(&i.fs("predicted"), &i.fs("truth")),
        "resolution" => resolution(&i.fs("predicted"), &i.fs("truth")),
        "ks_statistic" => ks_statistic(&i.fs("a"), &i.fs("b")),
        _ => return None,
    })
}

#[test]
fn metrics_match_sklearn_and_scipy_reference_values() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let doc: Value = serde_json::from_str(&text).expect("fixture file is valid JSON");
    assert!(
        doc["generated_by"]["scikit-learn"].is_string(),
        "generated_by must record the library versions"
    );
    let cases = doc["cases"].as_array().expect("cases is an array");

    let mut checked = 0usize;
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    for (k, case) in cases.iter().enumerate() {
        let metric = case["metric"].as_str().expect("metric is a string");
        let ctx = format!("case {k} ({metric}: {})", case["note"].as_str().unwrap_or(""));
        let inputs = Inputs {
            map: case["inputs"].as_object().expect("inputs is an object"),
            ctx: ctx.clone(),
        };
        let got = run(metric, &inputs).unwrap_or_else(|| panic!("{ctx}: unknown metric"));
        seen.insert(metric.to_owned());

        match (case.get("expected"), case.get("error")) {
            (Some(want), None) => {
                let want = float(want, &ctx);
                match got {
                    Ok(v) if want.is_infinite() => {
                        if v != want {
                            failures.push(format!("{ctx}: got {v}, want {want}"));
                        }
                    }
                    Ok(v) => {
                        let tol = 1e-9 * want.abs().max(1.0);
                        let agrees = (v - want).abs() <= tol; // false for NaN
                        if !agrees {
                            failures.push(format!("{ctx}: got {v}, want {want} (diff {:e})", v - want));
                        }
                    }
                    Err(e) => failures.push(format!("{ctx}: got error {e:?}, want {want}")),
                }
            }
            (None, Some(fault)) => {
                let fault = fault.as_str().expect("error is a string");
                let ok_class = match (&got, fault) {
                    (Err(MetricError::Student(_)), "student") => true,
                    (Err(MetricError::Spec(_)), "spec") => true,
                    (_, "student" | "spec") => false,
                    (_, other) => panic!("{ctx}: unknown fault class {other:?}"),
                };
                if !ok_class {
                    failures.push(format!("{ctx}: got {got:?}, want a {fault} error"));
                } else if let Some(needle) = case.get("message_contains") {
                    let needle = needle.as_str().expect("message_contains is a string");
                    let msg = got.unwrap_err().to_string();
                    if !msg.contains(needle) {
                        failures.push(format!("{ctx}: message {msg:?} lacks {needle:?}"));
                    }
                }
            }
            _ => panic!("{ctx}: a case needs exactly one of \"expected\" and \"error\""),
        }
        checked += 1;
    }

    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(checked >= cases.len(), "checked {checked} of {} cases", cases.len());
    for m in METRICS {
        assert!(seen.contains(m), "no fixture case for metric {m}");
    }
    eprintln!("checked {checked} metric cases against the reference file");
}
