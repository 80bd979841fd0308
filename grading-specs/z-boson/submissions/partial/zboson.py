"""Z boson peak: correct invariant mass, but a crude peak estimate (median and spread)."""

import csv
import json
import math
import statistics
import sys


def invariant_mass(E1, px1, py1, pz1, E2, px2, py2, pz2):
    E = E1 + E2
    px = px1 + px2
    py = py1 + py2
    pz = pz1 + pz2
    m2 = E ** 2 - px ** 2 - py ** 2 - pz ** 2
    return math.sqrt(m2) if m2 > 0 else 0.0


def estimate_peak(masses):
    # The median is pulled below the peak by the radiative tail and the background,
    # and the standard deviation of everything is not the width of the peak.
    return [statistics.median(masses), statistics.pstdev(masses)]


def main():
    masses = []
    with open(sys.argv[1], newline="") as f:
        for row in csv.DictReader(f):
            v = [float(row[k]) for k in ("E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2")]
            masses.append(invariant_mass(*v))
    mass, width = estimate_peak(masses)
    with open(sys.argv[2], "w") as f:
        json.dump({"mass": mass, "width": width}, f)
    print(f"m_Z = {mass:.3f} GeV")
    print(f"Gamma_Z = {width:.2f} GeV")


if __name__ == "__main__":
    main()
