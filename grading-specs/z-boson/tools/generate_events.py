#!/usr/bin/env python3
"""Generate toy Z -> mu+ mu- events in the CMS dimuon CSV format (standard library only).

The output has exactly the columns of the real CMS 2010 open-data file
(`Type,Run,Event,E1,px1,py1,pz1,pt1,eta1,phi1,Q1,E2,px2,py2,pz2,pt2,eta2,phi2,Q2,M`),
so generated and real samples are interchangeable for a student program.

Physics model (all energies, momenta and masses in GeV; natural units, c = 1)
---------------------------------------------------------------------------
Every event is one opposite-charge muon pair with pair mass m inside the window
[M_LO, M_HI] = [60, 120] GeV. An event is a *signal* (Z) event with probability
1 - BKG_FRACTION and a *background* event with probability BKG_FRACTION.

Signal, in three steps:

1. True mass from a relativistic Breit-Wigner. With s = m^2,
       dN/ds  ~  1 / ((s - M_Z^2)^2 + M_Z^2 Gamma_Z^2),
   M_Z = 91.1876 GeV, Gamma_Z = 2.4952 GeV (PDG). It is sampled exactly by
   inverting its CDF (s = M_Z^2 + M_Z Gamma_Z tan(theta), theta uniform),
   truncated to s in [TRUE_LO^2, TRUE_HI^2] = [50^2, 130^2] GeV^2.
2. Final-state radiation (a toy model of the radiative low-mass tail): with
   probability FSR_PROB = 0.25 a photon takes away a fraction x of the pair
   mass, m -> m (1 - x), x exponential with mean FSR_MEAN = 0.10 (capped at
   FSR_MAX = 0.5).
   This is what makes the real Z peak asymmetric, with a tail to low masses.
3. Detector resolution: m -> m + N(0, SIGMA_RES), SIGMA_RES = 1.5 GeV, a single
   Gaussian smearing of the pair mass (a shortcut: a real detector smears each
   muon's momentum, and the resolution grows with |eta|; the real CMS 2010
   sample has a somewhat wider, non-Gaussian peak).
   The four-vectors below are built with the smeared mass, so the mass
   computed from the file's four-vectors is the *observed* mass.

Background (Drell-Yan continuum plus fakes, a toy): the pair mass follows a
falling exponential dN/dm ~ exp(-m / BKG_SLOPE), BKG_SLOPE = 20 GeV, sampled
exactly in [60, 120] GeV; BKG_FRACTION = 0.08 of all events.

A signal event whose mass ends up outside [60, 120] GeV after radiation and
smearing is drawn again (so the window holds exactly the requested number of
events; about 1.5% of signal draws are redrawn).

Kinematics (identical for signal and background):
  * pair transverse momentum pT: Gamma(k = 2, theta = PT_SCALE = 5 GeV)
    (mean 10 GeV, most probable 5 GeV), sampled as the sum of two exponentials;
  * pair rapidity y: Gaussian, mean 0, width Y_SIGMA = 1.2, redrawn if |y| > 2.4;
  * pair azimuth: uniform in [-pi, pi).
  The pair four-vector is (mT cosh y, pT cos phi, pT sin phi, mT sinh y) with
  mT = sqrt(m^2 + pT^2). The pair decays isotropically in its rest frame into
  two muons (mass M_MU = 0.1056584 GeV) back to back, each with energy m/2;
  both are boosted to the lab with the pair velocity beta = P/E.
  Muon 1 gets charge +1 or -1 at random, muon 2 the opposite charge.
  No detector acceptance cuts are applied.

Output columns: Type = "GG" (both global muons, as in the CMS file), Run = 1,
Event = the row index (0, 1, ...). Four-vector components are rounded to
ROUND_DIGITS = 6 significant digits; pt, eta, phi (6 digits) and M (9 digits)
are then computed from the *rounded* E, px, py, pz, so that M is what a
correct invariant_mass returns on the file's numbers
(M = sqrt((E1+E2)^2 - |p1+p2|^2), summed with math.fsum).

Reproducibility: every random number comes from random.Random(seed).random()
(the Mersenne Twister, identical in every CPython 3), transformed by the
explicit inverse-CDF / Box-Muller code below, never by random.gauss & co.,
so a given --seed gives the same file on every Python version and platform.

Usage:
    python3 generate_events.py --seed 1 --events 1500 --out ../public/events.csv
    python3 generate_events.py --seed 1 --events 1000 --masses-only   # one mass per line
"""

import argparse
import csv
import math
import random
import sys

M_Z = 91.1876          # GeV, Z pole mass (PDG)
GAMMA_Z = 2.4952       # GeV, Z total width (PDG)
M_MU = 0.1056584       # GeV, muon mass
M_LO, M_HI = 60.0, 120.0          # GeV, the window every written event lies in
TRUE_LO, TRUE_HI = 50.0, 130.0    # GeV, truncation of the Breit-Wigner before radiation/smearing
FSR_PROB = 0.25        # probability that a signal event radiates
FSR_MEAN = 0.10        # mean fractional mass loss when it does (exponential)
FSR_MAX = 0.5          # cap on the fractional mass loss
SIGMA_RES = 1.5        # GeV, Gaussian detector resolution on the pair mass
BKG_FRACTION = 0.08    # fraction of background events
BKG_SLOPE = 20.0       # GeV, background dN/dm ~ exp(-m / BKG_SLOPE)
PT_SCALE = 5.0         # GeV, pair pT ~ Gamma(2, PT_SCALE)
Y_SIGMA = 1.2          # pair rapidity width
Y_MAX = 2.4            # pair rapidity cut (redrawn beyond it)
ROUND_DIGITS = 6       # significant digits written to the CSV
M_DIGITS = 9           # significant digits of the M column

COLUMNS = ["Type", "Run", "Event",
           "E1", "px1", "py1", "pz1", "pt1", "eta1", "phi1", "Q1",
           "E2", "px2", "py2", "pz2", "pt2", "eta2", "phi2", "Q2", "M"]


class Sampler:
    """Random variates built only on Random.random(), for version-stable output."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self._spare = None

    def uniform(self, a, b):
        return a + (b - a) * self.rng.random()

    def gauss(self):
        """Standard normal by the Box-Muller transform (pairs cached)."""
        if self._spare is not None:
            z, self._spare = self._spare, None
            return z
        u1 = 1.0 - self.rng.random()          # in (0, 1]
        u2 = self.rng.random()
        r = math.sqrt(-2.0 * math.log(u1))
        self._spare = r * math.sin(2.0 * math.pi * u2)
        return r * math.cos(2.0 * math.pi * u2)

    def exponential(self, mean):
        return -mean * math.log(1.0 - self.rng.random())

    def breit_wigner_mass(self):
        """Relativistic Breit-Wigner in s = m^2, truncated to [TRUE_LO, TRUE_HI]."""
        mg = M_Z * GAMMA_Z
        t_lo = math.atan((TRUE_LO ** 2 - M_Z ** 2) / mg)
        t_hi = math.atan((TRUE_HI ** 2 - M_Z ** 2) / mg)
        s = M_Z ** 2 + mg * math.tan(self.uniform(t_lo, t_hi))
        return math.sqrt(s)

    def signal_mass(self):
        while True:
            m = self.breit_wigner_mass()
            if self.rng.random() < FSR_PROB:
                m *= 1.0 - min(self.exponential(FSR_MEAN), FSR_MAX)
            m += SIGMA_RES * self.gauss()
            if M_LO <= m <= M_HI:
                return m

    def background_mass(self):
        """Truncated exponential exp(-m / BKG_SLOPE) on [M_LO, M_HI], by inverse CDF."""
        span = 1.0 - math.exp(-(M_HI - M_LO) / BKG_SLOPE)
        u = self.rng.random()
        return M_LO - BKG_SLOPE * math.log(1.0 - u * span)

    def mass(self):
        if self.rng.random() < BKG_FRACTION:
            return self.background_mass()
        return self.signal_mass()

    def pair_pt(self):
        return self.exponential(PT_SCALE) + self.exponential(PT_SCALE)

    def rapidity(self):
        while True:
            y = Y_SIGMA * self.gauss()
            if abs(y) <= Y_MAX:
                return y


def boost(four, beta):
    """Lorentz-boost four = (E, px, py, pz) by the velocity vector beta."""
    e, px, py, pz = four
    bx, by, bz = beta
    b2 = bx * bx + by * by + bz * bz
    if b2 == 0.0:
        return four
    gamma = 1.0 / math.sqrt(1.0 - b2)
    bp = bx * px + by * py + bz * pz
    k = (gamma - 1.0) * bp / b2 + gamma * e
    return (gamma * (e + bp), px + k * bx, py + k * by, pz + k * bz)


def decay(sampler, m):
    """Pair of muon four-vectors from a pair of mass m, in the lab frame."""
    pt = sampler.pair_pt()
    y = sampler.rapidity()
    phi = sampler.uniform(-math.pi, math.pi)
    mt = math.sqrt(m * m + pt * pt)
    pair = (mt * math.cosh(y), pt * math.cos(phi), pt * math.sin(phi), mt * math.sinh(y))
    beta = (pair[1] / pair[0], pair[2] / pair[0], pair[3] / pair[0])
    # isotropic decay in the rest frame
    pstar = math.sqrt(max(m * m / 4.0 - M_MU * M_MU, 0.0))
    cos_t = sampler.uniform(-1.0, 1.0)
    sin_t = math.sqrt(max(0.0, 1.0 - cos_t * cos_t))
    phis = sampler.uniform(-math.pi, math.pi)
    n = (sin_t * math.cos(phis), sin_t * math.sin(phis), cos_t)
    mu1 = (m / 2.0, pstar * n[0], pstar * n[1], pstar * n[2])
    mu2 = (m / 2.0, -pstar * n[0], -pstar * n[1], -pstar * n[2])
    return boost(mu1, beta), boost(mu2, beta)


def rnd(x, digits=ROUND_DIGITS):
    """x rounded to `digits` significant digits (as a float)."""
    return float(f"{x:.{digits}g}")


def fmt(x, digits=ROUND_DIGITS):
    return f"{x:.{digits}g}"


def pair_mass(e1, px1, py1, pz1, e2, px2, py2, pz2):
    e, px, py, pz = e1 + e2, px1 + px2, py1 + py2, pz1 + pz2
    m2 = math.fsum([e * e, -px * px, -py * py, -pz * pz])
    return math.sqrt(m2) if m2 > 0.0 else 0.0


def muon_columns(mu, charge):
    e, px, py, pz = (rnd(v) for v in mu)
    pt = math.hypot(px, py)
    p = math.sqrt(pt * pt + pz * pz)
    eta = math.asinh(pz / pt) if pt > 0 else math.copysign(99.0, pz)
    phi = math.atan2(py, px)
    return [e, px, py, pz], [fmt(e), fmt(px), fmt(py), fmt(pz), fmt(pt), fmt(eta), fmt(phi), str(charge)]


def generate(seed, n_events, scale=1.0):
    """Yield CSV rows (lists of strings), one per event.

    `scale` multiplies every four-momentum, as a miscalibrated momentum scale would: the whole
    spectrum, peak and width included, moves by that factor.
    """
    sampler = Sampler(seed)
    for index in range(n_events):
        m = sampler.mass()
        mu1, mu2 = decay(sampler, m)
        if scale != 1.0:
            mu1 = tuple(scale * v for v in mu1)
            mu2 = tuple(scale * v for v in mu2)
        q1 = 1 if sampler.rng.random() < 0.5 else -1
        v1, cols1 = muon_columns(mu1, q1)
        v2, cols2 = muon_columns(mu2, -q1)
        mass = pair_mass(*v1, *v2)
        yield ["GG", "1", str(index)] + cols1 + cols2 + [fmt(mass, M_DIGITS)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--events", type=int, default=1500, help="number of events (default 1500)")
    parser.add_argument("--out", default="-", help="output CSV path (default: stdout)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="momentum-scale factor applied to every muon (default 1.0)")
    parser.add_argument("--masses-only", action="store_true",
                        help="write only the M column, one value per line, no header")
    args = parser.parse_args(argv)
    out = sys.stdout if args.out == "-" else open(args.out, "w", newline="")
    try:
        if args.masses_only:
            for row in generate(args.seed, args.events, args.scale):
                out.write(row[-1] + "\n")
        else:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(generate(args.seed, args.events, args.scale))
    finally:
        if out is not sys.stdout:
            out.close()


if __name__ == "__main__":
    main()
