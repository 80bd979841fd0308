//! Physics and data-science metrics computed on the host: pure functions, no IO.
//!
//! Every metric returns a [`MetricResult`]: `Ok(value)` or a [`MetricError`] that says whose fault
//! the failure is. No function here panics, on any input.
//!
//! # Who owns which argument
//!
//! * **Student** values (what the submission computed): `scores`, `predicted`, `observed`, `x`,
//!   `s` and `b` of [`asimov_significance`], and `a` of [`ks_statistic`]. Problems with them are
//!   [`MetricError::Student`], with a message written for the student.
//! * **Instructor** values (the spec): `labels`, `truth`, `expected`, `sigma`, `x_ref`,
//!   `n_params`, `signal_efficiency`, and `b` of [`ks_statistic`]. Problems with them are
//!   [`MetricError::Spec`], with a message written for the instructor.
//!
//! # Edge-case rules, shared by every metric
//!
//! * A student value that is NaN or ±inf is a `Student` error naming the first bad row, 0-based
//!   (`"prediction at row 3 is NaN"`); scalar arguments have no row and are named instead.
//! * A student vector whose length differs from the truth's is a `Student` error giving both
//!   lengths (`"expected 1000 predictions, got 998"`).
//! * Empty truth (no rows) is a `Spec` error; so is a non-finite instructor value, and any other
//!   unusable instructor value (one class only, `sigma <= 0`, zero truth where it divides, ...).
//! * When both sides are at fault the `Spec` error wins: instructor-side checks run first,
//!   because a broken spec cannot grade any submission.
//! * An `Ok` value is never NaN. It is finite, except where a metric documents `+inf`
//!   ([`background_rejection`] with no background passing the cut) and where the true value
//!   exceeds the `f64` range (e.g. a residual of 1e308 - (-1e308)), which gives `+inf`.

use std::cmp::Ordering;

/// Whose fault a metric failure is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// The student's predictions are unusable (NaN, inf, wrong length, ...). Message is written for the student.
    #[error("{0}")]
    Student(String),
    /// The instructor's truth or parameters are unusable (one class only, no rows, bad parameter). Message written for the instructor.
    #[error("{0}")]
    Spec(String),
}

/// The value of a metric, or whose fault it is that there is none.
pub type MetricResult = Result<f64, MetricError>;

// ---------------------------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------------------------

fn describe(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "+inf"
    } else {
        "-inf"
    }
}

/// First non-finite student value → `Student("{what} at row {i} is NaN")`.
fn student_finite(what: &str, values: &[f64]) -> Result<(), MetricError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(MetricError::Student(format!(
            "{what} at row {i} is {}; every value must be a finite number",
            describe(values[i])
        ))),
        None => Ok(()),
    }
}

/// First non-finite instructor value → `Spec(...)`.
fn spec_finite(what: &str, values: &[f64]) -> Result<(), MetricError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(MetricError::Spec(format!(
            "{what} at row {i} is {}; reference values must be finite",
            describe(values[i])
        ))),
        None => Ok(()),
    }
}

fn student_scalar(what: &str, v: f64) -> Result<(), MetricError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(MetricError::Student(format!(
            "{what} is {}; it must be a finite number",
            describe(v)
        )))
    }
}

fn spec_scalar(what: &str, v: f64) -> Result<(), MetricError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(MetricError::Spec(format!(
            "{what} is {}; it must be finite",
            describe(v)
        )))
    }
}

fn spec_nonempty(what: &str, n: usize) -> Result<(), MetricError> {
    if n == 0 {
        Err(MetricError::Spec(format!(
            "{what} has no rows; nothing to grade against"
        )))
    } else {
        Ok(())
    }
}

fn student_len(expected: usize, got: usize, noun: &str) -> Result<(), MetricError> {
    if expected == got {
        Ok(())
    } else {
        Err(MetricError::Student(format!("expected {expected} {noun}, got {got}")))
    }
}

/// Counts of (positive, negative) labels; `Spec` error if either is zero.
fn two_classes(labels: &[bool], metric: &str) -> Result<(u64, u64), MetricError> {
    let n_pos = labels.iter().filter(|&&l| l).count() as u64;
    let n_neg = labels.len() as u64 - n_pos;
    if n_pos == 0 || n_neg == 0 {
        let which = if n_pos == 0 { "negative" } else { "positive" };
        return Err(MetricError::Spec(format!(
            "labels contain one class only (all {} rows are {which}); {metric} needs both classes",
            labels.len()
        )));
    }
    Ok((n_pos, n_neg))
}

/// Common checks for (labels, scores) metrics: spec first, then student.
fn check_binary_scores(labels: &[bool], scores: &[f64], metric: &str) -> Result<(u64, u64), MetricError> {
    spec_nonempty("labels", labels.len())?;
    let counts = two_classes(labels, metric)?;
    student_len(labels.len(), scores.len(), "scores")?;
    student_finite("score", scores)?;
    Ok(counts)
}

/// Common checks for (predicted, truth) regression metrics: spec first, then student.
fn check_regression(predicted: &[f64], truth: &[f64]) -> Result<(), MetricError> {
    spec_nonempty("truth", truth.len())?;
    spec_finite("truth", truth)?;
    student_len(truth.len(), predicted.len(), "predictions")?;
    student_finite("prediction", predicted)
}

// ---------------------------------------------------------------------------------------------
// Numeric helpers
// ---------------------------------------------------------------------------------------------

/// Neumaier (improved Kahan) summation. Stays exact-ish for mixed magnitudes; if the running sum
/// leaves the finite range, the (infinite) naive sum is returned rather than a NaN correction.
fn stable_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut sum = 0.0_f64;
    let mut comp = 0.0_f64;
    for x in values {
        let t = sum + x;
        if sum.abs() >= x.abs() {
            comp += (sum - t) + x;
        } else {
            comp += (x - t) + sum;
        }
        sum = t;
    }
    if sum.is_finite() && comp.is_finite() {
        sum + comp
    } else {
        sum
    }
}

/// A power of two to divide by so that values whose largest magnitude is `max_abs` can be squared
/// and summed without overflow or underflow. Dividing by a power of two is exact, so results
/// inside the comfortable range are bit-identical to unscaled arithmetic (the scale is then 1).
fn pow2_scale(max_abs: f64) -> f64 {
    const BIG: f64 = 2.582_249_878_086_908_6e120; // 2^400
    const SMALL: f64 = 3.872_591_914_849_318e-121; // 2^-400
    if max_abs > BIG {
        // Keep only the exponent bits: the largest power of two <= max_abs (max_abs is normal).
        f64::from_bits(max_abs.to_bits() & 0x7ff0_0000_0000_0000)
    } else if max_abs > 0.0 && max_abs < SMALL {
        SMALL
    } else {
        1.0
    }
}

fn max_abs(values: &[f64]) -> f64 {
    values.iter().fold(0.0_f64, |m, v| m.max(v.abs()))
}

/// Indices of `values` sorted ascending by `total_cmp` (a total order: no panics, stable).
fn argsort(values: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    idx
}

/// Maps an `Ok` NaN (only possible from overflowing intermediate arithmetic, inf - inf) to
/// `+inf`, so that callers never see NaN.
fn no_nan(v: f64) -> MetricResult {
    Ok(if v.is_nan() { f64::INFINITY } else { v })
}

// ---------------------------------------------------------------------------------------------
// Classification metrics
// ---------------------------------------------------------------------------------------------

/// Area under the ROC curve of `scores` for the binary `labels` (`true` = signal / positive).
///
/// Computed with the rank-sum (Mann-Whitney U) formula with average ranks for tied scores:
/// `AUC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg)`, where `R_pos` is the sum of the
/// positives' ranks. A tied (positive, negative) pair counts 1/2, exactly like
/// `sklearn.metrics.roc_auc_score`. The rank sum is kept in exact integer arithmetic (doubled
/// ranks), so the only rounding is the final division. `-0.0` and `0.0` are one tie.
///
/// Errors:
/// * `Spec`: `labels` empty; `labels` of one class only.
/// * `Student`: `scores.len() != labels.len()`; a score NaN or ±inf (first bad row named).
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> MetricResult {
    let (n_pos, n_neg) = check_binary_scores(labels, scores, "ROC AUC")?;
    let order = argsort(scores);
    // Twice the positives' rank sum: a tie group at sorted positions [start, end) has average
    // rank (start + 1 + end) / 2, so its doubled rank is the integer start + 1 + end.
    let mut twice_rank_sum: u128 = 0;
    let mut start = 0usize;
    while start < order.len() {
        let v = scores[order[start]];
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == v {
            end += 1;
        }
        let pos_in_group = order[start..end].iter().filter(|&&i| labels[i]).count() as u128;
        twice_rank_sum += pos_in_group * (start as u128 + 1 + end as u128);
        start = end;
    }
    let n_pos = u128::from(n_pos);
    let n_neg = u128::from(n_neg);
    // 2U = 2 R_pos - n_pos (n_pos + 1); never negative since R_pos >= n_pos (n_pos + 1) / 2.
    let twice_u = twice_rank_sum - n_pos * (n_pos + 1);
    Ok(twice_u as f64 / (2 * n_pos * n_neg) as f64)
}

/// Fraction of rows where `predicted[i] == labels[i]`.
///
/// Errors:
/// * `Spec`: `labels` empty.
/// * `Student`: `predicted.len() != labels.len()`.
pub fn accuracy(labels: &[bool], predicted: &[bool]) -> MetricResult {
    spec_nonempty("labels", labels.len())?;
    student_len(labels.len(), predicted.len(), "predictions")?;
    let correct = labels.iter().zip(predicted).filter(|(l, p)| l == p).count();
    Ok(correct as f64 / labels.len() as f64)
}

/// Background rejection `1 / eps_B` at the requested signal efficiency (`true` = signal).
///
/// How `eps_B` is read off the ROC curve (no interpolation):
/// 1. Sort by score, descending. The thresholds are the distinct scores; a row passes threshold
///    `t` when `score >= t`.
/// 2. For each threshold, signal efficiency `TPR(t)` = passing signal / all signal, and
///    background efficiency `FPR(t)` = passing background / all background.
/// 3. Pick the *highest* threshold whose `TPR(t) >= signal_efficiency` (the tightest cut that
///    still keeps the requested efficiency; it always exists because the lowest threshold has
///    `TPR = 1`). `eps_B` is that threshold's `FPR`.
///
/// This equals taking the first point of `sklearn.metrics.roc_curve(..., drop_intermediate=False)`
/// with `tpr >= signal_efficiency`. When `eps_B == 0` (no background passes the cut) the result
/// is `f64::INFINITY`; the grading layer is expected to cap it.
///
/// Errors:
/// * `Spec`: `labels` empty or of one class only; `signal_efficiency` not in `(0, 1]` (NaN
///   included).
/// * `Student`: `scores.len() != labels.len()`; a score NaN or ±inf (first bad row named).
pub fn background_rejection(labels: &[bool], scores: &[f64], signal_efficiency: f64) -> MetricResult {
    if !(signal_efficiency > 0.0 && signal_efficiency <= 1.0) {
        return Err(MetricError::Spec(format!(
            "signal efficiency must be in (0, 1], got {signal_efficiency}"
        )));
    }
    let (n_pos, n_neg) = check_binary_scores(labels, scores, "background rejection")?;
    let mut order = argsort(scores);
    order.reverse(); // descending
    let (mut tp, mut fp) = (0u64, 0u64);
    let mut start = 0usize;
    while start < order.len() {
        let v = scores[order[start]];
        let mut end = start;
        while end < order.len() && scores[order[end]] == v {
            if labels[order[end]] {
                tp += 1;
            } else {
                fp += 1;
            }
            end += 1;
        }
        if tp as f64 / n_pos as f64 >= signal_efficiency {
            let eps_b = fp as f64 / n_neg as f64;
            return Ok(if eps_b == 0.0 { f64::INFINITY } else { 1.0 / eps_b });
        }
        start = end;
    }
    // Unreachable in exact arithmetic (the last group has TPR = 1 >= any valid efficiency), but
    // never panic: with every row selected, eps_B = 1.
    Ok(1.0)
}

// ---------------------------------------------------------------------------------------------
// Physics metrics
// ---------------------------------------------------------------------------------------------

/// Asimov discovery significance `Z = sqrt(2 ((s + b) ln(1 + s/b) - s))`.
///
/// Both `s` (expected signal) and `b` (expected background) are treated as values the student
/// computed, so every problem with them is a `Student` error:
/// * `s` NaN, ±inf or negative;
/// * `b` NaN, ±inf, zero or negative.
///
/// `s == 0` gives `0`. Numerics: for `s/b <= 0.1` the bracket is evaluated by its series
/// `b Σ_{k>=2} (-1)^k (s/b)^k / (k (k-1))` to avoid cancellation; for `s/b > 1` with logarithms
/// of `s` and `b` separately, so that extreme ratios neither overflow nor lose precision.
pub fn asimov_significance(s: f64, b: f64) -> MetricResult {
    student_scalar("signal count s", s)?;
    student_scalar("background count b", b)?;
    if s < 0.0 {
        return Err(MetricError::Student(format!("signal count s must be >= 0, got {s}")));
    }
    if b <= 0.0 {
        return Err(MetricError::Student(format!("background count b must be > 0, got {b}")));
    }
    if s == 0.0 {
        return Ok(0.0);
    }
    let r = s / b;
    let z = if r <= 0.1 {
        // f(r) = (1+r) ln(1+r) - r = r^2 g(r), g(r) = Σ_{k>=2} (-1)^k r^(k-2) / (k (k-1)).
        let mut g = 0.0_f64;
        let mut term = 1.0_f64; // r^(k-2) with sign
        for k in 2..40u32 {
            let kf = f64::from(k);
            g += term / (kf * (kf - 1.0));
            term *= -r;
        }
        std::f64::consts::SQRT_2 * b.sqrt() * r * g.sqrt()
    } else if r <= 1.0 {
        let f = (1.0 + r) * r.ln_1p() - r;
        std::f64::consts::SQRT_2 * b.sqrt() * f.sqrt()
    } else {
        // Z^2 = 2 s [(L - 1) + L b/s] with L = ln(1 + s/b) = ln s - ln b + ln(1 + b/s).
        let q = b / s;
        let l = (s.ln() - b.ln()) + q.ln_1p();
        let bracket = (l - 1.0) + l * q;
        std::f64::consts::SQRT_2 * s.sqrt() * bracket.max(0.0).sqrt()
    };
    no_nan(z)
}

/// Reduced chi-square `sum(((observed - expected) / sigma)^2) / (n - n_params)`.
///
/// `observed` is the student's; `expected`, `sigma` and `n_params` are the instructor's.
///
/// Errors:
/// * `Spec`: `expected` empty; `sigma.len() != expected.len()`; an `expected` or `sigma` value
///   non-finite; a `sigma <= 0`; `ndf = n - n_params <= 0`.
/// * `Student`: `observed.len() != expected.len()`; an `observed` value NaN or ±inf.
pub fn chi2_ndf(observed: &[f64], expected: &[f64], sigma: &[f64], n_params: usize) -> MetricResult {
    let n = expected.len();
    spec_nonempty("expected", n)?;
    if sigma.len() != n {
        return Err(MetricError::Spec(format!(
            "sigma has {} rows but expected has {n}",
            sigma.len()
        )));
    }
    spec_finite("expected", expected)?;
    spec_finite("sigma", sigma)?;
    if let Some(i) = sigma.iter().position(|&s| s <= 0.0) {
        return Err(MetricError::Spec(format!(
            "sigma at row {i} is {}; uncertainties must be > 0",
            sigma[i]
        )));
    }
    let ndf = match n.checked_sub(n_params) {
        Some(d) if d > 0 => d,
        _ => {
            return Err(MetricError::Spec(format!(
                "ndf = {n} points - {n_params} parameters must be > 0"
            )));
        }
    };
    student_len(n, observed.len(), "observed values")?;
    student_finite("observed value", observed)?;
    let chi2 = stable_sum(observed.iter().zip(expected).zip(sigma).map(|((o, e), s)| {
        let z = (o - e) / s;
        z * z
    }));
    no_nan(chi2 / ndf as f64)
}

/// Pull `|x - x_ref| / sigma`: how many standard deviations the student's `x` is from `x_ref`.
///
/// Errors:
/// * `Spec`: `x_ref` or `sigma` non-finite; `sigma <= 0`.
/// * `Student`: `x` NaN or ±inf.
pub fn pull(x: f64, x_ref: f64, sigma: f64) -> MetricResult {
    spec_scalar("reference value x_ref", x_ref)?;
    spec_scalar("sigma", sigma)?;
    if sigma <= 0.0 {
        return Err(MetricError::Spec(format!("sigma must be > 0, got {sigma}")));
    }
    student_scalar("the answer", x)?;
    no_nan((x - x_ref).abs() / sigma)
}

/// Absolute error `|x - x_ref|`.
///
/// Errors:
/// * `Spec`: `x_ref` non-finite.
/// * `Student`: `x` NaN or ±inf.
pub fn abs_error(x: f64, x_ref: f64) -> MetricResult {
    spec_scalar("reference value x_ref", x_ref)?;
    student_scalar("the answer", x)?;
    no_nan((x - x_ref).abs())
}

/// Relative error `|x - x_ref| / |x_ref|`.
///
/// Errors:
/// * `Spec`: `x_ref` non-finite or zero (relative error undefined).
/// * `Student`: `x` NaN or ±inf.
pub fn rel_error(x: f64, x_ref: f64) -> MetricResult {
    spec_scalar("reference value x_ref", x_ref)?;
    if x_ref == 0.0 {
        return Err(MetricError::Spec(
            "reference value x_ref is 0; relative error is undefined (use abs_error)".to_owned(),
        ));
    }
    student_scalar("the answer", x)?;
    no_nan((x - x_ref).abs() / x_ref.abs())
}

/// Root-mean-square error `sqrt(mean((predicted - truth)^2))`.
///
/// Errors:
/// * `Spec`: `truth` empty; a `truth` value non-finite.
/// * `Student`: `predicted.len() != truth.len()`; a prediction NaN or ±inf.
pub fn rmse(predicted: &[f64], truth: &[f64]) -> MetricResult {
    check_regression(predicted, truth)?;
    let residuals: Vec<f64> = predicted.iter().zip(truth).map(|(p, t)| p - t).collect();
    let m = max_abs(&residuals);
    if !m.is_finite() {
        return Ok(f64::INFINITY);
    }
    let scale = pow2_scale(m);
    let sum_sq = stable_sum(residuals.iter().map(|r| {
        let u = r / scale;
        u * u
    }));
    no_nan((sum_sq / residuals.len() as f64).sqrt() * scale)
}

/// Mean absolute error `mean(|predicted - truth|)`.
///
/// Errors:
/// * `Spec`: `truth` empty; a `truth` value non-finite.
/// * `Student`: `predicted.len() != truth.len()`; a prediction NaN or ±inf.
pub fn mae(predicted: &[f64], truth: &[f64]) -> MetricResult {
    check_regression(predicted, truth)?;
    let abs_res: Vec<f64> = predicted.iter().zip(truth).map(|(p, t)| (p - t).abs()).collect();
    let m = max_abs(&abs_res);
    if !m.is_finite() {
        return Ok(f64::INFINITY);
    }
    let scale = pow2_scale(m);
    let sum = stable_sum(abs_res.iter().map(|r| r / scale));
    no_nan(sum / abs_res.len() as f64 * scale)
}

/// Resolution: the population standard deviation (ddof = 0) of the relative residuals
/// `(predicted - truth) / truth`, the usual detector-physics definition (e.g. the energy
/// resolution `sigma(E)/E`). Equals `np.std((pred - truth) / truth)`. It measures spread only: a
/// constant relative bias does not change it. One row gives `0`.
///
/// Errors:
/// * `Spec`: `truth` empty; a `truth` value non-finite or `0` (the relative residual divides by it).
/// * `Student`: `predicted.len() != truth.len()`; a prediction NaN or ±inf.
pub fn resolution(predicted: &[f64], truth: &[f64]) -> MetricResult {
    spec_nonempty("truth", truth.len())?;
    spec_finite("truth", truth)?;
    if let Some(i) = truth.iter().position(|&t| t == 0.0) {
        return Err(MetricError::Spec(format!(
            "truth at row {i} is 0; the relative residual (pred - truth) / truth is undefined"
        )));
    }
    check_regression(predicted, truth)?;
    let rel: Vec<f64> = predicted.iter().zip(truth).map(|(p, t)| (p - t) / t).collect();
    let m = max_abs(&rel);
    if !m.is_finite() {
        return Ok(f64::INFINITY);
    }
    let scale = pow2_scale(m);
    let n = rel.len() as f64;
    let mean = stable_sum(rel.iter().map(|q| q / scale)) / n;
    let var = stable_sum(rel.iter().map(|q| {
        let d = q / scale - mean;
        d * d
    })) / n;
    no_nan(var.sqrt() * scale)
}

/// Two-sample Kolmogorov-Smirnov statistic `D = sup_x |F_a(x) - F_b(x)|` of the empirical CDFs,
/// the same value as `scipy.stats.ks_2samp(a, b).statistic`. `a` is the student's sample, `b`
/// the reference sample; the two may differ in length.
///
/// Errors:
/// * `Spec`: `b` empty; a `b` value non-finite.
/// * `Student`: `a` empty; an `a` value NaN or ±inf.
pub fn ks_statistic(a: &[f64], b: &[f64]) -> MetricResult {
    spec_nonempty("reference sample b", b.len())?;
    spec_finite("reference sample b", b)?;
    if a.is_empty() {
        return Err(MetricError::Student(
            "the sample is empty; at least one value is needed".to_owned(),
        ));
    }
    student_finite("sample value", a)?;
    let mut sa = a.to_vec();
    let mut sb = b.to_vec();
    sa.sort_by(f64::total_cmp);
    sb.sort_by(f64::total_cmp);
    let (na, nb) = (sa.len() as f64, sb.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut d = 0.0_f64;
    while i < sa.len() || j < sb.len() {
        // Next distinct value of the pooled sample; `<=` treats -0.0 and 0.0 as one value.
        let v = match (sa.get(i), sb.get(j)) {
            (Some(&x), Some(&y)) => match x.partial_cmp(&y) {
                Some(Ordering::Greater) => y,
                _ => x,
            },
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        while i < sa.len() && sa[i] <= v {
            i += 1;
        }
        while j < sb.len() && sb[j] <= v {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn auc_counts_ties_as_half() {
        // Pairs (pos, neg): (0.5,0.5) tie → 1/2; (0.5,0.1) → 1; (0.9,0.5) → 1; (0.9,0.1) → 1.
        let auc = roc_auc(&[true, false, true, false], &[0.5, 0.5, 0.9, 0.1]).unwrap();
        assert_eq!(auc, 3.5 / 4.0);
        // All scores tied: exactly 1/2, and -0.0 ties with 0.0.
        let auc = roc_auc(&[true, false, false], &[0.0, -0.0, 0.0]).unwrap();
        assert_eq!(auc, 0.5);
    }

    #[test]
    fn auc_errors_name_the_culprit() {
        assert!(matches!(roc_auc(&[true, true], &[0.1, 0.2]), Err(MetricError::Spec(_))));
        assert!(matches!(roc_auc(&[], &[]), Err(MetricError::Spec(_))));
        let err = roc_auc(&[true, false, true, false], &[0.1, 0.2, 0.3, f64::NAN]).unwrap_err();
        assert_eq!(
            err,
            MetricError::Student("score at row 3 is NaN; every value must be a finite number".into())
        );
        let err = roc_auc(&[true, false, true], &[0.1, 0.2]).unwrap_err();
        assert_eq!(err, MetricError::Student("expected 3 scores, got 2".into()));
    }

    #[test]
    fn background_rejection_picks_highest_threshold() {
        // Descending: 0.9 S, 0.8 B, 0.7 S, 0.6 B, 0.5 S, 0.4 B.
        let labels = [true, false, true, false, true, false];
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
        // eff 1/3: threshold 0.9 has TPR 1/3 and FPR 0 → +inf.
        assert_eq!(
            background_rejection(&labels, &scores, 1.0 / 3.0).unwrap(),
            f64::INFINITY
        );
        // eff 0.5: first TPR >= 0.5 is at 0.7 (TPR 2/3), FPR 1/3 → 3.
        assert!(close(background_rejection(&labels, &scores, 0.5).unwrap(), 3.0));
        // eff 1: threshold 0.5, FPR 2/3 → 1.5.
        assert!(close(background_rejection(&labels, &scores, 1.0).unwrap(), 1.5));
        for bad in [0.0, -0.1, 1.01, f64::NAN] {
            assert!(matches!(
                background_rejection(&labels, &scores, bad),
                Err(MetricError::Spec(_))
            ));
        }
    }

    #[test]
    fn asimov_matches_closed_form_and_limits() {
        let naive = |s: f64, b: f64| (2.0 * ((s + b) * (s / b).ln_1p() - s)).sqrt();
        assert!(close(asimov_significance(10.0, 100.0).unwrap(), naive(10.0, 100.0)));
        assert!(close(asimov_significance(50.0, 20.0).unwrap(), naive(50.0, 20.0)));
        assert!(close(asimov_significance(5.0, 50.0).unwrap(), naive(5.0, 50.0)));
        // Small r = s/b: Z = s / sqrt(b) * (1 - r/6 + O(r^2)), where the naive form cancels.
        let z = asimov_significance(1e-6, 1.0).unwrap();
        assert!((z - 1e-6 * (1.0 - 1e-6 / 6.0)).abs() < 1e-18, "{z}");
        // s/b = 1e310 overflows f64, Z does not: Z^2 = 2 s (ln(s/b) - 1) + O(b).
        let z = asimov_significance(1e10, 1e-300).unwrap();
        let want = (2e10 * (310.0 * std::f64::consts::LN_10 - 1.0)).sqrt();
        assert!((z - want).abs() <= 1e-12 * want, "{z} vs {want}");
        assert_eq!(asimov_significance(0.0, 3.0).unwrap(), 0.0);
        assert!(matches!(asimov_significance(-1.0, 3.0), Err(MetricError::Student(_))));
        assert!(matches!(asimov_significance(1.0, 0.0), Err(MetricError::Student(_))));
        assert!(matches!(
            asimov_significance(f64::NAN, 1.0),
            Err(MetricError::Student(_))
        ));
    }

    #[test]
    fn chi2_and_scalar_errors() {
        let v = chi2_ndf(&[1.0, 2.0, 4.0], &[1.0, 1.0, 1.0], &[1.0, 1.0, 2.0], 1).unwrap();
        assert!(close(v, (0.0 + 1.0 + 2.25) / 2.0));
        assert!(matches!(chi2_ndf(&[1.0], &[1.0], &[0.0], 0), Err(MetricError::Spec(_))));
        assert!(matches!(
            chi2_ndf(&[1.0, 2.0], &[1.0, 2.0], &[1.0, 1.0], 2),
            Err(MetricError::Spec(_))
        ));
        assert!(close(pull(3.0, 1.0, 0.5).unwrap(), 4.0));
        assert!(matches!(pull(3.0, 1.0, 0.0), Err(MetricError::Spec(_))));
        assert!(matches!(pull(f64::INFINITY, 1.0, 1.0), Err(MetricError::Student(_))));
        assert!(matches!(rel_error(1.0, 0.0), Err(MetricError::Spec(_))));
        assert!(close(rel_error(1.1, -1.0).unwrap(), 2.1));
        assert!(close(abs_error(-2.0, 0.5).unwrap(), 2.5));
    }

    #[test]
    fn regression_metrics_and_extremes() {
        assert!(close(rmse(&[1.0, 3.0], &[0.0, 0.0]).unwrap(), 5.0_f64.sqrt()));
        assert!(close(mae(&[1.0, -3.0], &[0.0, 0.0]).unwrap(), 2.0));
        // Huge but representable residuals: no overflow in the squares.
        assert!(close(
            rmse(&[3e200, 4e200], &[0.0, 0.0]).unwrap(),
            12.5_f64.sqrt() * 1e200
        ));
        // Tiny residuals: no underflow to 0.
        let r = rmse(&[1e-200], &[0.0]).unwrap();
        assert!((r - 1e-200).abs() <= 1e-214, "{r}");
        // Resolution: relative residuals 0.1, -0.1 → std 0.1; a constant bias adds nothing.
        assert!(close(resolution(&[11.0, 18.0], &[10.0, 20.0]).unwrap(), 0.1));
        assert!(close(resolution(&[11.0, 22.0], &[10.0, 20.0]).unwrap(), 0.0));
        assert!(matches!(resolution(&[1.0], &[0.0]), Err(MetricError::Spec(_))));
        let err = mae(&[1.0, 2.0], &[1.0, 2.0, 3.0]).unwrap_err();
        assert_eq!(err, MetricError::Student("expected 3 predictions, got 2".into()));
    }

    #[test]
    fn ks_statistic_values_and_blame() {
        assert_eq!(ks_statistic(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).unwrap(), 0.0);
        assert_eq!(ks_statistic(&[1.0, 2.0], &[3.0, 4.0]).unwrap(), 1.0);
        // F_a jumps to 1/2 at 1 while F_b is 0 until 2 → D = 1/2.
        assert_eq!(ks_statistic(&[1.0, 3.0], &[2.0, 4.0]).unwrap(), 0.5);
        assert!(matches!(ks_statistic(&[], &[1.0]), Err(MetricError::Student(_))));
        assert!(matches!(ks_statistic(&[1.0], &[]), Err(MetricError::Spec(_))));
    }
}
