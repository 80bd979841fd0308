//! The grading spec (YAML, version 1): its model, parsing and the checks that need only the text.
//!
//! Pure: no IO. `parse` turns text into a [`Spec`] or a list of [`SpecError`]s that each name
//! the file, the field path, its line and column, and what to do. Checks that need the private
//! folder live in `crate::assignment`.

pub mod locate;

use crate::datum::Datum;
use chrono::{DateTime, FixedOffset};
use locate::{Position, PositionIndex};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// One problem in a spec, written for the instructor.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    pub file: String,
    pub path: String,
    pub position: Option<Position>,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{}:{}:{}: ", self.file, p.line, p.column)?,
            None => write!(f, "{}: ", self.file)?,
        }
        if !self.path.is_empty() {
            write!(f, "`{}`: ", self.path)?;
        }
        write!(f, "{}", self.message)
    }
}

/// Collects errors with positions looked up in the spec text.
pub struct Problems<'a> {
    file: &'a str,
    index: &'a PositionIndex,
    pub errors: Vec<SpecError>,
}

impl<'a> Problems<'a> {
    pub fn new(file: &'a str, index: &'a PositionIndex) -> Self {
        Problems {
            file,
            index,
            errors: Vec::new(),
        }
    }
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let path = path.into();
        self.errors.push(SpecError {
            file: self.file.to_string(),
            position: self.index.find(&path),
            path,
            message: message.into(),
        });
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Format version; must be 1.
    pub version: u32,
    pub assignment: AssignmentInfo,
    #[serde(default)]
    pub sandbox: SandboxSpec,
    pub tests: Vec<TestSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentInfo {
    pub id: String,
    pub title: String,
    /// GitHub Classroom names student repos `<prefix>-<login>`.
    pub classroom_prefix: String,
    /// RFC 3339, e.g. `2026-10-15T23:59:00-05:00`.
    #[serde(default)]
    pub due: Option<String>,
    /// Percentage of the visible maximum needed to pass (0-100).
    #[serde(default = "default_passing")]
    pub passing_mark: f64,
}

fn default_passing() -> f64 {
    50.0
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    #[default]
    Wasm,
    Container,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    /// CPython for WASI (the pre-initialised component).
    #[default]
    Python,
    /// A WebAssembly program in the submission, built for `wasm32-wasip1`.
    Wasm,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SandboxSpec {
    #[serde(default)]
    pub backend: Backend,
    #[serde(default)]
    pub runtime: Runtime,
    /// For `runtime: wasm`: the program's path inside the submission.
    #[serde(default)]
    pub program: Option<String>,
    #[serde(default)]
    pub limits: LimitsSpec,
    /// The whole environment the program sees (the container backend adds `PATH`, `HOME`,
    /// `LANG` and `MPLBACKEND`).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// For `backend: container`: the course image, e.g. `autograder-course:bookworm`.
    #[serde(default)]
    pub image: Option<String>,
    /// For `backend: container`: host folders of course data mounted read-only.
    #[serde(default)]
    pub mounts: Vec<MountSpec>,
}

/// A host folder mounted read-only into every container of the assignment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountSpec {
    /// The host folder: absolute, or relative to the spec file's folder.
    pub source: String,
    /// Where the program finds it, e.g. `/data`.
    pub target: String,
}

/// Limits as written; every field has a safe default.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    pub wall_time: Option<String>,
    pub cpu_time: Option<String>,
    pub memory: Option<String>,
    pub output: Option<String>,
    pub scratch: Option<String>,
    pub program_size: Option<String>,
    /// Container backend: CPUs (may be fractional).
    pub cpus: Option<f64>,
    /// Container backend: processes and threads at once.
    pub processes: Option<u32>,
}

/// Limits after parsing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub wall_time: Duration,
    pub cpu_time: Duration,
    pub memory: u64,
    pub output: u64,
    pub scratch: u64,
    pub program_size: u64,
    pub cpus: f64,
    pub processes: u32,
}

impl Limits {
    /// The largest file a run may have read back: its output or its scratch limit.
    pub fn file_cap(&self) -> u64 {
        self.output.max(self.scratch)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall_time: Duration::from_secs(10),
            cpu_time: Duration::from_secs(5),
            memory: 256 << 20,
            output: 64 << 10,
            scratch: 16 << 20,
            program_size: 8 << 20,
            cpus: 1.0,
            processes: 64,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everything a student may see: status, points, messages, their own output.
    #[default]
    Visible,
    /// Name and earned points only.
    Score,
    /// Name and maximum points only; left out of the student's total.
    Hidden,
    /// Hidden until the due date, visible after it.
    AfterDue,
}

/// Fields every test has.
#[derive(Debug, Clone)]
pub struct Common<'a> {
    pub name: &'a str,
    pub points: f64,
    pub visibility: Visibility,
    pub on_pass: Option<&'a str>,
    pub on_fail: Option<&'a str>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TestSpec {
    Output(OutputTest),
    Function(FunctionTest),
    InProcess(InProcessTest),
    Metric(MetricTest),
}

/// How to start the student's program.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// A script path inside the submission, run as `__main__`.
    #[serde(default)]
    pub script: Option<String>,
    /// A module run as `python -m`.
    #[serde(default)]
    pub module: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    /// Text given on standard input.
    #[serde(default)]
    pub stdin: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputTest {
    pub name: String,
    pub points: f64,
    #[serde(default)]
    pub visibility: Visibility,
    #[serde(default)]
    pub on_pass: Option<String>,
    #[serde(default)]
    pub on_fail: Option<String>,
    pub run: RunSpec,
    /// Files from the spec folder placed read-only under `/inputs` (by file name).
    #[serde(default)]
    pub inputs: Vec<String>,
    /// Compare a file the program wrote (a guest path, e.g. `/scratch/out.txt`) instead of stdout.
    #[serde(default)]
    pub output_file: Option<String>,
    pub expect: Expect,
}

/// The expected value of an output test, held on the host.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expect {
    /// Equal after trimming trailing whitespace on each line and at the end.
    Exact(String),
    /// Equal to a file from the spec folder (same trimming).
    ExactFile(String),
    Contains(String),
    Regex(String),
    Numeric(NumericExpect),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumericExpect {
    #[serde(deserialize_with = "de_f64_any")]
    pub value: f64,
    #[serde(default)]
    pub abs_tol: f64,
    #[serde(default)]
    pub rel_tol: f64,
    /// A regex whose first capture group (or whole match) is the number; default: the whole output.
    #[serde(default)]
    pub extract: Option<String>,
}

fn de_f64_any<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = serde_yaml::Value::deserialize(d)?;
    match &v {
        serde_yaml::Value::Number(n) => n.as_f64().ok_or_else(|| serde::de::Error::custom("not a number")),
        serde_yaml::Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "nan" => Ok(f64::NAN),
            "inf" | "+inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            _ => Err(serde::de::Error::custom(format!("expected a number, found \"{s}\""))),
        },
        _ => Err(serde::de::Error::custom("expected a number")),
    }
}

/// How returned or printed values are compared with expected ones.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Compare {
    /// Same type and value (floats bit-for-bit equal, except that -0.0 equals 0.0).
    Exact,
    /// Numbers within `abs_tol + rel_tol * |expected|`, element-wise through lists and maps.
    Numeric {
        #[serde(default)]
        abs_tol: f64,
        #[serde(default)]
        rel_tol: f64,
    },
    /// The returned string contains the expected string.
    Contains,
    /// The returned string matches the expected regex.
    Regex,
}

impl Default for Compare {
    fn default() -> Self {
        Compare::Numeric {
            abs_tol: 1e-9,
            rel_tol: 1e-9,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum CaseScoring {
    /// Points in proportion to the cases passed.
    #[default]
    Proportional,
    /// Full points only when every case passes.
    AllOrNothing,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionTest {
    pub name: String,
    pub points: f64,
    #[serde(default)]
    pub visibility: Visibility,
    #[serde(default)]
    pub on_pass: Option<String>,
    #[serde(default)]
    pub on_fail: Option<String>,
    /// The student's module, e.g. `dimuon` for `dimuon.py`.
    pub module: String,
    pub function: String,
    /// Cases written in the spec: public inputs (students may see them in feedback).
    #[serde(default)]
    pub cases: Vec<CaseSpec>,
    /// A JSON or YAML file in the spec folder holding a list of cases: hidden inputs.
    #[serde(default)]
    pub cases_file: Option<String>,
    #[serde(default)]
    pub compare: Compare,
    #[serde(default)]
    pub scoring: CaseScoring,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    #[serde(default)]
    pub args: Vec<serde_yaml::Value>,
    #[serde(default)]
    pub kwargs: BTreeMap<String, serde_yaml::Value>,
    pub expect: serde_yaml::Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InProcessTest {
    pub name: String,
    pub points: f64,
    #[serde(default)]
    pub visibility: Visibility,
    #[serde(default)]
    pub on_pass: Option<String>,
    #[serde(default)]
    pub on_fail: Option<String>,
    /// A Python file of `unittest` cases or `test_*` functions with asserts, in the spec folder.
    pub file: String,
    #[serde(default)]
    pub scoring: CaseScoring,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricTest {
    pub name: String,
    pub points: f64,
    #[serde(default)]
    pub visibility: Visibility,
    #[serde(default)]
    pub on_pass: Option<String>,
    #[serde(default)]
    pub on_fail: Option<String>,
    pub run: RunSpec,
    #[serde(default)]
    pub inputs: Vec<String>,
    /// What the program wrote.
    pub predictions: PredictionsSpec,
    /// Hidden truth on the host (not needed for metrics against a reference value).
    #[serde(default)]
    pub truth: Option<TruthSpec>,
    pub metric: MetricSpec,
    pub score: ScoreRule,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Csv,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictionsSpec {
    /// Guest path, e.g. `/scratch/predictions.csv`.
    pub file: String,
    pub format: FileFormat,
    /// CSV: the column to read. JSON: a top-level field holding a number or a list of numbers.
    pub field: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TruthSpec {
    /// A CSV file in the spec folder.
    pub file: String,
    pub column: String,
    /// For `chi2_ndf`: the column of uncertainties.
    #[serde(default)]
    pub sigma_column: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MetricSpec {
    RocAuc,
    Accuracy,
    BackgroundRejection {
        signal_efficiency: f64,
    },
    /// Asimov significance of a selection: predictions are 1 (selected) or 0 per event.
    Significance {
        signal_weight: f64,
        background_weight: f64,
    },
    Chi2Ndf {
        n_params: usize,
    },
    Pull {
        reference: f64,
        sigma: f64,
    },
    AbsError {
        reference: f64,
    },
    RelError {
        reference: f64,
    },
    Rmse,
    Mae,
    Resolution,
    Ks,
}

impl MetricSpec {
    pub fn name(&self) -> &'static str {
        match self {
            MetricSpec::RocAuc => "ROC AUC",
            MetricSpec::Accuracy => "accuracy",
            MetricSpec::BackgroundRejection { .. } => "background rejection",
            MetricSpec::Significance { .. } => "Asimov significance",
            MetricSpec::Chi2Ndf { .. } => "chi2/ndf",
            MetricSpec::Pull { .. } => "pull",
            MetricSpec::AbsError { .. } => "absolute error",
            MetricSpec::RelError { .. } => "relative error",
            MetricSpec::Rmse => "RMSE",
            MetricSpec::Mae => "MAE",
            MetricSpec::Resolution => "resolution",
            MetricSpec::Ks => "KS statistic",
        }
    }
    /// Whether the metric compares a single value with a reference (no truth file).
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            MetricSpec::Pull { .. } | MetricSpec::AbsError { .. } | MetricSpec::RelError { .. }
        )
    }
    /// Whether the truth file holds 0/1 class labels.
    pub fn needs_classes(&self) -> bool {
        matches!(
            self,
            MetricSpec::RocAuc
                | MetricSpec::Accuracy
                | MetricSpec::BackgroundRejection { .. }
                | MetricSpec::Significance { .. }
        )
    }
}

/// Maps a metric value to points.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScoreRule {
    /// Full points when the value is within [min, max], none otherwise.
    Threshold {
        #[serde(default)]
        min: Option<f64>,
        #[serde(default)]
        max: Option<f64>,
    },
    /// Linear from no points at `zero_at` to full points at `full_at` (either direction), clamped.
    Ramp { zero_at: f64, full_at: f64 },
}

impl TestSpec {
    pub fn common(&self) -> Common<'_> {
        macro_rules! common {
            ($t:expr) => {
                Common {
                    name: &$t.name,
                    points: $t.points,
                    visibility: $t.visibility,
                    on_pass: $t.on_pass.as_deref(),
                    on_fail: $t.on_fail.as_deref(),
                }
            };
        }
        match self {
            TestSpec::Output(t) => common!(t),
            TestSpec::Function(t) => common!(t),
            TestSpec::InProcess(t) => common!(t),
            TestSpec::Metric(t) => common!(t),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            TestSpec::Output(_) => "output",
            TestSpec::Function(_) => "function",
            TestSpec::InProcess(_) => "in_process",
            TestSpec::Metric(_) => "metric",
        }
    }
}

/// A parsed spec with its derived values.
#[derive(Debug, Clone)]
pub struct ParsedSpec {
    pub spec: Spec,
    pub limits: Limits,
    pub due: Option<DateTime<FixedOffset>>,
    /// Positions of fields, for errors found later (private folder checks).
    pub index: std::sync::Arc<PositionIndex>,
}

/// Parses and checks a spec text. `file` is only used in messages.
pub fn parse(text: &str, file: &str) -> Result<ParsedSpec, Vec<SpecError>> {
    match parse_all(text, file) {
        Ok((parsed, errors)) if errors.is_empty() => Ok(parsed),
        Ok((_, errors)) => Err(errors),
        Err(errors) => Err(errors),
    }
}

/// Like [`parse`], but when the text deserializes, returns the spec together with the problems
/// the checks found, so that callers can report further problems (the private folder's) at once.
pub fn parse_all(text: &str, file: &str) -> Result<(ParsedSpec, Vec<SpecError>), Vec<SpecError>> {
    let index = PositionIndex::build(text);
    let deserializer = serde_yaml::Deserializer::from_str(text);
    let spec: Spec = match serde_path_to_error::deserialize(deserializer) {
        Ok(spec) => spec,
        Err(err) => return Err(vec![deserialize_error(err, file, &index)]),
    };
    let mut problems = Problems::new(file, &index);
    let limits = check(&spec, &mut problems);
    let due = spec
        .assignment
        .due
        .as_deref()
        .and_then(|d| match DateTime::parse_from_rfc3339(d) {
            Ok(t) => Some(t),
            Err(_) => {
                problems.push(
                    "assignment.due",
                    format!(
                        "`{d}` is not an RFC 3339 time; write it like 2026-10-15T23:59:00-05:00 (with a UTC offset)"
                    ),
                );
                None
            }
        });
    let errors = problems.errors;
    Ok((
        ParsedSpec {
            spec,
            limits,
            due,
            index: std::sync::Arc::new(index),
        },
        errors,
    ))
}

fn deserialize_error(
    err: serde_path_to_error::Error<serde_yaml::Error>,
    file: &str,
    index: &PositionIndex,
) -> SpecError {
    let path = clean_path(&err.path().to_string());
    let inner = err.inner();
    let raw = inner.to_string();
    // serde_yaml appends " at line L column C"; we print positions ourselves.
    let message = match raw.find(" at line ") {
        Some(cut) => raw[..cut].to_string(),
        None => raw.clone(),
    };
    // serde_yaml puts the path in front of errors raised inside tagged enums; we print our own.
    let message = match message.split_once(": ") {
        Some((prefix, rest)) if !prefix.contains(char::is_whitespace) && !rest.is_empty() => rest.to_string(),
        _ => message,
    };
    let mut message = hint(&message);
    let mut lookup = path.clone();
    let mut found = None;
    // For an unknown field, point at the field itself.
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some(end) = rest.find('`')
    {
        let field = &rest[..end];
        if path == field || path.ends_with(&format!(".{field}")) {
            // serde_path_to_error already names the field.
        } else if let Some((full, pos)) = index.find_key_under(&path, field) {
            // Inside a tagged enum (a test) the path stops at the test: find the key below it.
            lookup = full;
            found = Some(pos);
        } else {
            lookup = if path.is_empty() {
                field.to_string()
            } else {
                format!("{path}.{field}")
            };
        }
    }
    let position = inner
        .location()
        .filter(|_| !path.contains('['))
        .map(|l| Position {
            line: l.line(),
            column: l.column(),
        })
        .or(found)
        .or_else(|| index.find(&lookup));
    if message.starts_with("unknown field") {
        message.push_str("; remove it or fix its spelling");
    }
    SpecError {
        file: file.to_string(),
        path: lookup,
        position,
        message,
    }
}

/// serde_path_to_error writes `.` for the root and `?` for unnamed places.
fn clean_path(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.replace(".?", "").trim_end_matches('?').to_string()
    }
}

fn hint(message: &str) -> String {
    if message.starts_with("missing field") {
        format!("{message}; add it")
    } else if message.contains("unknown variant") {
        format!("{message}; use one of the listed values")
    } else {
        message.to_string()
    }
}

fn parse_duration(problems: &mut Problems, path: &str, text: &Option<String>, default: Duration) -> Duration {
    match text {
        None => default,
        Some(t) => match humantime::parse_duration(t) {
            Ok(d) if !d.is_zero() => d,
            _ => {
                problems.push(path, format!("`{t}` is not a duration; write it like 10s, 500ms or 2m"));
                default
            }
        },
    }
}

fn parse_size(problems: &mut Problems, path: &str, text: &Option<String>, default: u64) -> u64 {
    match text {
        None => default,
        Some(t) => match t.parse::<bytesize::ByteSize>() {
            Ok(b) if b.as_u64() > 0 => b.as_u64(),
            _ => {
                problems.push(
                    path,
                    format!("`{t}` is not a size; write it like 256MiB, 64KiB or 1GiB"),
                );
                default
            }
        },
    }
}

/// Guest paths the container backend mounts itself; data mounts go elsewhere.
pub const RESERVED_GUEST_PATHS: [&str; 4] = ["/submission", "/inputs", "/scratch", "/tmp"];
/// Folders of the image's system a data mount may not cover (Python, the init, /proc...).
const SYSTEM_GUEST_PATHS: [&str; 14] = [
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin", "/sys", "/usr",
    "/var",
];

fn check_backend(s: &SandboxSpec, p: &mut Problems) {
    match s.backend {
        Backend::Wasm => {
            if s.image.is_some() {
                p.push("sandbox.image", "`image:` is only for `backend: container`; remove it");
            }
            if !s.mounts.is_empty() {
                p.push(
                    "sandbox.mounts",
                    "`mounts:` is only for `backend: container`; remove it",
                );
            }
            for (field, set) in [
                ("cpus", s.limits.cpus.is_some()),
                ("processes", s.limits.processes.is_some()),
            ] {
                if set {
                    p.push(
                        format!("sandbox.limits.{field}"),
                        format!("`{field}` is only for `backend: container`; remove it"),
                    );
                }
            }
        }
        Backend::Container => {
            match s.image.as_deref().map(str::trim) {
                None | Some("") => p.push(
                    "sandbox.image",
                    "`backend: container` needs `image:`, the course image, e.g. autograder-course:bookworm \
                     (see sandbox/container/README.md)",
                ),
                Some(image) if image.chars().any(|c| c.is_whitespace() || c.is_control()) => p.push(
                    "sandbox.image",
                    "an image name has no spaces, e.g. autograder-course:bookworm",
                ),
                _ => {}
            }
            if s.runtime == Runtime::Wasm {
                p.push(
                    "sandbox.runtime",
                    "`runtime: wasm` runs on the wasm backend only; remove it or use `backend: wasm`",
                );
            }
            let mut targets = std::collections::HashSet::new();
            for (i, m) in s.mounts.iter().enumerate() {
                let at = format!("sandbox.mounts[{i}]");
                if m.source.trim().is_empty() {
                    p.push(format!("{at}.source"), "give the host folder to mount");
                }
                let t = m.target.as_str();
                let plain = t.starts_with('/')
                    && t.len() > 1
                    && !t.ends_with('/')
                    && t[1..]
                        .split('/')
                        .all(|part| !part.is_empty() && part != "." && part != "..")
                    && !t.contains([':', ',']);
                if !plain {
                    p.push(
                        format!("{at}.target"),
                        "give an absolute, plain path such as /data (no `..`, `:` or trailing `/`)",
                    );
                } else if RESERVED_GUEST_PATHS
                    .iter()
                    .any(|r| t == *r || t.starts_with(&format!("{r}/")) || r.starts_with(&format!("{t}/")))
                {
                    p.push(
                        format!("{at}.target"),
                        "/submission, /inputs, /scratch and /tmp are the run's own folders; mount data elsewhere, e.g. /data",
                    );
                } else if SYSTEM_GUEST_PATHS
                    .iter()
                    .any(|r| t == *r || t.starts_with(&format!("{r}/")))
                {
                    p.push(
                        format!("{at}.target"),
                        format!("`{t}` is part of the image's system; mount data elsewhere, e.g. /data"),
                    );
                } else if !targets.insert(t.to_string()) {
                    p.push(format!("{at}.target"), "another mount already uses this target");
                }
            }
        }
    }
}

/// Checks that need only the spec text; returns the parsed limits.
fn check(spec: &Spec, p: &mut Problems) -> Limits {
    if spec.version != 1 {
        p.push(
            "version",
            format!("version {} is not supported; this grader reads version 1", spec.version),
        );
    }
    let a = &spec.assignment;
    if a.id.trim().is_empty() || !a.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        p.push(
            "assignment.id",
            "use letters, digits, `-` and `_` only (it names files and URLs)",
        );
    }
    if a.classroom_prefix.trim().is_empty() || a.classroom_prefix.ends_with('-') {
        p.push(
            "assignment.classroom_prefix",
            "give the Classroom assignment prefix without the trailing `-`, e.g. `z-boson`",
        );
    }
    if !(0.0..=100.0).contains(&a.passing_mark) || a.passing_mark.is_nan() {
        p.push("assignment.passing_mark", "give a percentage between 0 and 100");
    }
    let s = &spec.sandbox;
    check_backend(s, p);
    match (s.runtime, &s.program) {
        (Runtime::Wasm, None) => p.push(
            "sandbox.program",
            "`runtime: wasm` needs `program:`, the .wasm file's path in the submission",
        ),
        (Runtime::Python, Some(_)) => p.push("sandbox.program", "`program:` is only for `runtime: wasm`; remove it"),
        _ => {}
    }
    for key in s.env.keys() {
        if key.is_empty() || key.contains('=') {
            p.push(
                format!("sandbox.env.{key}"),
                "environment variable names cannot be empty or contain `=`",
            );
        }
    }
    let d = Limits::default();
    let l = &s.limits;
    let limits = Limits {
        wall_time: parse_duration(p, "sandbox.limits.wall_time", &l.wall_time, d.wall_time),
        cpu_time: parse_duration(p, "sandbox.limits.cpu_time", &l.cpu_time, d.cpu_time),
        memory: parse_size(p, "sandbox.limits.memory", &l.memory, d.memory),
        output: parse_size(p, "sandbox.limits.output", &l.output, d.output),
        scratch: parse_size(p, "sandbox.limits.scratch", &l.scratch, d.scratch),
        program_size: parse_size(p, "sandbox.limits.program_size", &l.program_size, d.program_size),
        cpus: l.cpus.unwrap_or(d.cpus),
        processes: l.processes.unwrap_or(d.processes),
    };
    if !(limits.cpus.is_finite() && (0.01..=64.0).contains(&limits.cpus)) {
        p.push(
            "sandbox.limits.cpus",
            "give a number of CPUs between 0.01 and 64, e.g. 1 or 0.5",
        );
    }
    if !(8..=4096).contains(&limits.processes) {
        p.push(
            "sandbox.limits.processes",
            "give between 8 and 4096 processes (numerical libraries start a thread per CPU)",
        );
    }
    if limits.memory < 32 << 20 {
        p.push("sandbox.limits.memory", "the Python runtime needs at least 32MiB");
    }
    if limits.wall_time > Duration::from_secs(600) {
        p.push("sandbox.limits.wall_time", "at most 10m per run");
    }
    if spec.tests.is_empty() {
        p.push("tests", "add at least one test");
    }
    let mut names = std::collections::HashSet::new();
    for (i, test) in spec.tests.iter().enumerate() {
        let at = format!("tests[{i}]");
        let c = test.common();
        if c.name.trim().is_empty() {
            p.push(format!("{at}.name"), "give the test a name students will recognise");
        } else if !names.insert(c.name.to_string()) {
            p.push(
                format!("{at}.name"),
                format!("another test is already called \"{}\"; names must be unique", c.name),
            );
        }
        if !(c.points.is_finite() && c.points >= 0.0) {
            p.push(format!("{at}.points"), "points must be a number of at least 0");
        }
        if c.visibility == Visibility::AfterDue && spec.assignment.due.is_none() {
            p.push(
                format!("{at}.visibility"),
                "`after_due` needs `assignment.due`; add the due date",
            );
        }
        if s.runtime == Runtime::Wasm && matches!(test, TestSpec::Function(_) | TestSpec::InProcess(_)) {
            p.push(
                format!("{at}.kind"),
                "function and in_process tests need `runtime: python`",
            );
        }
        match test {
            TestSpec::Output(t) => {
                check_run(p, &at, &t.run, s.runtime);
                check_expect(p, &at, &t.expect);
                check_guest_path(p, &format!("{at}.output_file"), t.output_file.as_deref());
            }
            TestSpec::Function(t) => {
                if t.cases.is_empty() && t.cases_file.is_none() {
                    p.push(
                        format!("{at}.cases"),
                        "give `cases:` (public) or `cases_file:` (hidden) with at least one case",
                    );
                }
                if !is_dotted_name(&t.module) {
                    p.push(
                        format!("{at}.module"),
                        "give a Python module name like `dimuon` (for dimuon.py)",
                    );
                }
                if !is_dotted_name(&t.function) || t.function.contains('.') {
                    p.push(format!("{at}.function"), "give a function name like `invariant_mass`");
                }
                check_compare(p, &format!("{at}.compare"), &t.compare);
                for (j, case) in t.cases.iter().enumerate() {
                    for v in case
                        .args
                        .iter()
                        .chain(case.kwargs.values())
                        .chain(std::iter::once(&case.expect))
                    {
                        if let Err(e) = Datum::from_yaml(v) {
                            p.push(format!("{at}.cases[{j}]"), e);
                        }
                    }
                }
            }
            TestSpec::InProcess(_) => {}
            TestSpec::Metric(t) => {
                check_run(p, &at, &t.run, s.runtime);
                check_guest_path(p, &format!("{at}.predictions.file"), Some(&t.predictions.file));
                check_metric(p, &at, t);
            }
        }
    }
    limits
}

fn is_dotted_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_')
        })
}

fn check_run(p: &mut Problems, at: &str, run: &RunSpec, runtime: Runtime) {
    match (runtime, &run.script, &run.module) {
        (Runtime::Python, None, None) => p.push(format!("{at}.run"), "give `script:` (a .py file) or `module:`"),
        (Runtime::Python, Some(_), Some(_)) => p.push(format!("{at}.run"), "give `script:` or `module:`, not both"),
        (Runtime::Wasm, s, m) if s.is_some() || m.is_some() => p.push(
            format!("{at}.run"),
            "with `runtime: wasm` the program is `sandbox.program`; give only `args` and `stdin`",
        ),
        _ => {}
    }
    if let Some(script) = &run.script
        && (script.starts_with('/') || script.split('/').any(|c| c == ".."))
    {
        p.push(
            format!("{at}.run.script"),
            "give a path inside the submission, like `fit.py`",
        );
    }
    if let Some(m) = &run.module
        && !is_dotted_name(m)
    {
        p.push(
            format!("{at}.run.module"),
            "give a module name like `zfit` or `pkg.main`",
        );
    }
}

fn check_guest_path(p: &mut Problems, at: &str, path: Option<&str>) {
    if let Some(path) = path {
        let ok = (path.starts_with("/scratch/") || path.starts_with("/submission/") || !path.starts_with('/'))
            && !path.split('/').any(|c| c == "..");
        if !ok {
            p.push(
                at,
                "give a path under /scratch/ (or relative to the submission), like /scratch/out.csv",
            );
        }
    }
}

fn check_expect(p: &mut Problems, at: &str, expect: &Expect) {
    match expect {
        Expect::Regex(r) => {
            if let Err(e) = regex::Regex::new(r) {
                p.push(format!("{at}.expect.regex"), format!("not a valid regex: {e}"));
            }
        }
        Expect::Numeric(n) => {
            if let Some(r) = &n.extract
                && let Err(e) = regex::Regex::new(r)
            {
                p.push(
                    format!("{at}.expect.numeric.extract"),
                    format!("not a valid regex: {e}"),
                );
            }
            if !(n.abs_tol >= 0.0 && n.rel_tol >= 0.0) {
                p.push(format!("{at}.expect.numeric"), "tolerances must be at least 0");
            }
        }
        _ => {}
    }
}

fn check_compare(p: &mut Problems, at: &str, compare: &Compare) {
    if let Compare::Numeric { abs_tol, rel_tol } = compare
        && !(*abs_tol >= 0.0 && *rel_tol >= 0.0)
    {
        p.push(at, "tolerances must be at least 0");
    }
}

fn check_metric(p: &mut Problems, at: &str, t: &MetricTest) {
    let metric_at = format!("{at}.metric");
    match &t.metric {
        MetricSpec::BackgroundRejection { signal_efficiency }
            if !(*signal_efficiency > 0.0 && *signal_efficiency <= 1.0) =>
        {
            p.push(
                format!("{metric_at}.background_rejection.signal_efficiency"),
                "give a signal efficiency in (0, 1], e.g. 0.5",
            );
        }
        MetricSpec::Significance {
            signal_weight,
            background_weight,
        } if !(*signal_weight > 0.0 && *background_weight > 0.0) => {
            p.push(format!("{metric_at}.significance"), "event weights must be above 0");
        }
        MetricSpec::Pull { sigma, reference } if !(*sigma > 0.0 && sigma.is_finite() && reference.is_finite()) => {
            p.push(
                format!("{metric_at}.pull"),
                "give a finite reference and a sigma above 0",
            );
        }
        MetricSpec::RelError { reference } if *reference == 0.0 || !reference.is_finite() => {
            p.push(
                format!("{metric_at}.rel_error.reference"),
                "a relative error needs a finite, non-zero reference",
            );
        }
        MetricSpec::AbsError { reference } if !reference.is_finite() => {
            p.push(
                format!("{metric_at}.abs_error.reference"),
                "give a finite reference value",
            );
        }
        MetricSpec::Chi2Ndf { .. } if t.truth.as_ref().is_some_and(|tr| tr.sigma_column.is_none()) => {
            p.push(
                format!("{at}.truth.sigma_column"),
                "chi2_ndf needs `sigma_column:`, the uncertainties",
            );
        }
        _ => {}
    }
    match (&t.truth, t.metric.is_scalar()) {
        (None, false) => p.push(
            format!("{at}.truth"),
            format!("{} needs `truth:` (a CSV file and column)", t.metric.name()),
        ),
        (Some(_), true) => p.push(
            format!("{at}.truth"),
            format!("{} compares with `reference`; remove `truth:`", t.metric.name()),
        ),
        _ => {}
    }
    if t.metric.is_scalar() && t.predictions.format != FileFormat::Json {
        p.push(
            format!("{at}.predictions.format"),
            "a single fitted value is read from JSON; use `format: json`",
        );
    }
    let score_at = format!("{at}.score");
    match &t.score {
        ScoreRule::Threshold { min, max } => {
            if min.is_none() && max.is_none() {
                p.push(format!("{score_at}.threshold"), "give `min:`, `max:` or both");
            }
            if let (Some(lo), Some(hi)) = (min, max)
                && lo > hi
            {
                p.push(
                    format!("{score_at}.threshold"),
                    "`min` is above `max`: no value could pass",
                );
            }
        }
        ScoreRule::Ramp { zero_at, full_at } => {
            if !(zero_at.is_finite() && full_at.is_finite()) || zero_at == full_at {
                p.push(
                    format!("{score_at}.ramp"),
                    "`zero_at` and `full_at` must be finite and different",
                );
            } else if let Some(better) = t.metric.higher_is_better() {
                // A ramp that rewards the wrong direction is almost always a typo.
                if better != (full_at > zero_at) {
                    p.push(
                        format!("{score_at}.ramp"),
                        format!(
                            "the ramp is inverted: for {} {} is better, so `full_at` should be {} `zero_at`; swap them",
                            t.metric.name(),
                            if better { "higher" } else { "lower" },
                            if better { "above" } else { "below" }
                        ),
                    );
                }
            }
        }
    }
}

impl MetricSpec {
    /// Which direction is better, when the metric has one.
    pub fn higher_is_better(&self) -> Option<bool> {
        match self {
            MetricSpec::RocAuc
            | MetricSpec::Accuracy
            | MetricSpec::BackgroundRejection { .. }
            | MetricSpec::Significance { .. } => Some(true),
            MetricSpec::Pull { .. }
            | MetricSpec::AbsError { .. }
            | MetricSpec::RelError { .. }
            | MetricSpec::Rmse
            | MetricSpec::Mae
            | MetricSpec::Resolution
            | MetricSpec::Ks => Some(false),
            // chi2/ndf is best near 1: either side of it can be ramped.
            MetricSpec::Chi2Ndf { .. } => None,
        }
    }
}
