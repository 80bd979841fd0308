#!/usr/bin/env python3
"""Write the grader's hidden truth and cases, and print the numbers spec.yaml uses (numpy only).

Reads private/hidden_events.csv (make it first with generate_events.py) and writes:

private/hidden_hist.csv
    The hidden sample histogrammed in the assignment's fixed bins (EDGES below, the same list
    as in README.md): columns lo, hi, count, sigma with sigma = sqrt(count). The chi2/ndf test
    compares the student's expected counts with `count`, bin by bin, in this order. Masses are
    recomputed from the four-vectors in exact rational arithmetic and must agree with the M
    column; the script stops if a mass lies within EDGE_GUARD of a bin edge (a student's
    float arithmetic could then put it in the neighbouring bin) or if a bin is empty (sigma
    would be 0). Either would mean: pick another seed.

private/bw_cases.json
    Hidden cases for breit_wigner(m, mass, width). Expected values are computed with 50-digit
    decimal arithmetic from the formula in README.md and rounded to the nearest float.

It also prints the public breit_wigner cases written inline in spec.yaml, and the true mass of
the hidden sample: the generator's M_Z times the momentum scale (pass the same --scale as to
generate_events.py).

Usage (from grading-specs/z-fit/):  python3 tools/make_reference.py --scale 0.988
"""

import argparse
import csv
import decimal
import json
import math
import os
import sys
from fractions import Fraction

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import generate_events  # noqa: E402

# The fixed binning of the assignment (GeV): 1 GeV bins on the peak, wider bins in the tails so
# that every bin of a 2,000-event sample expects at least about 19 events (tools/README.md).
EDGES = [70, 75, 79, 82, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 98, 100, 104, 110]
# The M column (9 significant digits) is within 5e-7 GeV of the exact mass, and a float64
# computation from the four-vectors within about 1e-12 GeV: a mass farther than this from every
# edge lands in the same bin whichever way a student computes it.
EDGE_GUARD = 1e-5      # GeV
MIN_COUNT = 1          # sigma = sqrt(count) must be above 0

# Public cases (in spec.yaml): (m, mass, width).
PUBLIC_CASES = [
    (91.1876, 91.1876, 2.4952),      # at the pole: the maximum, k / (M^2 Gamma^2)
    (90.0, 91.1876, 2.4952),         # below the pole
    (93.0, 91.1876, 2.4952),         # above the pole
    (80.4, 80.377, 2.085),           # the W boson (PDG 2022 mass and width)
]
# Hidden cases: far tails, a wide and a very narrow resonance, m = 0, integers.
HIDDEN_CASES = [
    (60.0, 91.1876, 2.4952),
    (120.0, 91.1876, 2.4952),
    (92.4352, 91.1876, 2.4952),                # half a width above the pole: close to half maximum
    (0.0, 91.1876, 2.4952),                    # m = 0: finite, tiny
    (500.0, 91.1876, 2.4952),
    (3.0969, 3.0969, 9.26e-5),                 # J/psi at its pole: a huge, narrow peak
    (3.1, 3.0969, 9.26e-5),
    (12.0, 10.0, 8.0),                         # a very wide resonance: Gamma comparable to M
    (125, 125, 1),                             # integers are numbers too
    (90.5, 90.0933, 2.4653),                   # the hidden sample's own line shape
]


def bw_decimal(m, mass, width):
    """The relativistic Breit-Wigner of README.md in 50-digit decimal arithmetic."""
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        D = decimal.Decimal
        m, M, G = D(repr(float(m))), D(repr(float(mass))), D(repr(float(width)))
        pi = D("3.14159265358979323846264338327950288419716939937510")
        gamma = M * (M * M + G * G).sqrt()
        k = 2 * D(2).sqrt() * M * G * gamma / (pi * (M * M + gamma).sqrt())
        return float(k / ((m * m - M * M) ** 2 + M * M * G * G))


def bw_float(m, mass, width):
    """The same formula in float64, as a cross-check of bw_decimal."""
    gamma = mass * math.sqrt(mass * mass + width * width)
    k = 2.0 * math.sqrt(2.0) * mass * width * gamma / (math.pi * math.sqrt(mass * mass + gamma))
    return k / ((m * m - mass * mass) ** 2 + mass * mass * width * width)


def cases(triples):
    out = []
    for m, mass, width in triples:
        expect = bw_decimal(m, mass, width)
        check = bw_float(m, mass, width)
        assert abs(check - expect) <= 1e-12 * abs(expect), (m, mass, width, check, expect)
        out.append({"args": [m, mass, width], "expect": expect})
    return out


def exact_mass(row):
    """Pair mass from the row's four-vectors, m^2 in exact rational arithmetic."""
    e1, px1, py1, pz1, e2, px2, py2, pz2 = (Fraction(row[k]) for k in
                                            ("E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2"))
    m2 = (e1 + e2) ** 2 - (px1 + px2) ** 2 - (py1 + py2) ** 2 - (pz1 + pz2) ** 2
    return math.sqrt(m2) if m2 > 0 else 0.0


def hidden_histogram(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    masses = np.array([exact_mass(r) for r in rows])
    column = np.array([float(r["M"]) for r in rows])
    worst = float(np.max(np.abs(masses - column)))
    assert worst < 1e-6, f"the M column differs from the four-vectors by {worst} GeV"
    edges = np.array(EDGES, dtype=float)
    gap = np.min(np.abs(masses[:, None] - edges[None, :]))
    assert gap > EDGE_GUARD, f"a mass lies {gap:.2e} GeV from a bin edge: pick another seed"
    counts, _ = np.histogram(masses, edges)
    assert counts.min() >= MIN_COUNT, "an empty bin: pick another seed"
    return masses, counts, gap


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, required=True,
                        help="the momentum scale the hidden sample was generated with")
    args = parser.parse_args(argv)

    masses, counts, gap = hidden_histogram(os.path.join(ROOT, "private", "hidden_events.csv"))
    with open(os.path.join(ROOT, "private", "hidden_hist.csv"), "w", newline="") as f:
        f.write("lo,hi,count,sigma\n")
        for lo, hi, n in zip(EDGES[:-1], EDGES[1:], counts):
            f.write(f"{lo},{hi},{n},{math.sqrt(n):.6f}\n")

    hidden = cases(HIDDEN_CASES)
    with open(os.path.join(ROOT, "private", "bw_cases.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(c) for c in hidden) + "\n]\n")

    inside = int(counts.sum())
    print(f"hidden sample: {masses.size} events, {inside} in {EDGES[0]}-{EDGES[-1]} GeV, "
          f"counts per bin {counts.min()} to {counts.max()}, nearest mass to an edge {gap:.2e} GeV")
    print("counts:", " ".join(str(int(c)) for c in counts))
    print(f"true mass of the hidden sample: {args.scale} x {generate_events.M_Z} = "
          f"{args.scale * generate_events.M_Z:.7f} GeV")
    print("public breit_wigner cases (spec.yaml):")
    for c in cases(PUBLIC_CASES):
        print(f"  args {c['args']}  expect {c['expect']!r}")
    print(f"hidden breit_wigner cases: {len(hidden)} written to private/bw_cases.json")


if __name__ == "__main__":
    main()
