//! Loads an assignment folder (the spec file plus its `public/` and `private/` files) and checks
//! what only those files can tell: referenced files exist, cases parse, truth columns exist and
//! hold usable values, class labels hold both classes.
//!
//! This is the IO edge of the spec: everything here is read once, before any submission runs.

use crate::datum::Datum;
use crate::spec::{self, Expect, ParsedSpec, Problems, SpecError, TestSpec};
use std::path::{Component, Path, PathBuf};

/// The spec file's name inside an assignment folder.
pub const SPEC_FILE: &str = "spec.yaml";

/// One function-test case with host-held expected value.
#[derive(Debug, Clone)]
pub struct Case {
    pub args: Vec<Datum>,
    pub kwargs: std::collections::BTreeMap<String, Datum>,
    pub expect: Datum,
}

/// A truth column (and optional uncertainties) read from the private folder.
#[derive(Debug, Clone)]
pub struct Truth {
    pub values: Vec<f64>,
    pub sigma: Option<Vec<f64>>,
}

/// Host-side data for one test; only the inputs ever enter the sandbox.
#[derive(Debug, Clone, Default)]
pub struct TestData {
    pub cases: Vec<Case>,
    /// Whether any case came from a hidden file.
    pub hidden_cases: bool,
    pub inputs: Vec<(String, PathBuf)>,
    pub hidden_inputs: bool,
    pub expected_text: Option<String>,
    pub test_source: Option<(String, String)>,
    /// For in-process tests: the test names the file defines (or the file name for a file of
    /// plain asserts); only these are counted.
    pub test_names: Vec<String>,
    pub truth: Option<Truth>,
}

#[derive(Debug, Clone)]
pub struct Assignment {
    pub dir: PathBuf,
    pub spec_path: PathBuf,
    pub parsed: ParsedSpec,
    /// Parallel to `parsed.spec.tests`.
    pub data: Vec<TestData>,
    /// Container backend: (host folder, guest path) pairs mounted read-only.
    pub mounts: Vec<(PathBuf, String)>,
    /// A content hash of the spec and every file in the assignment folder except submissions:
    /// the spec version a result was graded with. Computed once, at load.
    pub version: String,
}

/// Whether a spec-relative path names hidden material: anything not under `public/`.
pub fn is_hidden(rel: &str) -> bool {
    !rel.starts_with("public/")
}

impl Assignment {
    /// Loads `dir/spec.yaml` (or a spec file given directly) and everything it references.
    pub fn load(path: &Path) -> Result<Assignment, Vec<SpecError>> {
        let (dir, spec_path) = if path.is_dir() {
            (path.to_path_buf(), path.join(SPEC_FILE))
        } else {
            // `spec.yaml` has the parent "", which would be a prefix of every path.
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            (parent.to_path_buf(), path.to_path_buf())
        };
        let shown = spec_path.display().to_string();
        let text = std::fs::read_to_string(&spec_path).map_err(|e| {
            vec![SpecError {
                file: shown.clone(),
                path: String::new(),
                position: None,
                message: format!("cannot read the spec ({e}); give an assignment folder holding {SPEC_FILE}"),
            }]
        })?;
        // Problems of the text and of the private folder are reported together.
        let (parsed, text_errors) = spec::parse_all(&text, &shown)?;
        let index = parsed.index.clone();
        let mut problems = Problems::new(&shown, &index);
        problems.errors = text_errors;
        let mut data = Vec::new();
        for (i, test) in parsed.spec.tests.iter().enumerate() {
            data.push(load_test(&dir, i, test, &mut problems));
        }
        let mounts = load_mounts(&dir, &parsed.spec.sandbox.mounts, &mut problems);
        if problems.errors.is_empty() {
            let version = version_of(&dir);
            Ok(Assignment {
                dir,
                spec_path,
                parsed,
                data,
                mounts,
                version,
            })
        } else {
            Err(problems.errors)
        }
    }
}

/// The content hash behind [`Assignment::version`].
fn version_of(dir: &Path) -> String {
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files);
    files.sort();
    let mut h = Sha256::new();
    for rel in files {
        if rel.starts_with("submissions/") {
            continue;
        }
        h.update(rel.as_bytes());
        h.update([0]);
        h.update(std::fs::read(dir.join(&rel)).unwrap_or_default());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..12])
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => collect_files(root, &p, out),
            Ok(t) if t.is_file() => {
                if let Ok(rel) = p.strip_prefix(root) {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
            _ => {}
        }
    }
}

/// Resolves the data mounts' host folders. A mounted folder is readable by every submission, so
/// it may not hold the assignment's hidden files: it must lie outside the assignment folder or
/// under its `public/`.
fn load_mounts(dir: &Path, mounts: &[spec::MountSpec], p: &mut Problems) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let assignment = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    for (i, m) in mounts.iter().enumerate() {
        let at = format!("sandbox.mounts[{i}].source");
        let given = Path::new(&m.source);
        let full = if given.is_absolute() {
            given.to_path_buf()
        } else {
            dir.join(given)
        };
        let Ok(real) = full.canonicalize() else {
            p.push(
                at,
                format!("`{}` does not exist; create the folder or fix the path", m.source),
            );
            continue;
        };
        if !real.is_dir() {
            p.push(
                at,
                format!("`{}` is not a folder; mount a folder of data files", m.source),
            );
            continue;
        }
        let public = assignment.join("public");
        if assignment.starts_with(&real) || (real.starts_with(&assignment) && !real.starts_with(&public)) {
            p.push(
                at,
                format!(
                    "`{}` would show students the assignment's hidden files; mount a folder outside the \
                     assignment folder, or under its public/",
                    m.source
                ),
            );
            continue;
        }
        out.push((real, m.target.clone()));
    }
    out
}

/// Resolves a spec-relative path, refusing ones that leave the folder.
fn resolve(dir: &Path, rel: &str, at: &str, p: &mut Problems) -> Option<PathBuf> {
    let path = Path::new(rel);
    if path.is_absolute() || path.components().any(|c| !matches!(c, Component::Normal(_))) {
        p.push(
            at,
            format!("`{rel}` must be a path inside the assignment folder, like private/data.csv"),
        );
        return None;
    }
    let full = dir.join(path);
    if !full.is_file() {
        p.push(
            at,
            format!(
                "`{rel}` does not exist in {}; add the file or fix the path",
                dir.display()
            ),
        );
        return None;
    }
    Some(full)
}

fn load_inputs(dir: &Path, at: &str, inputs: &[String], data: &mut TestData, p: &mut Problems) {
    let mut names = std::collections::HashSet::new();
    for (j, rel) in inputs.iter().enumerate() {
        let here = format!("{at}.inputs[{j}]");
        if let Some(full) = resolve(dir, rel, &here, p) {
            let name = full
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if !names.insert(name.clone()) {
                p.push(
                    here,
                    format!("two inputs are both called `{name}` under /inputs; rename one"),
                );
                continue;
            }
            data.hidden_inputs |= is_hidden(rel);
            data.inputs.push((name, full));
        }
    }
}

fn load_test(dir: &Path, i: usize, test: &TestSpec, p: &mut Problems) -> TestData {
    let at = format!("tests[{i}]");
    let mut data = TestData::default();
    match test {
        TestSpec::Output(t) => {
            load_inputs(dir, &at, &t.inputs, &mut data, p);
            if let Expect::ExactFile(rel) = &t.expect
                && let Some(full) = resolve(dir, rel, &format!("{at}.expect.exact_file"), p)
            {
                data.expected_text = std::fs::read_to_string(full).ok();
            }
        }
        TestSpec::Function(t) => {
            for (j, c) in t.cases.iter().enumerate() {
                match to_case(&c.args, &c.kwargs, &c.expect) {
                    Ok(case) => data.cases.push(case),
                    Err(e) => p.push(format!("{at}.cases[{j}]"), e),
                }
            }
            if let Some(rel) = &t.cases_file {
                let here = format!("{at}.cases_file");
                if let Some(full) = resolve(dir, rel, &here, p) {
                    data.hidden_cases = is_hidden(rel);
                    match read_cases(&full) {
                        Ok(cases) if cases.is_empty() => {
                            p.push(here, format!("`{rel}` holds no cases; add at least one"))
                        }
                        Ok(cases) => data.cases.extend(cases),
                        Err(e) => p.push(here, format!("`{rel}`: {e}")),
                    }
                }
            }
        }
        TestSpec::InProcess(t) => {
            let here = format!("{at}.file");
            if let Some(full) = resolve(dir, &t.file, &here, p) {
                match std::fs::read_to_string(&full) {
                    Ok(text) => {
                        let name = full
                            .file_name()
                            .map(|n| n.to_string_lossy().to_string())
                            .unwrap_or_default();
                        data.test_names = test_names(&text, &name);
                        data.test_source = Some((name, text));
                    }
                    Err(e) => p.push(here, format!("cannot read `{}`: {e}", t.file)),
                }
            }
        }
        TestSpec::Metric(t) => {
            load_inputs(dir, &at, &t.inputs, &mut data, p);
            if let Some(truth) = &t.truth {
                let here = format!("{at}.truth.file");
                if let Some(full) = resolve(dir, &truth.file, &here, p) {
                    match read_truth(&full, &truth.column, truth.sigma_column.as_deref()) {
                        Ok(tr) => {
                            if let Err(e) = check_truth(&t.metric, &tr) {
                                p.push(format!("{at}.truth"), format!("`{}`: {e}", truth.file));
                            }
                            data.truth = Some(tr);
                        }
                        Err(e) => p.push(format!("{at}.truth"), format!("`{}`: {e}", truth.file)),
                    }
                }
            }
        }
    }
    data
}

/// The `test*` functions and methods a Python test file defines, in order, without repeats.
fn test_names(source: &str, filename: &str) -> Vec<String> {
    let re = regex::Regex::new(r"(?m)^[ \t]*def[ \t]+(test\w*)[ \t]*\(").expect("a valid pattern");
    let mut names: Vec<String> = Vec::new();
    for cap in re.captures_iter(source) {
        let name = cap[1].to_string();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        names.push(filename.to_string());
    }
    names
}

fn check_truth(metric: &spec::MetricSpec, truth: &Truth) -> Result<(), String> {
    if truth.values.is_empty() {
        return Err("the truth column has no rows; add the hidden truth".into());
    }
    if metric.needs_classes() {
        if truth.values.iter().any(|v| *v != 0.0 && *v != 1.0) {
            return Err("class labels must be 0 (background) or 1 (signal)".into());
        }
        let signal = truth.values.iter().filter(|v| **v == 1.0).count();
        if signal == 0 || signal == truth.values.len() {
            return Err("the labels hold one class only; the metric needs both signal (1) and background (0)".into());
        }
    }
    if let Some(sigma) = &truth.sigma
        && let Some(row) = sigma.iter().position(|s| s.is_nan() || *s <= 0.0)
    {
        return Err(format!("sigma at row {row} is not above 0"));
    }
    Ok(())
}

fn to_case(
    args: &[serde_yaml::Value],
    kwargs: &std::collections::BTreeMap<String, serde_yaml::Value>,
    expect: &serde_yaml::Value,
) -> Result<Case, String> {
    Ok(Case {
        args: args.iter().map(Datum::from_yaml).collect::<Result<_, _>>()?,
        kwargs: kwargs
            .iter()
            .map(|(k, v)| Ok((k.clone(), Datum::from_yaml(v)?)))
            .collect::<Result<_, String>>()?,
        expect: Datum::from_yaml(expect)?,
    })
}

/// Reads a JSON or YAML list of `{args, kwargs, expect}` (YAML can spell `.nan`; JSON uses
/// `{"$float": "nan"}`).
fn read_cases(path: &Path) -> Result<Vec<Case>, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Raw {
        #[serde(default)]
        args: Vec<serde_yaml::Value>,
        #[serde(default)]
        kwargs: std::collections::BTreeMap<String, serde_yaml::Value>,
        expect: serde_yaml::Value,
    }
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    // JSON is YAML, so one parser serves both; `$float` tags are then resolved below.
    let raw: Vec<Raw> = serde_yaml::from_str(&text).map_err(|e| format!("{e}; expected a list of {{args, expect}}"))?;
    raw.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let fix = |d: Datum| untag(d);
            to_case(&r.args, &r.kwargs, &r.expect)
                .map(|c| Case {
                    args: c.args.into_iter().map(fix).collect(),
                    kwargs: c.kwargs.into_iter().map(|(k, v)| (k, fix(v))).collect(),
                    expect: fix(c.expect),
                })
                .map_err(|e| format!("case {i}: {e}"))
        })
        .collect()
}

/// Resolves the wire tags (`$float`, `$int`, `$dict`) inside a value read from a file.
fn untag(d: Datum) -> Datum {
    match d {
        Datum::Map(mut m) => {
            if m.len() == 1 {
                if let Some(Datum::Str(s)) = m.get("$float") {
                    return match s.as_str() {
                        "nan" => Datum::Float(f64::NAN),
                        "inf" => Datum::Float(f64::INFINITY),
                        "-inf" => Datum::Float(f64::NEG_INFINITY),
                        _ => Datum::Str(s.clone()),
                    };
                }
                if let Some(Datum::Str(s)) = m.get("$int")
                    && let Ok(i) = s.parse()
                {
                    return Datum::Int(i);
                }
                if let Some(Datum::Map(inner)) = m.remove("$dict") {
                    return Datum::Map(inner.into_iter().map(|(k, v)| (k, untag(v))).collect());
                }
            }
            Datum::Map(m.into_iter().map(|(k, v)| (k, untag(v))).collect())
        }
        Datum::List(items) => Datum::List(items.into_iter().map(untag).collect()),
        other => other,
    }
}

fn read_truth(path: &Path, column: &str, sigma_column: Option<&str>) -> Result<Truth, String> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| e.to_string())?;
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let find = |name: &str| {
        headers.iter().position(|h| h.trim() == name).ok_or_else(|| {
            format!(
                "no column `{name}`; the columns are {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            )
        })
    };
    let col = find(column)?;
    let sig = sigma_column.map(find).transpose()?;
    let mut values = Vec::new();
    let mut sigma = sig.map(|_| Vec::new());
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("row {row}: {e}"))?;
        let parse = |c: usize| -> Result<f64, String> {
            let text = record.get(c).unwrap_or("").trim();
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(format!("row {row}: `{text}` is not a finite number")),
            }
        };
        values.push(parse(col)?);
        if let (Some(c), Some(s)) = (sig, sigma.as_mut()) {
            s.push(parse(c)?);
        }
    }
    Ok(Truth { values, sigma })
}
