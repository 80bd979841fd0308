"""Z boson mass and width from dimuon events (reference solution)."""

import csv
import json
import math
import sys

HIST_LO = 70.0      # GeV
HIST_HI = 110.0     # GeV
BIN = 0.5           # GeV
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))   # 2.3548...


def invariant_mass(E1, px1, py1, pz1, E2, px2, py2, pz2):
    """Invariant mass (GeV) of a pair of four-vectors (E, px, py, pz) in GeV."""
    E = E1 + E2
    px = px1 + px2
    py = py1 + py2
    pz = pz1 + pz2
    m2 = math.fsum([E * E, -px * px, -py * py, -pz * pz])
    if m2 <= 0.0:          # massless collinear pairs, or rounding below zero
        return 0.0
    return math.sqrt(m2)


def _solve3(a, b):
    """Solve the 3x3 linear system a x = b by Gaussian elimination with pivoting."""
    m = [list(a[i]) + [b[i]] for i in range(3)]
    for col in range(3):
        piv = max(range(col, 3), key=lambda r: abs(m[r][col]))
        if m[piv][col] == 0.0:
            return None
        m[col], m[piv] = m[piv], m[col]
        for r in range(col + 1, 3):
            f = m[r][col] / m[col][col]
            for c in range(col, 4):
                m[r][c] -= f * m[col][c]
    x = [0.0, 0.0, 0.0]
    for r in (2, 1, 0):
        x[r] = (m[r][3] - sum(m[r][c] * x[c] for c in range(r + 1, 3))) / m[r][r]
    return x


def _gauss_fit(centers, counts, mu, sigma):
    """Fit ln(count) = a + b t + c t^2 (t = x - mu), weights = counts, on mu +- 1.5 sigma.

    A Gaussian is a parabola in log space, so this is a Gaussian fit to the top of the
    peak (above about half maximum), where the radiative tail and the background hardly
    matter. Returns the new (mu, sigma), or None when the fit fails.
    """
    half = max(1.5 * sigma, 2.5 * BIN)
    s = [[0.0] * 3 for _ in range(3)]
    r = [0.0] * 3
    used = 0
    for x, n in zip(centers, counts):
        t = x - mu
        if n <= 0 or abs(t) > half:
            continue
        used += 1
        powers = (1.0, t, t * t)
        y = math.log(n)
        for i in range(3):
            r[i] += n * powers[i] * y
            for j in range(3):
                s[i][j] += n * powers[i] * powers[j]
    if used < 4:
        return None
    sol = _solve3(s, r)
    if sol is None or sol[2] >= 0.0:
        return None
    _, b, c = sol
    new_mu = mu - b / (2.0 * c)
    new_sigma = math.sqrt(-1.0 / (2.0 * c))
    if not (HIST_LO < new_mu < HIST_HI) or not (0.2 < new_sigma < 20.0):
        return None
    return new_mu, new_sigma


def estimate_peak(masses):
    """[mass, width] of the Z peak (GeV): peak position and full width at half maximum.

    Histogram 70-110 GeV in 0.5 GeV bins, start at the maximum of the 5-bin smoothed
    histogram, then repeatedly fit a Gaussian to the log of the counts within 1.5 sigma
    of the current centre. width = 2 sqrt(2 ln 2) sigma, the FWHM of the observed peak.
    """
    nbins = int(round((HIST_HI - HIST_LO) / BIN))
    counts = [0] * nbins
    inside = []
    for m in masses:
        m = float(m)
        if HIST_LO <= m < HIST_HI:
            counts[int((m - HIST_LO) / BIN)] += 1
            inside.append(m)
    if len(inside) < 10:
        inside.sort()
        if not inside:
            return [0.0, 0.0]
        return [inside[len(inside) // 2], 0.0]
    centers = [HIST_LO + (i + 0.5) * BIN for i in range(nbins)]
    smooth = [sum(counts[max(0, i - 2):i + 3]) for i in range(nbins)]
    imax = max(range(nbins), key=lambda i: smooth[i])
    mu, sigma = centers[imax], 2.5
    for _ in range(20):
        fit = _gauss_fit(centers, counts, mu, sigma)
        if fit is None:
            break
        done = abs(fit[0] - mu) < 1e-4 and abs(fit[1] - sigma) < 1e-4
        mu, sigma = fit
        if done:
            break
    return [mu, FWHM_PER_SIGMA * sigma]


def read_masses(path):
    """Pair masses from a CMS-style dimuon CSV, computed from the four-vectors."""
    names = ("E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2")
    masses = []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        cols = [header.index(k) for k in names]
        for row in reader:
            if row:
                masses.append(invariant_mass(*[float(row[c]) for c in cols]))
    return masses


def main(argv):
    if len(argv) != 3:
        print("usage: python zboson.py INPUT.csv OUTPUT.json", file=sys.stderr)
        return 2
    mass, width = estimate_peak(read_masses(argv[1]))
    with open(argv[2], "w") as f:
        json.dump({"mass": mass, "width": width}, f)
    print(f"m_Z = {mass:.3f} GeV")
    print(f"Gamma_Z = {width:.2f} GeV")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
