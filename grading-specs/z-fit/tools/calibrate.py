#!/usr/bin/env python3
"""Toy study behind the numbers in spec.yaml (needs numpy and scipy: run it in the course image).

Draws many samples like the hidden one (same size, same momentum scale, other seeds), fits each
with the reference solution (submissions/full/zfit.py) and with simpler models students may
use, and prints for each model:

  bias     mean fitted mass minus the true mass (scale x M_Z)
  spread   standard deviation of the fitted mass over the toys: the statistical error of a
           2,000-event measurement, which spec.yaml uses as the pull's sigma and as the
           reference for the reported uncertainty
  err      mean uncertainty curve_fit reports (absolute_sigma=True)
  chi2/ndf quantiles of chi2/ndf against each toy's own histogram, as the grader computes it
           (sigma = sqrt(count), ndf = bins - 5)
  points   mean fraction of the points of the three metric tests under spec.yaml's rules
           (SCORE below; keep the two in step)

The models: `reference` (relativistic Breit-Wigner x Gaussian + exponential background,
Gamma fixed), `voigt` (scipy.special.voigt_profile, the non-relativistic Breit-Wigner x
Gaussian, + exponential background), `no background` (the reference without its background),
`gauss + exp` (Gaussian peak + exponential background) and `gauss` (a plain Gaussian, like
submissions/partial). All are fitted to the histogram in the assignment's bins with
sigma = sqrt(count).

Usage, from grading-specs/z-fit/ (about 0.2 s per toy):
  docker run --rm -v "$PWD":/w -w /w autograder-course:bookworm \
      python3 tools/calibrate.py --toys 1000 --scale 0.988
  ... python3 tools/calibrate.py --toys 300 --scale 0.988 --fsr 0.25   # with a radiative tail
"""

import argparse
import os
import sys

import numpy as np
from scipy.optimize import curve_fit
from scipy.special import erf, voigt_profile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "submissions", "full"))
import generate_events  # noqa: E402
import make_reference  # noqa: E402
import zfit  # noqa: E402  (the reference solution)

assert list(zfit.EDGES) == make_reference.EDGES, "the solution's bins differ from the tools' bins"
EDGES = zfit.EDGES
N_PARAMS = 5
INF = np.inf

# spec.yaml's scoring, as (metric, rule): keep in step with the spec.
SIGMA_STAT = 0.066                      # GeV: pull sigma and reference uncertainty
SCORE = {
    "pull": ("ramp", 8.0, 3.0),         # zero_at, full_at
    "chi2": ("window", 0.2, 2.5),       # threshold min, max
    "err": ("ramp", 1.0, 0.25),         # rel_error of the uncertainty: zero_at, full_at
}


def ramp(value, zero_at, full_at):
    return float(np.clip((value - zero_at) / (full_at - zero_at), 0.0, 1.0))


def gauss_counts(edges, n, mu, sigma):
    return n * np.diff(0.5 * (1.0 + erf((edges - mu) / (sigma * np.sqrt(2.0)))))


def voigt_counts(edges, n_sig, mass, sigma, n_bkg, slope):
    # Simpson's rule on 8 sub-intervals of each bin
    t = np.linspace(0.0, 1.0, 9)
    w = np.array([1, 4, 2, 4, 2, 4, 2, 4, 1]) / 24.0
    x = edges[:-1, None] + np.diff(edges)[:, None] * t
    signal = (voigt_profile(x - mass, sigma, zfit.GAMMA_Z / 2.0) @ w) * np.diff(edges)
    return n_sig * signal + n_bkg * zfit.background_fractions(edges, slope)


MODELS = {
    "reference": (zfit.expected_counts,
                  lambda n, m0: [0.9 * n, m0, 1.5, 0.1 * n, 0.05],
                  ([0, 70, 0.3, 0, -0.5], [INF, 110, 6, INF, 0.5])),
    "voigt": (voigt_counts,
              lambda n, m0: [0.9 * n, m0, 1.5, 0.1 * n, 0.05],
              ([0, 70, 0.3, 0, -0.5], [INF, 110, 6, INF, 0.5])),
    "no background": (lambda e, n, m, s: n * zfit.signal_fractions(e, m, s),
                      lambda n, m0: [n, m0, 1.5],
                      ([0, 70, 0.3], [INF, 110, 6])),
    "gauss + exp": (lambda e, n, m, s, nb, sl: gauss_counts(e, n, m, s) + nb * zfit.background_fractions(e, sl),
                    lambda n, m0: [0.9 * n, m0, 2.5, 0.1 * n, 0.05],
                    ([0, 70, 0.3, 0, -0.5], [INF, 110, 20, INF, 0.5])),
    "gauss": (gauss_counts,
              lambda n, m0: [n, m0, 2.5],
              ([0, 70, 0.3], [INF, 110, 20])),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toys", type=int, default=1000)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--scale", type=float, default=0.988)
    parser.add_argument("--fsr", type=float, default=0.0)
    parser.add_argument("--first-seed", type=int, default=1000,
                        help="toys use seeds first-seed, first-seed + 1, ... (the data files use 1 and 2)")
    args = parser.parse_args(argv)
    truth = args.scale * generate_events.M_Z
    rows = {name: [] for name in MODELS}
    failed = {name: 0 for name in MODELS}
    for seed in range(args.first_seed, args.first_seed + args.toys):
        masses = args.scale * generate_events.masses(generate_events.Uniforms(seed), args.events, args.fsr)
        counts = np.histogram(masses, EDGES)[0].astype(float)
        if counts.min() == 0:
            print(f"seed {seed}: an empty bin, skipped (the grader could not use it either)")
            continue
        peak = np.argmax(counts / np.diff(EDGES))
        m0 = 0.5 * (EDGES[peak] + EDGES[peak + 1])
        for name, (model, start, bounds) in MODELS.items():
            try:
                p, cov = curve_fit(model, EDGES, counts, p0=start(counts.sum(), m0), sigma=np.sqrt(counts),
                                   absolute_sigma=True, bounds=bounds)
            except (RuntimeError, ValueError):
                failed[name] += 1
                continue
            chi2 = np.sum((model(EDGES, *p) - counts) ** 2 / counts) / (len(counts) - N_PARAMS)
            rows[name].append((p[1], np.sqrt(cov[1, 1]), chi2))
    print(f"{args.toys} toys of {args.events} events, scale {args.scale} (true mass {truth:.4f} GeV), "
          f"fsr {args.fsr}; points use sigma_stat = {SIGMA_STAT} GeV")
    print(f"{'model':14s} {'bias':>8s} {'spread':>7s} {'err':>6s} | chi2/ndf: {'0.5%':>5s} {'median':>6s} "
          f"{'99.5%':>6s} {'max':>6s} | mean points: {'pull':>5s} {'chi2':>5s} {'err':>5s}")
    for name, r in rows.items():
        a = np.array(r)
        mass, err, chi2 = a[:, 0], a[:, 1], a[:, 2]
        pull = np.abs(mass - truth) / SIGMA_STAT
        p_pull = np.mean([ramp(x, *SCORE["pull"][1:]) for x in pull])
        lo, hi = SCORE["chi2"][1:]
        p_chi2 = np.mean((chi2 >= lo) & (chi2 <= hi))
        p_err = np.mean([ramp(abs(e - SIGMA_STAT) / SIGMA_STAT, *SCORE["err"][1:]) for e in err])
        q = np.quantile(chi2, [0.005, 0.5, 0.995])
        print(f"{name:14s} {mass.mean() - truth:+8.4f} {mass.std():7.4f} {err.mean():6.4f} | "
              f"{'':9s} {q[0]:5.2f} {q[1]:6.2f} {q[2]:6.2f} {chi2.max():6.2f} | "
              f"{'':12s} {p_pull:5.3f} {p_chi2:5.3f} {p_err:5.3f}"
              + (f"  ({failed[name]} fits failed)" if failed[name] else ""))


if __name__ == "__main__":
    main()
