#!/usr/bin/env python3
"""Generate toy Z -> mu+ mu- events in the CMS dimuon CSV layout (numpy only).

The output has the columns of the CMS 2010 open-data dimuon file
(`Type,Run,Event,E1,px1,py1,pz1,pt1,eta1,phi1,Q1,E2,px2,py2,pz2,pt2,eta2,phi2,Q2,M`),
so a student program written for the generated files also runs on the real data.

Physics model (energies, momenta and masses in GeV, c = 1)
----------------------------------------------------------
Each event is one opposite-charge muon pair whose mass lies in the window
[M_LO, M_HI] = [60, 120] GeV. With probability BKG_FRACTION it is a background
pair, otherwise a Z decay (signal).

Signal mass, in two steps:

1. Line shape: the relativistic Breit-Wigner distribution of the mass,
       dN/dm  ~  1 / ((m^2 - M_Z^2)^2 + M_Z^2 Gamma_Z^2),
   with the PDG values M_Z = 91.1876 GeV and Gamma_Z = 2.4952 GeV, truncated to
   m in [TRUE_LO, TRUE_HI] = [50, 130] GeV. This is the function the students
   write as `breit_wigner` (normalised there on 0 < m < infinity). It is drawn
   exactly in two steps: s = m^2 from dN/ds ~ 1 / ((s - M_Z^2)^2 + M_Z^2 Gamma_Z^2)
   by inverting its CDF (s = M_Z^2 + M_Z Gamma_Z tan(theta), theta uniform);
   that gives dN/dm ~ 2m / (...), so each mass is then kept with probability
   TRUE_LO / m, which divides by m (about 55 % are kept).
2. Detector resolution: m -> m + N(0, SIGMA_RES), SIGMA_RES = 1.5 GeV.
A signal mass that ends up outside [60, 120] GeV is drawn again.

By default there is no final-state radiation (the z-boson example's toy has a
radiative low-mass tail). Here the students fit a model, Breit-Wigner x Gaussian
plus an exponential background, and the chi2/ndf test judges whether the model
describes the sample, so the sample must be one that such a model can describe
within the statistics of 2,000 events. `--fsr P` adds the z-boson tail for
experiments: with probability P a photon takes a fraction x of the mass,
m -> m (1 - x) before the smearing, x exponential with mean FSR_MEAN = 0.10,
capped at FSR_MAX = 0.5 (z-boson uses P = 0.25; tools/README.md shows what it
does to the fits). Real CMS data have such a tail.

Background (Drell-Yan continuum and fakes, a toy): dN/dm ~ exp(-m / BKG_SLOPE),
BKG_SLOPE = 20 GeV, drawn exactly on [60, 120] GeV by inverting its CDF;
BKG_FRACTION = 0.08 of all events.

Apart from the radiation these are the z-boson example's parameters.

Kinematics, the same for signal and background: pair pT ~ Gamma(k=2, theta=5 GeV)
(drawn as the sum of two exponentials), pair rapidity y ~ N(0, 1.2) drawn again
if |y| > 2.4, pair azimuth uniform. The pair decays isotropically in its rest
frame into two muons (m_mu = 0.1056584 GeV), which are boosted to the lab.
Muon 1 has charge +1 or -1 at random, muon 2 the opposite one.

Momentum scale (--scale s): every four-momentum is multiplied by s after the
decay, as a miscalibrated tracker would do. Every mass in the sample is then
multiplied by s: the sample is exactly a sample of a Z with mass s * M_Z,
width s * Gamma_Z and resolution s * SIGMA_RES, whose background slope and
window scale too (59.3-118.6 GeV for s = 0.988). The hidden sample uses this so
that its true mass is not the number in the PDG tables.

Output: Type = "GG", Run = 1, Event = row index. E, px, py, pz are rounded to
6 significant digits; pt, eta, phi (6 digits) and M (9 digits) are computed
from the rounded numbers, so M is what an exact invariant-mass computation
gives on the file's four-vectors (to 5e-7 GeV, half of M's last digit above
100 GeV).

Random numbers: only the raw 64-bit output of numpy's PCG64 bit generator,
turned into doubles in [0, 1) as (raw >> 11) * 2^-53, then transformed by the
explicit inverse-CDF and Box-Muller code below. The bit generator's stream is
fixed by numpy's compatibility policy (NEP 19), unlike Generator.normal & co.,
so a seed gives the same events on every numpy version: numpy 1.24.2 (the
course image) and 2.4.6 write byte-identical files. (The last bit of numpy's
exp/log/tan may differ between CPUs; the 6-digit rounding hides that.)

Usage (from grading-specs/z-fit/):
    python3 tools/generate_events.py --seed 1 --events 1000 --out public/events.csv
    python3 tools/generate_events.py --seed 2 --events 2000 --scale 0.988 --out private/hidden_events.csv
    python3 tools/generate_events.py --seed 7 --events 2000 --masses-only   # one M per line
"""

import argparse
import math
import sys

import numpy as np

M_Z = 91.1876          # GeV, Z pole mass (PDG)
GAMMA_Z = 2.4952       # GeV, Z total width (PDG)
M_MU = 0.1056584       # GeV, muon mass
M_LO, M_HI = 60.0, 120.0          # GeV, window of every written event
TRUE_LO, TRUE_HI = 50.0, 130.0    # GeV, truncation of the Breit-Wigner
SIGMA_RES = 1.5        # GeV
FSR_MEAN = 0.10        # mean fractional mass loss with --fsr
FSR_MAX = 0.5          # cap on the fractional mass loss
BKG_FRACTION = 0.08
BKG_SLOPE = 20.0       # GeV
PT_SCALE = 5.0         # GeV
Y_SIGMA = 1.2
Y_MAX = 2.4
ROUND_DIGITS = 6
M_DIGITS = 9

COLUMNS = ["Type", "Run", "Event",
           "E1", "px1", "py1", "pz1", "pt1", "eta1", "phi1", "Q1",
           "E2", "px2", "py2", "pz2", "pt2", "eta2", "phi2", "Q2", "M"]


class Uniforms:
    """Doubles in [0, 1) from the raw PCG64 stream (stable across numpy versions)."""

    def __init__(self, seed):
        self.bits = np.random.PCG64(seed)

    def __call__(self, n):
        raw = self.bits.random_raw(int(n))
        return (raw >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)

    def normal(self, n):
        """Standard normals by Box-Muller (both outputs of each pair are used)."""
        half = (int(n) + 1) // 2
        u1 = 1.0 - self(half)            # (0, 1]: log is finite
        u2 = self(half)
        r = np.sqrt(-2.0 * np.log(u1))
        z = np.concatenate([r * np.cos(2.0 * np.pi * u2), r * np.sin(2.0 * np.pi * u2)])
        return z[:n]

    def exponential(self, mean, n):
        return -mean * np.log1p(-self(n))


def breit_wigner_masses(u, n):
    """n masses from dN/dm ~ 1 / ((m^2 - M_Z^2)^2 + M_Z^2 Gamma_Z^2) on [TRUE_LO, TRUE_HI]."""
    mg = M_Z * GAMMA_Z
    t_lo = math.atan((TRUE_LO ** 2 - M_Z ** 2) / mg)
    t_hi = math.atan((TRUE_HI ** 2 - M_Z ** 2) / mg)
    out = np.empty(0)
    while out.size < n:
        k = n - out.size
        theta = t_lo + (t_hi - t_lo) * u(k)
        m = np.sqrt(M_Z ** 2 + mg * np.tan(theta))      # dN/dm ~ 2m / (...)
        keep = u(k) < TRUE_LO / m                        # times 1/m
        out = np.concatenate([out, m[keep]])
    return out


def signal_masses(u, n, fsr=0.0):
    """n observed signal masses (line shape, radiation if fsr > 0, resolution), all in the window."""
    out = np.empty(0)
    while out.size < n:
        k = n - out.size
        m = breit_wigner_masses(u, k)
        if fsr > 0.0:
            radiates = u(k) < fsr
            x = np.minimum(u.exponential(FSR_MEAN, k), FSR_MAX)
            m = np.where(radiates, m * (1.0 - x), m)
        m = m + SIGMA_RES * u.normal(k)
        out = np.concatenate([out, m[(m >= M_LO) & (m <= M_HI)]])
    return out


def background_masses(u, n):
    """n masses from exp(-m / BKG_SLOPE) on [M_LO, M_HI], by inverting the CDF."""
    span = 1.0 - math.exp(-(M_HI - M_LO) / BKG_SLOPE)
    return M_LO - BKG_SLOPE * np.log1p(-u(n) * span)


def rapidities(u, n):
    out = np.empty(0)
    while out.size < n:
        y = Y_SIGMA * u.normal(n - out.size)
        out = np.concatenate([out, y[np.abs(y) <= Y_MAX]])
    return out


def decay(u, m):
    """Lab four-vectors (E, px, py, pz), each an array of shape (4, n), of the two muons."""
    n = m.size
    pt = u.exponential(PT_SCALE, n) + u.exponential(PT_SCALE, n)
    y = rapidities(u, n)
    phi = -np.pi + 2.0 * np.pi * u(n)
    mt = np.sqrt(m * m + pt * pt)
    pair = np.array([mt * np.cosh(y), pt * np.cos(phi), pt * np.sin(phi), mt * np.sinh(y)])
    beta = pair[1:] / pair[0]
    pstar = np.sqrt(np.maximum(m * m / 4.0 - M_MU ** 2, 0.0))
    cos_t = -1.0 + 2.0 * u(n)
    sin_t = np.sqrt(np.maximum(0.0, 1.0 - cos_t ** 2))
    phis = -np.pi + 2.0 * np.pi * u(n)
    direction = np.array([sin_t * np.cos(phis), sin_t * np.sin(phis), cos_t])
    mu1 = np.vstack([m / 2.0, pstar * direction])
    mu2 = np.vstack([m / 2.0, -pstar * direction])
    return boost(mu1, beta), boost(mu2, beta)


def boost(four, beta):
    """Lorentz boost of four-vectors (4, n) by velocities beta (3, n)."""
    e, p = four[0], four[1:]
    b2 = np.sum(beta * beta, axis=0)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(b2 > 0.0, (gamma - 1.0) * bp / b2, 0.0) + gamma * e
    return np.vstack([gamma * (e + bp), p + k * beta])


def fmt(x, digits=ROUND_DIGITS):
    return f"{x:.{digits}g}"


def pair_mass(v1, v2):
    """Invariant mass of two (E, px, py, pz) tuples, with math.fsum (as an exact reference)."""
    e, px, py, pz = (a + b for a, b in zip(v1, v2))
    m2 = math.fsum([e * e, -px * px, -py * py, -pz * pz])
    return math.sqrt(m2) if m2 > 0.0 else 0.0


def muon_columns(e, px, py, pz, charge):
    e, px, py, pz = (float(fmt(v)) for v in (e, px, py, pz))
    pt = math.hypot(px, py)
    eta = math.asinh(pz / pt) if pt > 0.0 else math.copysign(99.0, pz)
    phi = math.atan2(py, px)
    return (e, px, py, pz), [fmt(e), fmt(px), fmt(py), fmt(pz), fmt(pt), fmt(eta), fmt(phi), str(charge)]


def masses(u, n_events, fsr=0.0):
    """n_events pair masses (before any momentum scale), signal and background mixed."""
    is_bkg = u(n_events) < BKG_FRACTION
    m = np.empty(n_events)
    m[~is_bkg] = signal_masses(u, int(np.count_nonzero(~is_bkg)), fsr)
    m[is_bkg] = background_masses(u, int(np.count_nonzero(is_bkg)))
    return m


def generate(seed, n_events, scale=1.0, fsr=0.0):
    """The events as CSV rows (lists of strings)."""
    u = Uniforms(seed)
    m = masses(u, n_events, fsr)
    mu1, mu2 = decay(u, m)
    mu1, mu2 = scale * mu1, scale * mu2
    q1 = np.where(u(n_events) < 0.5, 1, -1)
    rows = []
    for i in range(n_events):
        v1, cols1 = muon_columns(*mu1[:, i], int(q1[i]))
        v2, cols2 = muon_columns(*mu2[:, i], -int(q1[i]))
        rows.append(["GG", "1", str(i)] + cols1 + cols2 + [fmt(pair_mass(v1, v2), M_DIGITS)])
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--events", type=int, default=1000, help="number of events (default 1000)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="momentum-scale factor applied to every muon (default 1.0)")
    parser.add_argument("--fsr", type=float, default=0.0,
                        help="probability of final-state radiation (default 0: none)")
    parser.add_argument("--out", default="-", help="output path (default: stdout)")
    parser.add_argument("--masses-only", action="store_true",
                        help="write only the M column, one value per line, no header")
    args = parser.parse_args(argv)
    rows = generate(args.seed, args.events, args.scale, args.fsr)
    if args.masses_only:
        text = "".join(row[-1] + "\n" for row in rows)
    else:
        text = ",".join(COLUMNS) + "\n" + "".join(",".join(row) + "\n" for row in rows)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w", newline="") as f:
            f.write(text)


if __name__ == "__main__":
    main()
