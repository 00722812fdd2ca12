#!/usr/bin/env python3
"""Checks bench_peak's FMA count two ways: the loop of ctnn::bench::fma_chains_checked as compiled
runs peak_chains (12) vfmadd per iteration, in no clone (a .constprop clone once ran 6 per trip while
12 were counted) and not split into multiply + add; and a short run passes the chains' numeric check.

Usage: check_fma_loop.py BENCH_PEAK OBJDUMP. The disassembly is checked on x86 ISAs with FMA only.
"""
import json
import re
import subprocess
import sys

CHAINS = 12


def functions(disassembly):
    """{demangled name: [(address, mnemonic, operands)]} from `objdump -d --no-show-raw-insn -C`."""
    out, current = {}, None
    for line in disassembly.splitlines():
        head = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if head:
            current = out.setdefault(head.group(1), [])
            continue
        insn = re.match(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if insn and current is not None:
            current.append((int(insn.group(1), 16), insn.group(2), insn.group(3)))
    return out


def main():
    exe, objdump = sys.argv[1], sys.argv[2]
    run = subprocess.run([exe, "--benchmark_filter=^fma_peak/threads:1/", "--benchmark_min_time=0.01",
                          "--benchmark_format=json"], check=True, capture_output=True, text=True)
    results = json.loads(run.stdout)["benchmarks"]
    errors = [b.get("error_message") for b in results if b.get("error_occurred")]
    if not results or errors:
        sys.exit(f"bench_peak fma_peak run: {errors or 'no result'}")
    isa = results[0]["label"]
    print(f"bench_peak: numeric check passed, {results[0]['FLOPS'] * 1e-9:.0f} GFLOP/s on 1 thread ({isa})")
    if not isa.startswith(("avx512", "fma3")):
        print(f"bench_peak: {isa} has no FMA instruction: disassembly not checked")
        return

    disassembly = subprocess.run([objdump, "-d", "--no-show-raw-insn", "-C", exe], check=True,
                                 capture_output=True, text=True).stdout
    chains = {name: body for name, body in functions(disassembly).items() if "fma_chains" in name}
    if len(chains) != 1 or not next(iter(chains)).startswith("ctnn::bench::fma_chains_checked("):
        sys.exit(f"expected one compiled fma_chains_checked (no clones), found: {list(chains) or 'none'}")
    body = next(iter(chains.values()))
    fmas = [addr for addr, mnemonic, _ in body if mnemonic.startswith("vfmadd")]
    # Loops: backward jumps within the function. Every loop with FMAs runs a multiple of CHAINS per
    # trip (one per chain per iteration, unrolled or not) and no separate vector add; FMAs outside
    # loops (peeled iterations) come in multiples of CHAINS too.
    loops = []
    for addr, mnemonic, operands in body:
        target = re.match(r"^([0-9a-f]+) <", operands)
        if mnemonic.startswith("j") and target and int(target.group(1), 16) <= addr:
            start = int(target.group(1), 16)
            inside = [m for a, m, _ in body if start <= a <= addr]
            loops.append((start, addr, sum(m.startswith("vfmadd") for m in inside),
                          sum(m.startswith("vaddps") for m in inside)))
    with_fma = [loop for loop in loops if loop[2]]
    outside = len(fmas) - sum(loop[2] for loop in with_fma)
    if not with_fma or outside % CHAINS:
        sys.exit(f"{len(fmas)} vfmadd in fma_chains_checked ({outside} outside loops); "
                 f"loops (start, end, vfmadd, vaddps): {loops}")
    for start, end, count, adds in with_fma:
        if adds or count % CHAINS:
            sys.exit(f"fma_chains_checked's loop {hex(start)}-{hex(end)} runs {count} vfmadd and {adds} vaddps "
                     f"per trip: the FLOP count assumes {CHAINS} vfmadd per iteration")
        print(f"bench_peak: fma_chains_checked loop {hex(start)}-{hex(end)}: {count} vfmadd per trip "
              f"({count // CHAINS} iteration(s) x {CHAINS} chains)")
    if outside:
        print(f"bench_peak: {outside} vfmadd outside the loop ({outside // CHAINS} peeled iteration(s))")

if __name__ == "__main__":
    main()
