#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Integration suite: every test_*.py here against the real daemon.

    run.py [PATTERN.py | module.Class[.test] ...]

Each argument is a file pattern (test_foo.py, test_*.py) that must match
at least one file, or a dotted test name that must load.  Prints every
skip with its reason and a closing line "N passed, N failed, N skipped"
and exits non-zero on any failure, error or unexpected success, when no
test ran, and on any skip whose reason is not on the allow-list below:
a skipped test is a capability the README promises going unchecked.

Allowed (see README.md, "Tests"):
  - "needs root" / "not root": only when not running as root (CI runs as
    root, so there these skips fail the run);
  - "under valgrind": timing-bound tests, only in make check-valgrind.
Anything else (a test binary not built, a tool not installed, PostgreSQL
missing, no IPv6) fails: scripts/deps.sh and the Makefile provide them.
"""
import fnmatch
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

IS_ROOT = os.geteuid() == 0
VALGRIND = os.environ.get("SEALMD_VALGRIND") == "1"
# (what a reason says, when it is legitimate, its name in the summary,
# where the skipped test does run)
ALLOWED_SKIPS = (
    (re.compile(r"(?i)\b(needs|not) root\b"), not IS_ROOT, "not root",
     "CI runs them as root"),
    (re.compile(r"\bunder valgrind\b"), VALGRIND, "valgrind build",
     "the release and ASan builds run them"),
)
WHERE = {name: where for _, _, name, where in ALLOWED_SKIPS}


def skip_class(why):
    """The allow-list entry a skip reason falls under, or None."""
    for pattern, legit, name, _ in ALLOWED_SKIPS:
        if legit and pattern.search(why):
            return name
    return None


def load(args):
    """The suite the arguments name; (suite, problems)."""
    loader = unittest.defaultTestLoader
    suite = unittest.TestSuite()
    problems = []
    files = sorted(os.listdir(HERE))
    for arg in args or ["test_*.py"]:
        if arg.endswith(".py") or any(c in arg for c in "*?["):
            if not fnmatch.filter(files, arg):
                problems.append(f"pattern {arg!r} matches no file in "
                                f"{HERE}")
                continue
            suite.addTest(loader.discover(HERE, pattern=arg))
        else:
            try:
                suite.addTest(loader.loadTestsFromName(arg))
            except (ImportError, AttributeError) as e:
                problems.append(f"{arg!r} does not load: {e}")
    # discover() turns an import error into a test that fails: counted.
    return suite, problems


def main():
    suite, problems = load(sys.argv[1:])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    skipped = len(result.skipped)
    failed = len(result.failures) + len(result.errors) + \
        len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - skipped - \
        len(result.expectedFailures)
    allowed, refused = {}, []
    for test, why in result.skipped:
        kind = skip_class(why)
        print(f"SKIPPED ({kind or 'NOT ALLOWED'}): {test.id()}: {why}")
        if kind is None:
            refused.append(test.id())
        else:
            allowed[kind] = allowed.get(kind, 0) + 1
    for p in problems:
        print(f"integration: ERROR: {p}")
    for test in result.unexpectedSuccesses:
        print(f"UNEXPECTED SUCCESS: {test.id()}")
    print(f"integration: {passed} passed, {failed} failed, {skipped} skipped")
    for kind, n in sorted(allowed.items()):
        print(f"integration: {n} test(s) SKIPPED ({kind}): they did not "
              f"run here; {WHERE[kind]}")
    if refused:
        print(f"integration: FAILED: {len(refused)} skip(s) not on the "
              f"allow-list (tests/integration/run.py, README \"Tests\")")
    if result.testsRun == 0:
        print("integration: FAILED: no test ran")
    bad = failed or refused or problems or result.testsRun == 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
