#!/usr/bin/env python3
"""Must-not-compile tests (Eigen failtest style).

Each case file is compiled twice: without CTNN_SHOULD_FAIL it must compile (the _ok twin proves
the file is otherwise fine); with -DCTNN_SHOULD_FAIL it must fail, and the diagnostic must contain
every phrase listed in the file's `// expect: ...` lines. So the test fails if the misuse starts
compiling, if it fails for another reason, or if the message a user reads loses its words.

usage: run_compile_fail.py CASE.cpp -- COMPILER [FLAGS...]
"""
import pathlib
import subprocess
import sys


def main() -> int:
    argv = sys.argv[1:]
    if "--" not in argv or argv.index("--") != 1:
        print(__doc__)
        return 2
    case = pathlib.Path(argv[0])
    compiler = argv[2:]
    expected = [line.split("expect:", 1)[1].strip()
                for line in case.read_text().splitlines() if line.strip().startswith("// expect:")]
    if not expected:
        print(f"{case}: no '// expect:' lines")
        return 2

    base = compiler + ["-fsyntax-only", str(case)]
    ok = subprocess.run(base, capture_output=True, text=True)
    if ok.returncode != 0:
        print(f"FAIL {case.name} (_ok twin): must compile without CTNN_SHOULD_FAIL, but did not:\n{ok.stderr}")
        return 1
    ko = subprocess.run(base + ["-DCTNN_SHOULD_FAIL"], capture_output=True, text=True)
    if ko.returncode == 0:
        print(f"FAIL {case.name} (_ko twin): compiled, but this misuse must be rejected")
        return 1
    missing = [words for words in expected if words not in ko.stderr]
    if missing:
        print(f"FAIL {case.name} (_ko twin): diagnostic lacks {missing}:\n{ko.stderr}")
        return 1
    errors = ko.stderr.count("error:")
    print(f"ok {case.name}: rejected with {errors} error line(s), containing {expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
