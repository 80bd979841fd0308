//! The Z boson example graded end to end by the real binary: honest submissions get the scores
//! their quality implies, hostile ones are contained, and nothing hidden leaks.

mod common;
use common::*;

const A: &str = "z-boson";

fn z(sub: &str, extra: &[&str]) -> Graded {
    grade(&example(A), &submission(A, sub), extra)
}

/// Strings that must never reach a student: hidden data, hidden cases, expected values.
fn secrets() -> Vec<String> {
    let dir = example(A).join("private");
    let mut out = Vec::new();
    let events = std::fs::read_to_string(dir.join("hidden_events.csv")).unwrap();
    out.extend(
        events
            .lines()
            .skip(1)
            .take(3)
            .map(|l| l.split(',').nth(3).unwrap().to_string()),
    );
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("mass_cases.json")).unwrap()).unwrap();
    for c in cases.as_array().unwrap().iter().take(4) {
        out.push(c["expect"].to_string());
        out.push(c["args"][1].to_string());
    }
    out.retain(|s| s.len() >= 5);
    out
}

fn assert_no_secrets(g: &Graded) {
    for s in secrets() {
        assert!(!g.markdown.contains(&s), "the report leaks hidden value {s}");
        let shown: Vec<String> = g.json["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| format!("{}{}", t["feedback"], t["output"]))
            .collect();
        assert!(!shown.concat().contains(&s), "the JSON feedback leaks hidden value {s}");
    }
}

#[test]
fn full_marks_for_the_reference_solution() {
    let g = z("full", &[]);
    assert_eq!(g.code, 0, "{}\n{}", g.markdown, g.stderr);
    assert_eq!(g.total(), g.max_total(), "{}", g.markdown);
    assert!(g.statuses().iter().all(|s| s == "passed"), "{:?}", g.statuses());
    assert!(g.markdown.contains("## Z boson from dimuon events:"));
    assert_no_secrets(&g);
}

#[test]
fn partial_and_wrong_submissions_score_lower_in_order() {
    let full = z("full", &[]);
    let partial = z("partial", &[]);
    let wrong = z("wrong", &[]);
    assert_eq!(partial.code, 1);
    assert_eq!(wrong.code, 1);
    // The partial one has a correct mass function and a crude peak estimate.
    assert_eq!(partial.test("invariant mass of simple pairs")["status"], "passed");
    assert_eq!(
        partial.test("invariant mass of real-looking events")["status"],
        "passed"
    );
    assert!(partial.test("Z mass on the hidden sample")["points"].as_f64().unwrap() < 4.0);
    assert!(partial.total() > wrong.total() && partial.total() < full.total());
    // The wrong one adds the momenta's squares: only the back-to-back pair, whose momenta
    // cancel, comes out right (1 of 3 cases).
    assert_eq!(wrong.test("invariant mass of simple pairs")["status"], "failed");
    assert_eq!(wrong.test("invariant mass of simple pairs")["points"], 1.0);
    assert!(wrong.total() < 0.25 * wrong.max_total(), "{}", wrong.markdown);
}

#[test]
fn a_module_that_does_not_import_is_an_error_not_a_crash() {
    let g = z("no-import", &[]);
    assert_eq!(g.code, 1);
    assert_eq!(g.total(), 0.0);
    let t = g.test("invariant mass of simple pairs");
    assert_eq!(t["status"], "error");
    assert!(
        t["feedback"][0].as_str().unwrap().contains("could not be imported"),
        "{t}"
    );
    assert!(t["feedback"][0].as_str().unwrap().contains("SyntaxError"), "{t}");
}

#[test]
fn hidden_tests_are_hidden_and_left_out_of_the_students_total() {
    let g = z("full", &["--as-of", "2026-10-01T00:00:00Z"]);
    let width = g.test("Z width on the hidden sample");
    assert_eq!(width["shown"], "hidden");
    assert_eq!(width["feedback"].as_array().unwrap().len(), 0);
    let peak = g.test("peak estimate on hidden samples");
    assert_eq!(peak["shown"], "hidden", "after_due is hidden before the due date");
    assert_eq!(g.json["hidden_max_points"], 4.0);
    assert_eq!(g.json["max_score"].as_f64().unwrap() + 4.0, g.max_total());
    assert!(
        g.markdown
            .contains("| Z width on the hidden sample | 🔒 hidden | – / 2 |"),
        "{}",
        g.markdown
    );
    // After the due date the after_due test opens.
    let later = z("full", &["--as-of", "2026-10-16T06:00:00Z"]);
    assert_eq!(later.test("peak estimate on hidden samples")["shown"], "full");
    assert_eq!(later.json["hidden_max_points"], 2.0);
}

#[test]
fn score_visibility_shows_points_but_no_details() {
    let g = z("partial", &[]);
    let t = g.test("Z mass on the hidden sample");
    assert_eq!(t["shown"], "score_only");
    assert!(t["feedback"].as_array().unwrap().is_empty());
    assert!(t["output"].is_null());
    assert!(
        !g.markdown.contains("absolute error ="),
        "the metric value is not in the comment"
    );
}

#[test]
fn the_same_submission_gives_the_same_json() {
    let a = z("partial", &["--as-of", "2026-10-01T00:00:00Z"]);
    let b = z("partial", &["--as-of", "2026-10-01T00:00:00Z"]);
    assert_eq!(without_timings(a.json), without_timings(b.json));
    assert_eq!(a.markdown, b.markdown);
}

#[test]
fn the_report_a_student_reads() {
    let g = z("partial", &["--as-of", "2026-10-01T00:00:00Z"]);
    insta::assert_snapshot!("z_partial_report", g.markdown);
}

// ---- hostile submissions -------------------------------------------------------------------

/// Every run of the Z spec is bounded by its 5 s wall limit.
fn assert_bounded(g: &Graded) {
    for t in g.json["tests"].as_array().unwrap() {
        assert!(
            t["duration_ms"].as_u64().unwrap() < 6_000,
            "{} ran past its limit",
            t["name"]
        );
    }
}

#[test]
fn an_infinite_loop_times_out_everywhere() {
    let g = z("infinite-loop", &[]);
    assert_eq!(g.code, 1);
    assert_eq!(g.total(), 0.0);
    assert!(g.statuses().iter().all(|s| s == "timeout"), "{:?}", g.statuses());
    assert!(g.markdown.contains("CPU time limit exceeded"), "{}", g.markdown);
    assert_bounded(&g);
}

#[test]
fn a_memory_hog_is_stopped_at_the_memory_limit() {
    let g = z("memory-hog", &[]);
    assert_eq!(g.total(), 0.0);
    assert!(g.markdown.contains("MemoryError") || g.markdown.contains("memory limit exceeded"));
    assert!(
        !g.statuses().iter().any(|s| s == "passed" || s == "grader-error"),
        "{:?}",
        g.statuses()
    );
    assert_bounded(&g);
}

#[test]
fn an_output_flood_is_cut_at_the_output_limit() {
    let g = z("output-flood", &[]);
    assert_eq!(g.total(), 0.0);
    assert!(g.statuses().iter().all(|s| s == "error"), "{:?}", g.statuses());
    assert!(g.markdown.contains("output limit exceeded (64.0 KiB)"));
    // The student's output is truncated in the comment.
    assert!(g.markdown.len() < 20_000, "comment is {} bytes", g.markdown.len());
    assert_bounded(&g);
}

#[test]
fn reading_outside_the_sandbox_finds_nothing() {
    let g = z("read-outside", &[]);
    assert!(!g.markdown.contains("root:x:0:0"));
    assert!(
        g.markdown.contains("[snoop] read /etc/passwd failed"),
        "the attempt ran and failed"
    );
    assert!(
        !g.markdown.contains("'hidden_events.csv'"),
        "no hidden file is listed in what the student sees"
    );
    assert_no_secrets(&g);
    // Its constant answers earn no hidden-case points: the mass function's cases are varied and
    // the peak cases sit at three momentum scales, so a hard-coded 91 GeV fails them.
    assert_eq!(g.test("invariant mass of real-looking events")["points"], 0.0);
    assert_eq!(g.test("peak estimate on hidden samples")["points"], 0.0);
}

#[test]
fn exiting_before_the_tests_run_scores_nothing() {
    let g = z("exit-early", &[]);
    assert_eq!(g.total(), 0.0);
    let t = g.test("invariant mass of simple pairs");
    assert_eq!(t["status"], "error");
    assert!(t["feedback"][0].as_str().unwrap().contains("sys.exit()"), "{t}");
}

#[test]
fn an_object_equal_to_everything_does_not_pass() {
    let g = z("eq-always-true", &[]);
    for name in [
        "invariant mass of simple pairs",
        "invariant mass of real-looking events",
        "Z mass on the hidden sample",
    ] {
        assert_eq!(g.test(name)["points"], 0.0, "{name}: {}", g.markdown);
    }
    assert!(g.markdown.contains("not plain data"), "{}", g.markdown);
    // In-process tests compare inside the student's interpreter, where such an object wins: this
    // is why they are opt-in, marked, and not the default (README, "Trust").
    let inproc = g.test("physical properties of your functions");
    assert_eq!(inproc["in_process"], true);
    assert!(
        g.markdown
            .contains("physical properties of your functions (in-process)")
    );
}

#[test]
fn in_process_tests_report_counts_only() {
    let g = z("wrong", &[]);
    let t = g.test("physical properties of your functions");
    assert_eq!(t["status"], "failed");
    assert_eq!(t["feedback"][0], "2 of 3 checks passed");
    assert!(t["output"].is_null());
    let source = std::fs::read_to_string(example(A).join("private/test_properties.py")).unwrap();
    for line in source.lines().filter(|l| l.contains("assert")) {
        assert!(!g.markdown.contains(line.trim()), "test source leaked: {line}");
    }
    assert!(!g.markdown.contains("test_mass_is_boost_invariant_along_z"));
}

// ---- real detector data --------------------------------------------------------------------

/// The reference solution graded with the real CMS 2010 dimuon events as the hidden sample.
#[test]
fn reference_solution_on_real_cms_events() {
    let Some(shared) = shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&example(A), dir.path());
    std::fs::copy(
        shared.join("data/cms-zmumu-2010.csv"),
        dir.path().join("private/hidden_events.csv"),
    )
    .unwrap();
    // The shipped hidden sample has a 1.015 momentum scale; real data is compared with the
    // world average itself.
    let spec = std::fs::read_to_string(dir.path().join("spec.yaml")).unwrap();
    assert!(spec.contains("reference: 92.5554"));
    std::fs::write(
        dir.path().join("spec.yaml"),
        spec.replace("reference: 92.5554", "reference: 91.1876"),
    )
    .unwrap();
    let g = grade(dir.path(), &submission(A, "full"), &["--as-of", "2026-10-16T06:00:00Z"]);
    let t = g.test("Z mass on the hidden sample");
    // The metric is |m_Z - 91.1876 GeV|: within 1 GeV on real data.
    let error = t["metric"]["value"].as_f64().unwrap_or_else(|| panic!("{t}"));
    assert!(error < 1.0, "fitted mass is {error} GeV from 91.1876");
    // The ramp gives full points (4) up to 0.3 GeV and none at 2 GeV: points = 4 * (2 - e) / 1.7.
    let expected = 4.0 * ((2.0 - error) / 1.7).clamp(0.0, 1.0);
    let points = t["points"].as_f64().unwrap();
    assert!(
        (points - expected).abs() < 1e-5,
        "points {points}, ramp gives {expected}"
    );
    assert!(
        points >= 4.0 * (2.0 - 1.0) / 1.7 - 1e-9,
        "at most 1 GeV off earns at least 2.35 points"
    );
}
