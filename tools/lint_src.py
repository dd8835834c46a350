#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""make analyze: the rules every source file keeps.

- an SPDX-License-Identifier line first, or right after the #! line;
- in a .c or .h file, an opening comment after it: what the file is
  for, which process it runs in;
- no line longer than 80 columns, tabs at 8;
- a file under broker/store/ includes only the store's own headers,
  privsep/ and the system's: never a header of the broker that calls
  the store.

Source files are C, Python, shell and make files, found with git (new
files too, before they are committed) or, outside a clone, by walking
the tree.  Generated files (policy/*.pfc) and data (fuzz corpora) are
not source.  Prints every violation as FILE:LINE: why; exits 1 if any.
"""
import os
import re
import subprocess
import sys

SPDX = "SPDX-License-Identifier: ISC"
COLUMNS = 80
NAMED = {"Makefile", "debian/rules", ".ci/run", "debian/sealmd.postinst",
         "debian/sealmd.postrm", "debian/sealmd.prerm"}
SKIP_DIRS = ("tests/fuzz/corpus/", "tests/fuzz/regress/")
STORE_DIR = "broker/store/"
INCLUDE = re.compile(r'\s*#\s*include\s+"([^"]+)"')


def is_source(path):
    if path.startswith(SKIP_DIRS):
        return False
    return (path.endswith((".c", ".h", ".py", ".sh", ".mk"))
            or path in NAMED or path.endswith("/Makefile"))


def files(root):
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "--cached", "--others",
             "--exclude-standard"], capture_output=True, text=True,
            check=True).stdout.split("\n")
        return sorted(f for f in out if f and os.path.isfile(
            os.path.join(root, f)))
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for d, dirs, names in os.walk(root):
        rel = os.path.relpath(d, root)
        dirs[:] = [x for x in dirs if not x.startswith((".", "build", "run"))
                   or x == ".ci"]
        for n in names:
            found.append(os.path.normpath(os.path.join(rel, n)))
    return sorted(found)


def check(root, path):
    bad = []
    with open(os.path.join(root, path), encoding="utf-8",
              errors="replace") as f:
        lines = f.read().split("\n")
    at = 1 if lines and lines[0].startswith("#!") else 0
    if len(lines) <= at or SPDX not in lines[at]:
        bad.append((at + 1, "no '%s' line" % SPDX))
    if path.endswith((".c", ".h")):
        rest = [x for x in lines[at + 1:] if x.strip()]
        if not rest or not rest[0].startswith("/*"):
            bad.append((at + 2, "no opening comment"))
    for i, line in enumerate(lines):
        n = len(line.expandtabs(8))
        if n > COLUMNS:
            bad.append((i + 1, "%d columns" % n))
        m = INCLUDE.match(line) if path.startswith(STORE_DIR) else None
        if m and "/" in m.group(1) and not m.group(1).startswith(
                ("privsep/", STORE_DIR)):
            bad.append((i + 1, "the store includes %s, outside the store "
                        "and privsep/" % m.group(1)))
    return bad


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    srcs = [f for f in files(root) if is_source(f)]
    if not srcs:
        print("lint_src: no source files under %s" % root, file=sys.stderr)
        return 1
    nbad = 0
    for path in srcs:
        for line, why in check(root, path):
            print("%s:%d: %s" % (path, line, why))
            nbad += 1
    if nbad:
        print("lint_src: %d problem(s) in %d files" % (nbad, len(srcs)),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
