"""Z boson peak, with a sign error in the invariant mass and the mean as the peak."""

import csv
import json
import math
import sys


def invariant_mass(E1, px1, py1, pz1, E2, px2, py2, pz2):
    E = E1 + E2
    px = px1 + px2
    py = py1 + py2
    pz = pz1 + pz2
    return math.sqrt(E ** 2 + px ** 2 + py ** 2 + pz ** 2)   # sign error: should subtract |p|^2


def estimate_peak(masses):
    mean = sum(masses) / len(masses)
    spread = math.sqrt(sum((m - mean) ** 2 for m in masses) / len(masses))
    return [mean, spread]


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
