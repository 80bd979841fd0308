"""Z boson peak. Hostile: every entry point prints a line forever."""

import json
import sys


def invariant_mass(E1, px1, py1, pz1, E2, px2, py2, pz2):
    n = 0
    while True:
        print(f"debug: still computing the invariant mass, iteration {n}")
        n += 1
    return 91.0


def estimate_peak(masses):
    while True:
        print("debug: estimating the peak " + "=" * 60)
    return [91.0, 2.5]


def main():
    n = 0
    while True:
        print(f"m_Z = 91.188 GeV (line {n})")
        n += 1
    with open(sys.argv[2], "w") as f:
        json.dump({"mass": 91.0, "width": 2.5}, f)


if __name__ == "__main__":
    main()
