"""Z boson mass from a fit to the dimuon mass spectrum (reference solution).

Model of the counts in each bin: a relativistic Breit-Wigner (Gamma_Z fixed at its PDG value)
convolved with a Gaussian detector resolution, plus an exponentially falling background.
Five free parameters: signal events, mass, resolution, background events, background slope.
"""

import json
import sys

import numpy as np
from scipy.optimize import curve_fit

# The assignment's fixed binning (GeV).
EDGES = np.array([70, 75, 79, 82, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96,
                  98, 100, 104, 110], dtype=float)
GAMMA_Z = 2.4952            # GeV, PDG; fixed in the fit
STEP = 0.05                 # GeV, grid for the convolution
GRID = np.arange(40.0, 140.0 + STEP / 2, STEP)


def breit_wigner(m, mass, width):
    """Relativistic Breit-Wigner, normalised to 1 over 0 < m < infinity (1/GeV).

    A float for a number m, an array for an array.
    """
    m = np.asarray(m, dtype=float)
    gamma = mass * np.sqrt(mass**2 + width**2)
    k = 2.0 * np.sqrt(2.0) * mass * width * gamma / (np.pi * np.sqrt(mass**2 + gamma))
    f = k / ((m**2 - mass**2) ** 2 + mass**2 * width**2)
    return float(f) if f.ndim == 0 else f


def signal_fractions(edges, mass, sigma):
    """Fraction of the smeared Breit-Wigner in each bin: BW (x) Gauss(sigma), integrated."""
    density = breit_wigner(GRID, mass, GAMMA_Z)
    half = int(np.ceil(6.0 * sigma / STEP))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * STEP / sigma) ** 2)
    smeared = np.convolve(density, kernel / kernel.sum(), mode="same")
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (smeared[1:] + smeared[:-1]) * STEP)])
    return np.diff(np.interp(edges, GRID, cdf))


def background_fractions(edges, slope):
    """Fraction of exp(-slope * m), normalised on the fit range, in each bin."""
    x = edges - edges[0]
    if abs(slope) < 1e-9:
        return np.diff(x) / x[-1]
    cdf = -np.expm1(-slope * x)
    return np.diff(cdf) / cdf[-1]


def expected_counts(edges, n_signal, mass, sigma, n_background, slope):
    """The model: expected events in each bin."""
    return (n_signal * signal_fractions(edges, mass, sigma)
            + n_background * background_fractions(edges, slope))


def fit(masses):
    """Fit the histogram of `masses` in EDGES. Returns (parameters, errors, expected counts)."""
    counts, _ = np.histogram(masses, EDGES)
    counts = counts.astype(float)
    total = counts.sum()
    peak = np.argmax(counts / np.diff(EDGES))
    start = [0.9 * total, 0.5 * (EDGES[peak] + EDGES[peak + 1]), 1.5, 0.1 * total, 0.05]
    bounds = ([0.0, EDGES[0], 0.3, 0.0, -0.5], [np.inf, EDGES[-1], 6.0, np.inf, 0.5])
    # Poisson errors on the counts; absolute_sigma: they are real errors, not relative weights.
    errors = np.sqrt(np.maximum(counts, 1.0))
    params, cov = curve_fit(expected_counts, EDGES, counts, p0=start, sigma=errors,
                            absolute_sigma=True, bounds=bounds)
    return params, np.sqrt(np.diag(cov)), expected_counts(EDGES, *params), counts


def read_masses(path):
    """Pair masses (GeV) from a CMS-style dimuon CSV, computed from the four-vectors."""
    with open(path) as f:
        header = f.readline().strip().split(",")
    cols = [header.index(k) for k in ("E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2")]
    v = np.loadtxt(path, delimiter=",", skiprows=1, usecols=cols, ndmin=2)
    e, p = v[:, 0] + v[:, 4], v[:, 1:4] + v[:, 5:8]
    return np.sqrt(np.maximum(e**2 - np.sum(p**2, axis=1), 0.0))


def main(argv):
    if len(argv) != 3:
        print("usage: python zfit.py INPUT.csv OUTPUT.json", file=sys.stderr)
        return 2
    params, errors, expected, counts = fit(read_masses(argv[1]))
    chi2 = float(np.sum((expected - counts) ** 2 / np.maximum(counts, 1.0)))
    ndf = len(counts) - len(params)
    with open(argv[2], "w") as f:
        json.dump({"mass": float(params[1]), "mass_err": float(errors[1]),
                   "expected": expected.tolist()}, f)
    print(f"m_Z = {params[1]:.3f} +- {errors[1]:.3f} GeV")
    print(f"resolution = {params[2]:.2f} +- {errors[2]:.2f} GeV")
    print(f"chi2/ndf = {chi2:.1f}/{ndf}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
