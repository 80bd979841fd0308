#!/usr/bin/env python3
"""Write the hidden function cases private/mass_cases.json and private/peak_cases.json.

mass_cases.json: calls of invariant_mass(E1, px1, py1, pz1, E2, px2, py2, pz2). Each expected
mass is computed exactly: m^2 = (E1+E2)^2 - |p1+p2|^2 in rational arithmetic (fractions.Fraction,
exact for the binary floats given), cross-checked against math.fsum, then the square root is
taken to 40 digits (decimal) and rounded to the nearest float. When the exact m^2 is <= 0 the
expected mass is 0.0 (the task says: 0.0 rather than NaN).

peak_cases.json: calls of estimate_peak(masses) on three generated samples (seeds 21, 22, 23,
1000 events each, the M column of generate_events.py), each multiplied by a momentum-scale
factor (0.96, 1.00, 1.04) as a miscalibrated detector would: an estimator must find the peak
wherever it is, so a hard-coded 91.19 cannot pass. The expected value is the generator's truth
scaled by the same factor, not the output of any solution: s * [M_PEAK, VISIBLE_FWHM] with
  M_PEAK = 91.1876 GeV, the Z pole mass of the generator (the mode of the observed distribution
           sits at 91.08 GeV, pulled down by radiation and resolution), and
  VISIBLE_FWHM = 5.40 GeV, the full width at half maximum of the generator's observed mass
           density (Breit-Wigner with Gamma_Z = 2.4952 GeV, radiative tail, 1.5 GeV Gaussian
           resolution and background), computed by numerical convolution of the generator's
           densities on a 0.02 GeV grid (5.405 GeV) and confirmed on 2,000,000 generated events.
Grade these with a tolerance (suggested: absolute 0.5 GeV on the mass, 1.0 GeV on the width).
The script prints what the reference solution (submissions/full) gives on each case.

Usage (from grading-specs/z-boson/):  python3 tools/make_cases.py
"""

import csv
import decimal
import json
import math
import os
import sys
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import generate_events  # noqa: E402

M_PEAK = 91.1876
VISIBLE_FWHM = 5.40
PEAK_SEEDS = (21, 22, 23)
PEAK_SCALES = (0.96, 1.00, 1.04)
PEAK_EVENTS = 1000
HIDDEN_ROWS = (0, 2, 9, 11, 14)       # rows of private/hidden_events.csv used as mass cases


def exact_mass(args):
    e1, px1, py1, pz1, e2, px2, py2, pz2 = (Fraction(a) for a in args)
    m2 = (e1 + e2) ** 2 - (px1 + px2) ** 2 - (py1 + py2) ** 2 - (pz1 + pz2) ** 2
    f = [float(a) for a in args]
    fs = math.fsum([(f[0] + f[4]) ** 2, -(f[1] + f[5]) ** 2, -(f[2] + f[6]) ** 2, -(f[3] + f[7]) ** 2])
    assert abs(fs - float(m2)) <= 1e-9 * max(1.0, abs(float(m2))), (fs, float(m2))
    if m2 <= 0:
        return 0.0
    with decimal.localcontext() as ctx:
        ctx.prec = 40
        root = (decimal.Decimal(m2.numerator) / decimal.Decimal(m2.denominator)).sqrt()
    return float(root)


def mass_cases():
    mu = generate_events.M_MU
    p = 45.5
    e = math.sqrt(p * p + mu * mu)
    cases = [
        # back-to-back muons along x, each with |p| = 45.5 GeV: m = 2 E
        [e, p, 0.0, 0.0, e, -p, 0.0, 0.0],
        # integers, back to back along z: m = 100
        [50, 0, 0, 50, 50, 0, 0, -50],
        # collinear massless pair: m = 0 exactly
        [10.0, 0.0, 0.0, 10.0, 20.0, 0.0, 0.0, 20.0],
        # collinear massless pair whose naive m^2 comes out slightly negative (about -2e-12) in
        # floating point: the answer is 0.0, not NaN
        [59.129648097144944, -17.862912, -37.586544, -42.005754,
         36.694498500975534, -11.085312, -23.325344, -26.067804],
        # high-mass pair: two 500 GeV muons with an opening angle of about 120 degrees
        [500.0, 433.0127, 250.0, 0.0, 500.0, -433.0127, 250.0, 0.0],
        # low-mass pair of generic (non-muon) four-vectors, m about 3.06 GeV
        [15.2, 3.1, 0.4, 14.8, 9.7, 1.9, -0.3, 9.4],
    ]
    names = ("E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2")
    with open(os.path.join(ROOT, "private", "hidden_events.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    for i in HIDDEN_ROWS:
        cases.append([float(rows[i][k]) for k in names])
    out = []
    for args in cases:
        out.append({"args": args, "expect": exact_mass(args)})
    return out


def peak_cases():
    out = []
    for seed, scale in zip(PEAK_SEEDS, PEAK_SCALES):
        masses = [round(scale * float(row[-1]), 4) for row in generate_events.generate(seed, PEAK_EVENTS)]
        out.append({"args": [masses], "expect": [round(scale * M_PEAK, 4), round(scale * VISIBLE_FWHM, 4)]})
    return out


def dump_cases(path, cases):
    """One case per line, so that the file stays readable and diffs stay small."""
    with open(path, "w") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(c, separators=(", ", ": ")) for c in cases))
        f.write("\n]\n")


def main():
    mc = mass_cases()
    pc = peak_cases()
    dump_cases(os.path.join(ROOT, "private", "mass_cases.json"), mc)
    dump_cases(os.path.join(ROOT, "private", "peak_cases.json"), pc)
    for c in mc:
        print("mass case", c["args"], "->", c["expect"])
    sys.path.insert(0, os.path.join(ROOT, "submissions", "full"))
    import zboson  # the reference solution
    for seed, scale, c in zip(PEAK_SEEDS, PEAK_SCALES, pc):
        m, w = zboson.estimate_peak(c["args"][0])
        print(f"peak case seed {seed}: expect {c['expect']}, reference gives mass {m:.3f} "
              f"(off {m - c['expect'][0]:+.3f}), width {w:.3f} (off {w - c['expect'][1]:+.3f}), scale {scale}")
    for c in mc:
        got = zboson.invariant_mass(*c["args"])
        assert abs(got - c["expect"]) <= 1e-9 * max(1.0, c["expect"]), (c, got)


if __name__ == "__main__":
    main()
