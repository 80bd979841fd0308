//! What a student may see: applies each test's visibility at a given time, and renders the JSON
//! result and the Markdown comment. Pure.
//!
//! Invariants: a hidden test shows only its name and maximum points and is left out of the
//! student's total; output of a run that saw hidden inputs, in-process test details, expected
//! values and grader-side error text never appear.

use crate::grading::{GradeResult, MetricValue, Status, TestResult};
use crate::spec::Visibility;
use chrono::{DateTime, FixedOffset};
use serde::Serialize;

/// How much of a test a student sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shown {
    Full,
    ScoreOnly,
    Hidden,
}

pub fn shown(visibility: Visibility, due: Option<DateTime<FixedOffset>>, as_of: DateTime<FixedOffset>) -> Shown {
    match visibility {
        Visibility::Visible => Shown::Full,
        Visibility::Score => Shown::ScoreOnly,
        Visibility::Hidden => Shown::Hidden,
        Visibility::AfterDue => match due {
            Some(d) if as_of >= d => Shown::Full,
            _ => Shown::Hidden,
        },
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub name: String,
    pub kind: String,
    pub visibility: Visibility,
    pub shown: Shown,
    pub points: f64,
    pub max_points: f64,
    pub status: Status,
    pub duration_ms: u64,
    pub in_process: bool,
    /// What the student may see about this test (empty unless shown in full).
    pub feedback: Vec<String>,
    /// The student's own output, when shown in full and the run saw no hidden inputs.
    pub output: Option<String>,
    /// The metric's value: for the instructor's record (the Markdown shows it only in
    /// feedback of tests shown in full).
    pub metric: Option<MetricValue>,
}

/// The JSON result: every test's verdict, and what the student may see of each.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub assignment: String,
    pub title: String,
    pub spec_version: String,
    /// Points the student sees: tests shown to them, grader errors left out.
    pub score: f64,
    pub max_score: f64,
    /// Maximum points of tests hidden from the student at this time.
    pub hidden_max_points: f64,
    /// Over all tests, hidden ones included (what the passing mark is judged on).
    pub total: f64,
    pub max_total: f64,
    pub passing_mark: f64,
    pub passed: bool,
    /// Some test hit a grader-side error: the grade is not final.
    pub incomplete: bool,
    pub tests: Vec<TestReport>,
}

fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

pub fn build(result: &GradeResult, due: Option<DateTime<FixedOffset>>, as_of: DateTime<FixedOffset>) -> Report {
    let mut score = 0.0;
    let mut max_score = 0.0;
    let mut hidden = 0.0;
    let tests: Vec<TestReport> = result
        .tests
        .iter()
        .map(|t: &TestResult| {
            let s = shown(t.visibility, due, as_of);
            match s {
                Shown::Hidden => hidden += t.max_points,
                _ if t.status != Status::GraderError => {
                    score += t.points;
                    max_score += t.max_points;
                }
                _ => {}
            }
            let full = s == Shown::Full;
            TestReport {
                name: t.name.clone(),
                kind: t.kind.clone(),
                visibility: t.visibility,
                shown: s,
                points: round(t.points),
                max_points: t.max_points,
                status: t.status,
                duration_ms: t.duration_ms,
                in_process: t.in_process,
                feedback: if full { t.feedback.clone() } else { Vec::new() },
                output: if full && !t.hidden_inputs {
                    t.output.clone()
                } else {
                    None
                },
                metric: t.metric.clone(),
            }
        })
        .collect();
    let (total, max_total) = result.totals();
    Report {
        assignment: result.assignment.clone(),
        title: result.title.clone(),
        spec_version: result.spec_version.clone(),
        score: round(score),
        max_score: round(max_score),
        hidden_max_points: round(hidden),
        total: round(total),
        max_total: round(max_total),
        passing_mark: result.passing_mark,
        passed: result.passed(),
        incomplete: result.incomplete(),
        tests,
    }
}

/// Points as people write them: `3`, `2.5`, `1.67`.
pub fn pts(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Characters that change how text reads without showing: bidirectional overrides and
/// zero-width marks. Dropped from anything a student controls.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// Longest line of student-influenced text in the comment.
const LINE_MAX: usize = 300;

/// Escapes text for one Markdown table cell or line: no markup, no mentions, no HTML, no
/// autolinks, no entities, bounded length.
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (count, c) in text.chars().filter(|c| !invisible(*c)).enumerate() {
        if count == LINE_MAX {
            out.push('…');
            break;
        }
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '@' => out.push_str("@\u{200b}"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    // GitHub links bare URLs; entities keep the text readable without making it a link.
    out.replace("://", "&#58;//").replace("www.", "www&#46;")
}

/// A fenced code block that the content cannot close. Lines that would start a GitHub Actions
/// workflow command (`::`) are indented by one space.
pub fn code_block(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !invisible(*c) && (!c.is_control() || *c == '\n' || *c == '\t'))
        .collect();
    let mut longest = 0;
    let mut run = 0;
    for c in clean.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    let body: Vec<String> = clean
        .trim_end()
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("::") {
                format!(" {l}")
            } else {
                l.to_string()
            }
        })
        .collect();
    format!("{fence}text\n{}\n{fence}", body.join("\n"))
}

fn status_text(t: &TestReport) -> &'static str {
    if t.shown == Shown::Hidden {
        return "🔒 hidden";
    }
    match t.status {
        Status::Passed => "✅ passed",
        Status::Failed if t.points > 0.0 => "🟡 partial",
        Status::Failed => "❌ failed",
        Status::Error => "💥 error",
        Status::Timeout => "⏱️ timeout",
        Status::GraderError => "⚠️ grader error",
    }
}

/// The Markdown comment a student reads.
pub fn markdown(report: &Report) -> String {
    let mut md = String::new();
    md.push_str(&format!("<!-- autograder:{} -->\n", report.assignment));
    md.push_str(&format!(
        "## {}: {} / {} points\n\n",
        inline(&report.title),
        pts(report.score),
        pts(report.max_score)
    ));
    if report.incomplete {
        md.push_str(
            "> ⚠️ **Grading is incomplete.** The grader failed on some tests (not your fault); they are not counted \
             until they are graded again.\n\n",
        );
    }
    if report.hidden_max_points > 0.0 {
        md.push_str(&format!(
            "Tests worth {} more points are hidden for now and not included above.\n\n",
            pts(report.hidden_max_points)
        ));
    }
    md.push_str("| Test | Result | Points |\n|---|---|---:|\n");
    for t in &report.tests {
        let mut name = inline(&t.name);
        if t.in_process {
            name.push_str(" (in-process)");
        }
        let points = match (t.shown, t.status) {
            (Shown::Hidden, _) => format!("– / {}", pts(t.max_points)),
            (_, Status::GraderError) => format!("not counted / {}", pts(t.max_points)),
            _ => format!("{} / {}", pts(t.points), pts(t.max_points)),
        };
        md.push_str(&format!("| {name} | {} | {points} |\n", status_text(t)));
    }
    let detailed: Vec<&TestReport> = report
        .tests
        .iter()
        .filter(|t| t.shown == Shown::Full && (!t.feedback.is_empty() || t.output.is_some()))
        .collect();
    if !detailed.is_empty() {
        md.push_str("\n### Details\n");
        for t in detailed {
            md.push_str(&format!("\n**{}**: {}\n", inline(&t.name), status_text(t)));
            for line in &t.feedback {
                md.push_str(&format!("- {}\n", inline(line)));
            }
            if let Some(out) = &t.output {
                md.push_str(&format!(
                    "\n<details><summary>Your program's output</summary>\n\n{}\n\n</details>\n",
                    code_block(out)
                ));
            }
        }
    }
    if report.tests.iter().any(|t| t.in_process) {
        md.push_str(
            "\n<sub>In-process tests run next to your code inside the sandbox; their details are never shown.</sub>\n",
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_entities_invisible_characters_and_workflow_commands_are_neutralised() {
        let t = inline("see https://evil.example or www.evil.example &#64;octocat \u{202e}txt.exe");
        assert!(!t.contains("https://") && !t.contains("www.e"), "{t}");
        assert!(!t.contains("&#64;"), "{t}");
        assert!(!t.contains('\u{202e}'), "{t}");
        assert!(inline(&"x".repeat(1000)).chars().count() <= LINE_MAX + 1);
        let block = code_block("::warning file=a.py::full marks\nok\n  ::add-mask::x");
        assert!(block.lines().all(|l| !l.starts_with("::")), "{block}");
    }

    #[test]
    fn escaping_defeats_markup_and_mentions() {
        assert_eq!(inline("a|b @bob <!-- x -->"), "a\\|b @\u{200b}bob \\<\\!-- x --\\>");
        let block = code_block("```\nrm -rf\n````");
        assert!(block.starts_with("`````text\n"));
        assert!(block.ends_with("\n`````"));
    }

    #[test]
    fn after_due_opens_at_the_due_time() {
        let due = DateTime::parse_from_rfc3339("2026-10-15T23:59:00-05:00").unwrap();
        let before = DateTime::parse_from_rfc3339("2026-10-15T23:58:59-05:00").unwrap();
        assert_eq!(shown(Visibility::AfterDue, Some(due), before), Shown::Hidden);
        assert_eq!(shown(Visibility::AfterDue, Some(due), due), Shown::Full);
    }
}
