"""Z boson mass (a wrong solution that runs to the end).

What is wrong with it: breit_wigner lacks its normalisation constant; the "mass" is the mean of
all pair masses, background and tails included; the "uncertainty" is the spread of the masses
(the width of the distribution, not the error of a measurement); and the "expected counts" are
the observed counts themselves, so its chi2/ndf is 0 (no model at all).
"""

import csv
import json
import sys

import numpy as np

EDGES = [70, 75, 79, 82, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 98, 100, 104, 110]


def breit_wigner(m, mass, width):
    return 1.0 / ((m**2 - mass**2) ** 2 + mass**2 * width**2)


def main():
    with open(sys.argv[1], newline="") as f:
        masses = np.array([float(row["M"]) for row in csv.DictReader(f)])
    counts, _ = np.histogram(masses, EDGES)
    mass = masses.mean()
    error = masses.std()
    with open(sys.argv[2], "w") as f:
        json.dump({"mass": float(mass), "mass_err": float(error),
                   "expected": [float(c) for c in counts]}, f)
    print(f"m_Z = {mass:.2f} +- {error:.2f} GeV")


if __name__ == "__main__":
    main()
