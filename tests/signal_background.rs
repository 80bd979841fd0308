//! The signal-versus-background example: the AUC ramp and the rejection threshold order the
//! submissions by quality, and a submission hunting for the labels finds none.

mod common;
use common::*;

const A: &str = "signal-background";
const AFTER_DUE: &str = "2026-11-06T00:00:00Z";

fn sb(sub: &str) -> Graded {
    grade(&example(A), &submission(A, sub), &["--as-of", AFTER_DUE])
}

fn metric(g: &Graded, test: &str) -> f64 {
    g.test(test)["metric"]["value"]
        .as_f64()
        .unwrap_or_else(|| panic!("{}", g.test(test)))
}

#[test]
fn the_fisher_discriminant_earns_full_marks() {
    let g = sb("full");
    assert_eq!(g.code, 0, "{}\n{}", g.markdown, g.stderr);
    assert_eq!(g.total(), g.max_total(), "{}", g.markdown);
    assert!(metric(&g, "ROC AUC on the hidden test set") >= 0.84);
    assert!(metric(&g, "background rejection at 50% signal efficiency") >= 10.0);
    // A visible metric test shows its value to the student.
    assert!(g.markdown.contains("ROC AUC = 0.84"), "{}", g.markdown);
}

#[test]
fn weaker_classifiers_earn_what_the_ramp_gives() {
    let partial = sb("partial");
    let auc = metric(&partial, "ROC AUC on the hidden test set");
    assert!(auc > 0.65 && auc < 0.84, "a single feature separates partly: {auc}");
    let points = partial.test("ROC AUC on the hidden test set")["points"]
        .as_f64()
        .unwrap();
    let expected = 4.0 * (auc - 0.65) / (0.84 - 0.65);
    assert!((points - expected).abs() < 1e-5, "ramp: {points} vs {expected}");
    let wrong = sb("wrong");
    assert!(
        metric(&wrong, "ROC AUC on the hidden test set") < 0.5,
        "inverted scores"
    );
    assert_eq!(wrong.test("ROC AUC on the hidden test set")["points"], 0.0);
    assert!(wrong.total() < partial.total());
}

#[test]
fn a_submission_looking_for_the_labels_finds_none() {
    let g = sb("peek-labels");
    let auc = metric(&g, "ROC AUC on the hidden test set");
    assert!(auc < 0.6, "guessing gives about 0.5, not a leaked label's 1.0: {auc}");
    let labels = std::fs::read_to_string(example(A).join("private/test_labels.csv")).unwrap();
    assert!(!labels.is_empty());
    assert!(!g.markdown.contains("10000,0"), "no label row in the report");
}

#[test]
fn a_broken_module_is_an_error_everywhere() {
    let g = sb("no-import");
    assert_eq!(g.total(), 0.0);
    assert!(g.statuses().iter().all(|s| s == "error"), "{:?}", g.statuses());
}
