"""Z boson peak. Hostile: returns objects that pretend to equal anything, and strings in the JSON."""

import json
import sys


class Anything:
    """Equal to everything, close to everything, a float when asked."""

    def __init__(self, text="91.1876"):
        self.text = text

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __lt__(self, other):        # abs(got - expect) < tol  -> True
        return True

    def __le__(self, other):        # abs(got - expect) <= tol -> True
        return True

    def __gt__(self, other):        # abs(got - expect) > tol  -> False
        return False

    def __ge__(self, other):
        return True

    def __hash__(self):
        return 0

    def __bool__(self):
        return True

    def __float__(self):
        return 91.19

    def __int__(self):
        return 91

    def __index__(self):
        return 91

    def __round__(self, ndigits=None):
        return self

    def __abs__(self):              # abs(got - expect) -> 0.0
        return 0.0

    def __neg__(self):
        return self

    def __pos__(self):
        return self

    def __sub__(self, other):
        return self

    def __rsub__(self, other):
        return self

    def __add__(self, other):
        return self

    def __radd__(self, other):
        return self

    def __mul__(self, other):
        return self

    def __rmul__(self, other):
        return self

    def __truediv__(self, other):
        return self

    def __rtruediv__(self, other):
        return self

    def __format__(self, spec):
        return format(float(self.text), spec) if spec else self.text

    def __str__(self):
        return self.text

    def __repr__(self):
        return self.text


class AnyList(list):
    """A list that compares equal to any other value."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = None


def invariant_mass(E1, px1, py1, pz1, E2, px2, py2, pz2):
    return Anything("91.1876")


def estimate_peak(masses):
    return AnyList([Anything("91.1876"), Anything("5.4")])


def main():
    mass, width = estimate_peak([])
    with open(sys.argv[2], "w") as f:
        # json cannot encode Anything, so default=str turns it into "91.1876": a string
        json.dump({"mass": mass, "width": width}, f, default=str)
    print(f"m_Z = {mass:.3f} GeV")
    print(f"Gamma_Z = {width:.2f} GeV")


if __name__ == "__main__":
    main()
