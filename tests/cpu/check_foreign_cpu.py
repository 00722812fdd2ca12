#!/usr/bin/env python3
"""End-to-end check of ctnn/core/cpu.hpp: programs built for x86-64-v4 run on an emulated Haswell.

Usage: check_foreign_cpu.py QEMU_X86_64 CHECKED_EXE UNCHECKED_EXE
The checked program must exit with a failure status (not a signal) before main, with one message on
stderr naming avx512f; the one built with CTNN_NO_CPU_CHECK must die of SIGILL, the crash it replaces.
"""
import signal
import subprocess
import sys


def run(qemu, exe):
    r = subprocess.run([qemu, "-cpu", "Haswell", exe], capture_output=True, text=True, timeout=60)
    # qemu warns about Haswell features its TCG lacks (pcid, rtm, ...): not the program's output.
    stderr = "".join(line for line in r.stderr.splitlines(True) if not line.startswith("qemu-x86_64: warning"))
    return r.returncode, r.stdout, stderr


def main():
    qemu, checked, unchecked = sys.argv[1:4]
    failures = []

    status, out, err = run(qemu, checked)
    print(f"checked program: status {status}, stderr: {err.strip()}")
    if status <= 0:
        failures.append(f"checked program: status {status}, expected a failure exit status (not a signal)")
    if out:
        failures.append(f"checked program printed to stdout (main ran?): {out!r}")
    if not (err.startswith("ctnn: this program was compiled for ") and "lacks avx512f" in err
            and err.count("\n") == 1):
        failures.append(f"checked program: expected one 'ctnn: ... lacks avx512f, ...' line, got {err!r}")

    status, out, err = run(qemu, unchecked)
    print(f"unchecked program (CTNN_NO_CPU_CHECK): status {status}")
    if status != -signal.SIGILL:
        failures.append(f"unchecked program: status {status}, expected SIGILL ({-signal.SIGILL})")
    if "ctnn:" in err:
        failures.append(f"unchecked program printed the check's message: {err!r}")

    if failures:
        sys.exit("\n".join(failures))


if __name__ == "__main__":
    main()
