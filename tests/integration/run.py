#!/usr/bin/env python3
"""Integration suite: every test_*.py here against the real daemon.

Prints a closing line "N passed, N failed, N skipped" and exits non-zero
on any failure.  Tests that need root skip loudly when not root.
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    patterns = sys.argv[1:] or ["test_*.py"]
    suite = unittest.TestSuite(unittest.defaultTestLoader.discover(
        HERE, pattern=p) for p in patterns)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    skipped = len(result.skipped)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - skipped
    for test, why in result.skipped:
        print(f"SKIPPED (loudly): {test.id()}: {why}")
    print(f"integration: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
