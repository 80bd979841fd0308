"""Z boson peak (does not even compile: a missing colon and an unclosed bracket)."""

import csv
import json
import math
import sys


def invariant_mass(E1, px1, py1, pz1, E2, px2, py2, pz2)
    E = E1 + E2
    p2 = (px1 + px2) ** 2 + (py1 + py2) ** 2 + (pz1 + pz2) ** 2
    return math.sqrt(max(E * E - p2, 0.0)


def estimate_peak(masses):
    masses = sorted(masses)
    return [masses[len(masses) // 2], 2.5]


def main():
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    masses = [invariant_mass(*(float(r[k]) for k in ("E1", "px1", "py1", "pz1", "E2", "px2", "py2", "pz2")))
              for r in rows]
    mass, width = estimate_peak(masses)
    with open(sys.argv[2], "w") as f:
        json.dump({"mass": mass, "width": width}, f)
    print(f"m_Z = {mass:.3f} GeV")
    print(f"Gamma_Z = {width:.2f} GeV")


if __name__ == "__main__":
    main()
