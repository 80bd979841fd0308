#!/usr/bin/env python3
"""Generate a toy H -> tau tau signal-versus-background sample (standard library only).

Each row is one event with a selected pair of visible tau-decay products
("visible taus": a muon from tau -> mu nu nu and a hadronic tau candidate) and
five features, with a label 1 (signal) or 0 (background):

  m_vis      GeV  invariant mass of the two visible products (massless approximation)
  pt_lead    GeV  transverse momentum of the harder visible product
  delta_phi  rad  azimuthal angle between the two visible products, in [0, pi]
  isolation  -    relative isolation of the hadronic tau candidate (energy of other
                  particles in a cone around it / its pT): small for real taus,
                  large for quark or gluon jets faking a tau
  met      GeV  missing transverse momentum (neutrinos plus resolution)

Processes (all kinematics in GeV, natural units):

* signal, H -> tau tau (label 1), a fraction SIGNAL_FRACTION = 0.30 of the events:
  a boson of mass 125 GeV with pT ~ Gamma(2, 15 GeV) (mean 30 GeV),
  rapidity ~ N(0, 1.0), uniform azimuth, decays isotropically to two taus
  (treated as massless) that are boosted to the lab. Each tau gives its
  visible product a fraction z ~ Uniform(0.25, 1) of its momentum (collinear
  approximation); the rest goes to neutrinos. MET is the transverse vector sum
  of the neutrino momenta plus a Gaussian resolution of MET_RES = 8 GeV per
  component. The hadronic tau's isolation is exponential with mean 0.05.
* background (label 0), three components in the proportions
  BKG_MIX = Z->tautau 0.50, W+jets 0.30, QCD multijet 0.20:
  - Z -> tau tau: as the signal but with a 91.19 GeV boson and pT ~ Gamma(2, 8 GeV),
    a real tau, so isolation exponential with mean 0.05 as well. This is the
    irreducible part: it differs from the signal mainly in m_vis.
  - W + jets: a muon from W -> mu nu, whose pT follows the Jacobian peak
    (pT = 40.2 GeV * sin(theta*) with cos(theta*) uniform, smeared by 3 GeV) and a
    W recoil ~ Gamma(2, 10 GeV); the neutrino balances the muon in the W frame (MET
    about the muon pT); a jet faking the tau with pT = 20 GeV + Exp(15 GeV) at a
    uniform azimuth and rapidity difference N(0, 1.5); isolation 0.02 + Exp(0.25).
  - QCD multijet: two jets (one faking the muon, one the tau), pT = 20 GeV + Exp(12 GeV)
    each, nearly back to back (delta_phi = pi - |N(0, 0.6)|), rapidity difference
    N(0, 1.5); MET only from mismeasurement, Gamma(2, 5 GeV) in magnitude;
    isolation 0.05 + Exp(0.35).
  For every event the m_vis is computed from the two visible four-vectors,
  m_vis^2 = 2 pT1 pT2 (cosh(delta_eta) - cos(delta_phi)).

Selection (applied to every process, the event is drawn again if it fails):
both visible products with pT > 20 GeV and |eta| < 2.3, as in a real
mu-tau_h analysis. The signal fraction is applied per event before the
selection (a signal event is drawn with probability 0.30 and redrawn as signal
until it passes), so the written samples have about 30% signal.

Reproducibility: every random number comes from random.Random(seed).random()
(identical in every CPython 3), transformed by the explicit code below.
Features are rounded to 4 decimals.

Usage:
  python3 generate.py --seed 11 --events 2000 --train ../public/train.csv
  python3 generate.py --seed 12 --events 2000 --first-id 10000 \
                      --features ../private/test_features.csv --labels ../private/test_labels.csv
"""

import argparse
import math
import random

FEATURES = ["m_vis", "pt_lead", "delta_phi", "isolation", "met"]
SIGNAL_FRACTION = 0.30
BKG_MIX = (("ztt", 0.50), ("wjets", 0.30), ("qcd", 0.20))
M_H = 125.0
M_Z = 91.19
M_W = 80.4
MET_RES = 8.0
PT_MIN = 20.0
ETA_MAX = 2.3


class Sampler:
    """Random variates built only on Random.random(), for version-stable output."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self._spare = None

    def random(self):
        return self.rng.random()

    def uniform(self, a, b):
        return a + (b - a) * self.rng.random()

    def gauss(self, mu=0.0, sigma=1.0):
        if self._spare is not None:
            z, self._spare = self._spare, None
            return mu + sigma * z
        u1 = 1.0 - self.rng.random()
        u2 = self.rng.random()
        r = math.sqrt(-2.0 * math.log(u1))
        self._spare = r * math.sin(2.0 * math.pi * u2)
        return mu + sigma * r * math.cos(2.0 * math.pi * u2)

    def exponential(self, mean):
        return -mean * math.log(1.0 - self.rng.random())

    def gamma2(self, scale):
        """Gamma(k = 2, theta = scale): the sum of two exponentials."""
        return self.exponential(scale) + self.exponential(scale)


def boost(four, beta):
    e, px, py, pz = four
    bx, by, bz = beta
    b2 = bx * bx + by * by + bz * bz
    if b2 == 0.0:
        return four
    gamma = 1.0 / math.sqrt(1.0 - b2)
    bp = bx * px + by * py + bz * pz
    k = (gamma - 1.0) * bp / b2 + gamma * e
    return (gamma * (e + bp), px + k * bx, py + k * by, pz + k * bz)


def kin(p):
    """(pt, eta, phi) of a three- or four-vector's momentum part."""
    px, py, pz = p[-3:]
    pt = math.hypot(px, py)
    eta = math.asinh(pz / pt) if pt > 0 else math.copysign(99.0, pz)
    return pt, eta, math.atan2(py, px)


def features_from(vis1, vis2, met_xy, isolation):
    pt1, eta1, phi1 = vis1
    pt2, eta2, phi2 = vis2
    if min(pt1, pt2) < PT_MIN or max(abs(eta1), abs(eta2)) > ETA_MAX:
        return None
    dphi = abs(phi1 - phi2) % (2.0 * math.pi)
    if dphi > math.pi:
        dphi = 2.0 * math.pi - dphi
    m2 = 2.0 * pt1 * pt2 * (math.cosh(eta1 - eta2) - math.cos(dphi))
    return [math.sqrt(max(m2, 0.0)), max(pt1, pt2), dphi, isolation, math.hypot(*met_xy)]


def ditau(s, mass, pt_scale):
    """Boson -> tau tau -> visible + neutrinos: the five features, or None if not selected."""
    pt = s.gamma2(pt_scale)
    y = s.gauss(0.0, 1.0)
    phi = s.uniform(-math.pi, math.pi)
    mt = math.sqrt(mass * mass + pt * pt)
    boson = (mt * math.cosh(y), pt * math.cos(phi), pt * math.sin(phi), mt * math.sinh(y))
    beta = tuple(c / boson[0] for c in boson[1:])
    cos_t = s.uniform(-1.0, 1.0)
    sin_t = math.sqrt(1.0 - cos_t * cos_t)
    phis = s.uniform(-math.pi, math.pi)
    n = (sin_t * math.cos(phis), sin_t * math.sin(phis), cos_t)
    half = mass / 2.0
    taus = [boost((half, half * n[0], half * n[1], half * n[2]), beta),
            boost((half, -half * n[0], -half * n[1], -half * n[2]), beta)]
    vis = []
    met_x = s.gauss(0.0, MET_RES)
    met_y = s.gauss(0.0, MET_RES)
    for tau in taus:
        z = s.uniform(0.25, 1.0)
        vis.append(kin(tuple(z * c for c in tau[1:])))
        met_x += (1.0 - z) * tau[1]
        met_y += (1.0 - z) * tau[2]
    return features_from(vis[0], vis[1], (met_x, met_y), s.exponential(0.05))


def wjets(s):
    cos_t = s.uniform(-1.0, 1.0)
    mu_pt = M_W / 2.0 * math.sqrt(1.0 - cos_t * cos_t) + s.gauss(0.0, 3.0)
    if mu_pt <= 0.0:
        return None
    mu_phi = s.uniform(-math.pi, math.pi)
    mu_eta = s.gauss(0.0, 1.2)
    recoil = s.gamma2(10.0)
    r_phi = s.uniform(-math.pi, math.pi)
    # neutrino balances the muon in the W frame; the W recoil shifts both (crudely)
    nu_x = -mu_pt * math.cos(mu_phi) + 0.5 * recoil * math.cos(r_phi) + s.gauss(0.0, MET_RES)
    nu_y = -mu_pt * math.sin(mu_phi) + 0.5 * recoil * math.sin(r_phi) + s.gauss(0.0, MET_RES)
    jet_pt = PT_MIN + s.exponential(15.0)
    jet_phi = s.uniform(-math.pi, math.pi)
    jet_eta = mu_eta + s.gauss(0.0, 1.5)
    iso = 0.02 + s.exponential(0.25)
    return features_from((mu_pt, mu_eta, mu_phi), (jet_pt, jet_eta, jet_phi), (nu_x, nu_y), iso)


def qcd(s):
    pt1 = PT_MIN + s.exponential(12.0)
    pt2 = PT_MIN + s.exponential(12.0)
    phi1 = s.uniform(-math.pi, math.pi)
    phi2 = phi1 + math.pi - abs(s.gauss(0.0, 0.6)) * (1 if s.random() < 0.5 else -1)
    eta1 = s.gauss(0.0, 1.2)
    eta2 = eta1 + s.gauss(0.0, 1.5)
    met = s.gamma2(5.0)
    mphi = s.uniform(-math.pi, math.pi)
    iso = 0.05 + s.exponential(0.35)
    return features_from((pt1, eta1, phi1), (pt2, eta2, phi2),
                         (met * math.cos(mphi), met * math.sin(mphi)), iso)


def draw(s, process):
    while True:
        if process == "signal":
            f = ditau(s, M_H, 15.0)
        elif process == "ztt":
            f = ditau(s, M_Z, 8.0)
        elif process == "wjets":
            f = wjets(s)
        else:
            f = qcd(s)
        if f is not None:
            return f


def generate(seed, n_events):
    """Yield (features, label, process) for n_events events."""
    s = Sampler(seed)
    for _ in range(n_events):
        if s.random() < SIGNAL_FRACTION:
            yield draw(s, "signal"), 1, "signal"
            continue
        u = s.random()
        acc = 0.0
        for name, frac in BKG_MIX:
            acc += frac
            if u < acc:
                break
        yield draw(s, name), 0, name


def fmt(x):
    return f"{x:.4f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--train", help="write id,features...,label here")
    parser.add_argument("--features", help="write id,features... here (no label)")
    parser.add_argument("--labels", help="write id,label here")
    parser.add_argument("--first-id", type=int, default=0, help="id of the first row (default 0)")
    args = parser.parse_args(argv)
    rows = list(generate(args.seed, args.events))
    if args.train:
        with open(args.train, "w") as f:
            f.write(",".join(["id"] + FEATURES + ["label"]) + "\n")
            for i, (x, label, _) in enumerate(rows):
                f.write(",".join([str(args.first_id + i)] + [fmt(v) for v in x] + [str(label)]) + "\n")
    if args.features:
        with open(args.features, "w") as f:
            f.write(",".join(["id"] + FEATURES) + "\n")
            for i, (x, _, _) in enumerate(rows):
                f.write(",".join([str(args.first_id + i)] + [fmt(v) for v in x]) + "\n")
    if args.labels:
        with open(args.labels, "w") as f:
            f.write("id,label\n")
            for i, (_, label, _) in enumerate(rows):
                f.write(f"{args.first_id + i},{label}\n")


if __name__ == "__main__":
    main()
