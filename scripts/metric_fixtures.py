#!/usr/bin/env python3
"""Reference values for src/metrics.rs, computed with scikit-learn, scipy and numpy.

Run from the repository root (any Python 3.10+ with these three libraries will do):

    python3 -m venv /tmp/fx && /tmp/fx/bin/pip install numpy scipy scikit-learn && /tmp/fx/bin/python scripts/metric_fixtures.py

It writes tests/fixtures/metrics.json, which tests/metrics_fixtures.rs replays against the Rust
implementation. The output is deterministic (fixed numpy seed) for given library versions.

File format:

    {
      "generated_by": {"python": ..., "numpy": ..., "scipy": ..., "scikit-learn": ..., "seed": ...},
      "cases": [
        {"metric": "roc_auc", "note": "...", "inputs": {...}, "expected": 0.73},
        {"metric": "roc_auc", "note": "...", "inputs": {...}, "error": "student",
         "message_contains": "row 3"},
        ...
      ]
    }

* `metric` is the Rust function name; `inputs` holds its arguments by parameter name (labels and
  predicted labels are JSON booleans, n_params an integer, everything else numbers).
* JSON has no NaN or infinity, so non-finite floats, in inputs and in `expected`, are written as
  the strings "nan", "inf" and "-inf". Every other float is a plain JSON number, written with
  Python's shortest round-trip repr.
* A case has either `expected` (the reference value) or `error`: "student" or "spec", the fault
  class the Rust code must return. `message_contains`, when present, must appear in the error text.
"""

from __future__ import annotations

import json
import math
import platform
import sys
from decimal import Decimal, getcontext
from pathlib import Path

import numpy as np
import scipy
import sklearn
from scipy.stats import ks_2samp
from sklearn.metrics import (
    accuracy_score,
    mean_absolute_error,
    mean_squared_error,
    roc_auc_score,
    roc_curve,
)

SEED = 20240607
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "metrics.json"
METRICS = [
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
]

rng = np.random.default_rng(SEED)
cases: list[dict] = []


def enc(value):
    """JSON-encode a float, bool, int or (nested) sequence; non-finite floats become strings."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(value, dict):
        return {k: enc(v) for k, v in value.items()}
    return [enc(v) for v in value]


def r6(xs):
    """Round to 6 decimals: keeps the JSON small; references are computed from the rounded values."""
    return np.round(np.asarray(xs, dtype=np.float64), 6)


def floats(xs) -> list[float]:
    return [float(x) for x in xs]


def bools(xs) -> list[bool]:
    return [bool(x) for x in xs]


def ok(metric: str, note: str, value: float, /, **inputs) -> None:
    """A case whose reference value is `value`; `inputs` are the Rust function's arguments."""
    cases.append({"metric": metric, "note": note, "inputs": enc(inputs), "expected": enc(float(value))})


def err(metric: str, note: str, fault: str, message_contains: str | None = None, /, **inputs) -> None:
    """A case that must fail with `fault` ("student" or "spec")."""
    assert fault in ("student", "spec")
    case = {"metric": metric, "note": note, "inputs": enc(inputs), "error": fault}
    if message_contains is not None:
        case["message_contains"] = message_contains
    cases.append(case)


# ----------------------------------------------------------------------------------------------
# Classification: roc_auc, accuracy, background_rejection
# ----------------------------------------------------------------------------------------------


def labelled_scores(n: int, frac_pos: float, sep: float):
    labels = rng.random(n) < frac_pos
    # Guarantee both classes.
    labels[0], labels[1] = True, False
    scores = rng.normal(0.0, 1.0, n) + sep * labels
    return labels, scores


def auc_case(note, labels, scores):
    labels, scores = bools(labels), floats(scores)
    ok("roc_auc", note, roc_auc_score(labels, scores), labels=labels, scores=scores)


auc_case("n=2, perfectly wrong", [True, False], [0.3, 0.7])
auc_case("n=2, perfect", [True, False], [0.7, 0.3])
auc_case("n=3, all scores tied", [True, False, False], [0.5, 0.5, 0.5])
auc_case("n=5, ties across classes", [True, False, True, False, True], [0.2, 0.2, 0.9, 0.1, 0.9])
auc_case("n=4, -0.0 and 0.0 are one tie", [True, False, True, False], [0.0, -0.0, 1.0, 0.0])
lab, sc = labelled_scores(1000, 0.4, 1.0)
auc_case("n=1000, continuous scores", lab, r6(sc))
auc_case("n=1000, scores rounded to 1 decimal (many ties)", lab, np.round(sc, 1))
auc_case("n=1000, integer scores 0..4 (heavy ties)", lab, np.clip(np.round(sc + 2), 0, 4))
lab2 = np.zeros(200, dtype=bool)
lab2[rng.choice(200, 5, replace=False)] = True
auc_case("n=200, 5 positives, duplicated values", lab2, np.round(rng.random(200), 2))
auc_case("n=6, duplicated values only", [True, True, False, False, True, False], [1.0, 2.0, 1.0, 2.0, 2.0, 1.0])

err("roc_auc", "NaN score", "student", "row 3",
    labels=[True, False, True, False, True], scores=[0.1, 0.2, 0.3, float("nan"), 0.5])
err("roc_auc", "+inf score", "student", "row 0", labels=[True, False], scores=[float("inf"), 0.2])
err("roc_auc", "one score short", "student", "expected 10 scores, got 9",
    labels=bools(lab[:10]), scores=floats(sc[:9]))
err("roc_auc", "one class only", "spec", labels=[True, True, True], scores=[0.1, 0.2, 0.3])
err("roc_auc", "no rows", "spec", labels=[], scores=[])

ok("accuracy", "n=1, correct", 1.0, labels=[True], predicted=[True])
acc_l, acc_p = [True, False, True, True, False], [True, True, True, False, False]
ok("accuracy", "n=5", accuracy_score(acc_l, acc_p), labels=acc_l, predicted=acc_p)
acc_l, acc_p = bools(lab), bools(sc > 0.5)
ok("accuracy", "n=1000", accuracy_score(acc_l, acc_p), labels=acc_l, predicted=acc_p)
err("accuracy", "no rows", "spec", labels=[], predicted=[])
err("accuracy", "too many predictions", "student", "expected 2 predictions, got 3",
    labels=[True, False], predicted=[True, False, True])


def rejection(labels, scores, eff: float) -> float:
    """1/eps_B at the highest threshold with TPR >= eff, from sklearn's full ROC curve."""
    fpr, tpr, _thresholds = roc_curve(labels, scores, drop_intermediate=False)
    # Thresholds decrease along the arrays, so the first qualifying index is the highest threshold.
    idx = int(np.argmax(tpr >= eff))
    assert tpr[idx] >= eff
    return math.inf if fpr[idx] == 0 else 1.0 / fpr[idx]


def rej_case(note, labels, scores, eff):
    labels, scores = bools(labels), floats(scores)
    ok("background_rejection", note, rejection(labels, scores, eff),
       labels=labels, scores=scores, signal_efficiency=eff)


lab3, sc3 = labelled_scores(1000, 0.5, 2.0)
sc3 = r6(sc3)
for eff in (0.3, 0.5, 0.9, 1.0):
    rej_case(f"n=1000, eff={eff}", lab3, sc3, eff)
for eff in (0.5, 0.8):
    rej_case(f"n=1000, scores rounded to 1 decimal, eff={eff}", lab3, np.round(sc3, 1), eff)
rej_case("n=6, TPR hits 0.5 exactly", [True, False, True, False, True, True],
         [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], 0.5)
rej_case("n=4, no background passes: eps_B = 0 gives inf", [True, True, False, False],
         [0.9, 0.8, 0.2, 0.1], 0.5)
rej_case("n=4, all tied", [True, False, True, False], [0.5, 0.5, 0.5, 0.5], 0.25)
rej_case("n=200, 5 signal rows, eff=0.6", lab2, np.round(rng.random(200), 2), 0.6)
err("background_rejection", "efficiency 0", "spec",
    labels=[True, False], scores=[0.9, 0.1], signal_efficiency=0.0)
err("background_rejection", "efficiency above 1", "spec",
    labels=[True, False], scores=[0.9, 0.1], signal_efficiency=1.5)
err("background_rejection", "efficiency NaN", "spec",
    labels=[True, False], scores=[0.9, 0.1], signal_efficiency=float("nan"))
err("background_rejection", "one class only", "spec",
    labels=[False, False], scores=[0.9, 0.1], signal_efficiency=0.5)
err("background_rejection", "no rows", "spec", labels=[], scores=[], signal_efficiency=0.5)
err("background_rejection", "NaN score", "student", "row 2",
    labels=[True, False, True], scores=[0.9, 0.1, float("nan")], signal_efficiency=0.5)
err("background_rejection", "score count short", "student", "expected 3 scores, got 2",
    labels=[True, False, True], scores=[0.9, 0.1], signal_efficiency=0.5)

# ----------------------------------------------------------------------------------------------
# Physics: asimov_significance, chi2_ndf, pull
# ----------------------------------------------------------------------------------------------

getcontext().prec = 50


def asimov_np(s: float, b: float) -> float:
    s_, b_ = np.float64(s), np.float64(b)
    return float(np.sqrt(2.0 * ((s_ + b_) * np.log1p(s_ / b_) - s_)))


def asimov_decimal(s: float, b: float) -> float:
    s_, b_ = Decimal(s), Decimal(b)
    inner = 2 * ((s_ + b_) * (1 + s_ / b_).ln() - s_)
    return float(inner.sqrt())


for s, b in [(10.0, 100.0), (5.0, 1.0), (100.0, 10.0), (0.5, 1000.0), (0.0, 5.0),
             (3.0, 0.2), (1e4, 1e6), (1.0, 1.0), (25.0, 25.0)]:
    z = asimov_np(s, b)
    # Sanity check of the reference itself against 50-digit arithmetic.
    assert abs(z - asimov_decimal(s, b)) <= 1e-11 * max(1.0, z), (s, b)
    ok("asimov_significance", f"s={s}, b={b}", z, s=s, b=b)
err("asimov_significance", "negative s", "student", s=-1.0, b=10.0)
err("asimov_significance", "b = 0", "student", s=1.0, b=0.0)
err("asimov_significance", "negative b", "student", s=1.0, b=-3.0)
err("asimov_significance", "NaN s", "student", s=float("nan"), b=10.0)
err("asimov_significance", "infinite b", "student", s=1.0, b=float("inf"))


def chi2_np(observed, expected, sigma, n_params) -> float:
    o, e, s = (np.asarray(v, dtype=np.float64) for v in (observed, expected, sigma))
    return float(np.sum(((o - e) / s) ** 2) / (len(e) - n_params))


def chi2_case(note, observed, expected, sigma, n_params):
    observed, expected, sigma = floats(observed), floats(expected), floats(sigma)
    ok("chi2_ndf", note, chi2_np(observed, expected, sigma, n_params),
       observed=observed, expected=expected, sigma=sigma, n_params=n_params)


xs = np.linspace(0.0, 10.0, 20)
exp20 = 2.0 * xs + 1.0
sig20 = rng.uniform(0.5, 1.5, 20)
chi2_case("n=20 straight line, 2 parameters", exp20 + sig20 * rng.normal(size=20), exp20, sig20, 2)
exp1k = r6(100.0 * np.exp(-np.linspace(0.0, 5.0, 1000)))
sig1k = r6(np.sqrt(exp1k) + 0.1)
chi2_case("n=1000 exponential, 3 parameters", r6(exp1k + sig1k * rng.normal(size=1000)), exp1k, sig1k, 3)
chi2_case("n=3, ndf=1", [1.0, 2.5, 2.0], [1.0, 2.0, 3.0], [0.5, 0.5, 1.0], 2)
chi2_case("n=2, 0 parameters, perfect", [4.0, 5.0], [4.0, 5.0], [1.0, 2.0], 0)
err("chi2_ndf", "sigma 0", "spec", observed=[1.0, 2.0, 3.0], expected=[1.0, 2.0, 3.0],
    sigma=[1.0, 0.0, 1.0], n_params=1)
err("chi2_ndf", "negative sigma", "spec", observed=[1.0, 2.0, 3.0], expected=[1.0, 2.0, 3.0],
    sigma=[1.0, 1.0, -1.0], n_params=1)
err("chi2_ndf", "ndf = 0", "spec", observed=[1.0, 2.0], expected=[1.0, 2.0], sigma=[1.0, 1.0], n_params=2)
err("chi2_ndf", "ndf < 0", "spec", observed=[1.0, 2.0], expected=[1.0, 2.0], sigma=[1.0, 1.0], n_params=5)
err("chi2_ndf", "no rows", "spec", observed=[], expected=[], sigma=[], n_params=0)
err("chi2_ndf", "NaN expected", "spec", observed=[1.0, 2.0], expected=[float("nan"), 2.0],
    sigma=[1.0, 1.0], n_params=0)
err("chi2_ndf", "sigma length differs from expected", "spec", observed=[1.0, 2.0], expected=[1.0, 2.0],
    sigma=[1.0], n_params=0)
err("chi2_ndf", "NaN observed", "student", "row 1", observed=[1.0, float("nan"), 3.0],
    expected=[1.0, 2.0, 3.0], sigma=[1.0, 1.0, 1.0], n_params=1)
err("chi2_ndf", "observed too short", "student", "expected 3 observed values, got 2",
    observed=[1.0, 2.0], expected=[1.0, 2.0, 3.0], sigma=[1.0, 1.0, 1.0], n_params=1)

for x, x_ref, sigma in [(1.3, 1.0, 0.1), (-2.0, 3.5, 2.2), (9.81, 9.80665, 0.005), (7.0, 7.0, 1.0)]:
    ok("pull", f"x={x}, x_ref={x_ref}, sigma={sigma}", float(np.abs(np.float64(x) - x_ref) / sigma),
       x=x, x_ref=x_ref, sigma=sigma)
err("pull", "sigma 0", "spec", x=1.0, x_ref=1.0, sigma=0.0)
err("pull", "negative sigma", "spec", x=1.0, x_ref=1.0, sigma=-0.5)
err("pull", "x is NaN", "student", x=float("nan"), x_ref=1.0, sigma=1.0)
err("pull", "x_ref is inf", "spec", x=1.0, x_ref=float("inf"), sigma=1.0)

# ----------------------------------------------------------------------------------------------
# Errors of scalars and vectors: abs_error, rel_error, rmse, mae, resolution
# ----------------------------------------------------------------------------------------------

for x, x_ref in [(1.5, 1.0), (-3.25, 2.0), (6.674e-11, 6.6743e-11), (0.0, 0.0)]:
    ok("abs_error", f"x={x}, x_ref={x_ref}", float(np.abs(np.float64(x) - x_ref)), x=x, x_ref=x_ref)
err("abs_error", "x is -inf", "student", x=float("-inf"), x_ref=1.0)
err("abs_error", "x_ref is NaN", "spec", x=1.0, x_ref=float("nan"))

for x, x_ref in [(1.5, 1.0), (-3.25, 2.0), (6.674e-11, 6.6743e-11), (299792.0, 299792.458), (0.0, -4.0)]:
    ok("rel_error", f"x={x}, x_ref={x_ref}", float(np.abs(np.float64(x) - x_ref) / np.abs(x_ref)),
       x=x, x_ref=x_ref)
err("rel_error", "x_ref = 0", "spec", x=1.0, x_ref=0.0)
err("rel_error", "x is inf", "student", x=float("inf"), x_ref=2.0)


def regression_case(note, predicted, truth):
    predicted, truth = floats(predicted), floats(truth)
    ok("rmse", note, float(np.sqrt(mean_squared_error(truth, predicted))), predicted=predicted, truth=truth)
    ok("mae", note, mean_absolute_error(truth, predicted), predicted=predicted, truth=truth)


regression_case("n=1", [2.5], [1.0])
regression_case("n=5", [1.0, 2.0, 3.0, 4.0, 5.0], [1.5, 2.0, 2.0, 4.5, 7.0])
truth1k = r6(rng.normal(50.0, 10.0, 1000))
regression_case("n=1000", r6(truth1k + rng.normal(0.3, 2.0, 1000)), truth1k)
regression_case("n=1000, exact predictions", truth1k, truth1k)
for metric in ("rmse", "mae"):
    err(metric, "no rows", "spec", predicted=[], truth=[])
    err(metric, "NaN prediction", "student", "row 2", predicted=[1.0, 2.0, float("nan")], truth=[1.0, 2.0, 3.0])
    err(metric, "inf truth", "spec", predicted=[1.0, 2.0], truth=[1.0, float("inf")])
    err(metric, "one prediction missing", "student", "expected 1000 predictions, got 999",
        predicted=floats(truth1k[:999]), truth=floats(truth1k))


def resolution_case(note, predicted, truth):
    predicted, truth = floats(predicted), floats(truth)
    p, t = np.asarray(predicted), np.asarray(truth)
    ok("resolution", note, float(np.std((p - t) / t, ddof=0)), predicted=predicted, truth=truth)


e_true = r6(rng.uniform(10.0, 100.0, 1000))
resolution_case("n=1000, 5% resolution plus 2% bias", r6(e_true * (1.02 + 0.05 * rng.normal(size=1000))), e_true)
resolution_case("n=1000, stochastic term 50%/sqrt(E)",
                r6(e_true * (1.0 + 0.5 / np.sqrt(e_true) * rng.normal(size=1000))), e_true)
resolution_case("n=1", [11.0], [10.0])
resolution_case("n=3, negative truth allowed", [-9.0, 2.2, 5.0], [-10.0, 2.0, 4.0])
err("resolution", "truth contains 0", "spec", predicted=[1.0, 2.0], truth=[1.0, 0.0])
err("resolution", "no rows", "spec", predicted=[], truth=[])
err("resolution", "inf prediction", "student", "row 1", predicted=[1.0, float("inf")], truth=[1.0, 2.0])
err("resolution", "length mismatch", "student", "expected 2 predictions, got 1", predicted=[1.0], truth=[1.0, 2.0])

# ----------------------------------------------------------------------------------------------
# Distributions: ks_statistic
# ----------------------------------------------------------------------------------------------


def ks_case(note, a, b):
    a, b = floats(a), floats(b)
    ok("ks_statistic", note, ks_2samp(a, b).statistic, a=a, b=b)


ks_a = r6(rng.normal(0.0, 1.0, 1000))
ks_b = r6(rng.normal(0.2, 1.1, 800))
ks_case("n=1000 vs n=800, shifted normals", ks_a, ks_b)
ks_case("rounded to 1 decimal (ties within and across samples)", np.round(ks_a, 1), np.round(ks_b, 1))
ks_case("identical samples", ks_a[:50], ks_a[:50])
ks_case("n=2 vs n=3, interleaved", [1.0, 3.0], [2.0, 2.0, 4.0])
ks_case("n=1 vs n=5", [0.5], [0.1, 0.2, 0.3, 0.4, 0.6])
ks_case("disjoint samples", [5.0, 6.0, 7.0], [1.0, 2.0])
ks_case("-0.0 and 0.0 are one value", [-0.0, 1.0], [0.0, 2.0])
ks_case("duplicated values", [1.0, 1.0, 1.0, 2.0], [1.0, 2.0, 2.0, 2.0])
err("ks_statistic", "student sample empty", "student", a=[], b=[1.0, 2.0])
err("ks_statistic", "reference sample empty", "spec", a=[1.0, 2.0], b=[])
err("ks_statistic", "NaN in student sample", "student", "row 1", a=[1.0, float("nan")], b=[1.0, 2.0])
err("ks_statistic", "inf in reference sample", "spec", a=[1.0, 2.0], b=[float("-inf"), 2.0])

# ----------------------------------------------------------------------------------------------

missing = set(METRICS) - {c["metric"] for c in cases}
assert not missing, f"no case for {missing}"
doc = {
    "generated_by": {
        "script": "scripts/metric_fixtures.py",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "seed": SEED,
        "non_finite_encoding": 'floats NaN, +inf, -inf are the strings "nan", "inf", "-inf"',
    },
    "cases": cases,
}
OUT.parent.mkdir(parents=True, exist_ok=True)
with OUT.open("w") as f:
    json.dump(doc, f, allow_nan=False, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {OUT}", file=sys.stderr)
