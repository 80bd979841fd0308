"""In-process checks of properties that single function calls cannot express.

These run next to the student's code inside the sandbox (see README, "Trust"): only the count of
passing checks is reported, never this file or its messages.
"""
import unittest

import zboson


class Properties(unittest.TestCase):
    def test_mass_is_symmetric_in_the_two_muons(self):
        a = (45.0, 10.0, -3.0, 43.0)
        b = (50.0, -9.0, 4.0, -48.5)
        self.assertAlmostEqual(zboson.invariant_mass(*a, *b), zboson.invariant_mass(*b, *a), places=9)

    def test_mass_is_boost_invariant_along_z(self):
        a = (45.0, 10.0, -3.0, 43.0)
        b = (50.0, -9.0, 4.0, -48.5)
        gamma, beta = 1.25, 0.6

        def boost(e, px, py, pz):
            return (gamma * (e + beta * pz), px, py, gamma * (pz + beta * e))

        m = zboson.invariant_mass(*a, *b)
        self.assertAlmostEqual(zboson.invariant_mass(*boost(*a), *boost(*b)), m, places=6)

    def test_estimate_peak_leaves_its_input_alone(self):
        masses = [91.0 + 0.01 * ((i * 37) % 200 - 100) for i in range(500)]
        before = list(masses)
        zboson.estimate_peak(masses)
        self.assertEqual(masses, before)
