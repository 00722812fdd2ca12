#!/usr/bin/python3
"""benchmarks/compare_pytorch.py — ctnn and PyTorch side by side on the reference MNIST MLP, in one run.

Runs build/benchmarks/versus_ctnn and benchmarks/pytorch_mlp.py (same protocol, same data) in child
processes, alternating ctnn and PyTorch round after round and thread count after thread count so that a
burst of load on this shared machine hits both; takes per-setting medians over the rounds and, per
metric, the best thread setting of each side. Peak RSS and test accuracy come from a separate full run
of each: examples/mnist_mlp and `pytorch_mlp.py full`, measured by wait4() on the child.
Prints `metric | ctnn | PyTorch | ratio | target` (and writes it as markdown with --markdown PATH).
Normally started by benchmarks/compare.sh, which builds what it needs first.
"""
import argparse
import datetime
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Environment variables this machine presets that make OpenBLAS pick a slower kernel / blocking.
OPENBLAS_PRESETS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# A setting is a thread count, "2" (OMP_WAIT_POLICY=PASSIVE: idle threads sleep, what a shared machine
# needs), or the count with "a", "2a" (ACTIVE: idle threads spin, so waking them costs no system call;
# for a dedicated machine). Both sides get the same settings and the same environment for each.
def parse_setting(setting):
    text = str(setting)
    return int(text.rstrip("a")), ("ACTIVE" if text.endswith("a") else "PASSIVE")


def setting_label(setting):
    threads, policy = parse_setting(setting)
    return f"{threads}t" + (", active" if policy == "ACTIVE" else "")


def torch_env(setting):
    threads, policy = parse_setting(setting)
    env = dict(os.environ)
    for name in OPENBLAS_PRESETS:
        env.pop(name, None)
    env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY=policy)
    return env


def ctnn_env(setting):
    # The same wait policy as PyTorch's: on a shared machine libgomp's default spinning at barriers makes
    # two threads several times slower than one (measured: batch-128 step 229 ms vs 41 ms with PASSIVE).
    threads, policy = parse_setting(setting)
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), OMP_WAIT_POLICY=policy)
    return env


def run_child(cmd, env):
    """Runs cmd; returns (stdout, stderr, wall seconds). Raises with the end of stderr on failure."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    raise_if_failed(cmd, proc.returncode, err)
    return out, err, time.perf_counter() - start


def run_child_rss(cmd, env):
    """Runs cmd; returns (stdout, its own peak RSS in MB, wall seconds). wait4() gives the child's own
    ru_maxrss (KiB), not the maximum over all children as RUSAGE_CHILDREN would."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:  # a file, not a pipe: no deadlock while stdout is read
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        errors.seek(0)
        err = errors.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    raise_if_failed(cmd, proc.returncode, err)
    return out, usage.ru_maxrss * 1024 / 1e6, time.perf_counter() - start


def raise_if_failed(cmd, code, err):
    if code != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed with exit code {code}:\n{err[-2000:]}")


def last_json_line(text, what):
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{what}: no JSON result line in its output:\n{text[-2000:]}")


def machine():
    info = {}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in lscpu.splitlines():
            key, _, value = line.partition(":")
            info[key.strip()] = value.strip()
    except OSError:
        pass
    flags = info.get("Flags", "").split()
    return {"model": info.get("Model name", "unknown"), "cpus": info.get("CPU(s)", "?"),
            "avx2": "avx2" in flags, "avx512f": "avx512f" in flags, "fma": "fma" in flags}


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


# metric key, label, better ("low"/"high"), unit format
SPEED_METRICS = [
    ("epoch_seconds", "epoch time, 55k samples, batch 1000 (s)", "low", "{:.2f}"),
    ("epoch_seconds_gemm_only", "  the same, ctnn's sparse backward off (s)", "low", "{:.2f}"),
    ("samples_per_s_128", "training samples/s, batch 128", "high", "{:,.0f}"),
    ("samples_per_s_32", "training samples/s, batch 32", "high", "{:,.0f}"),
    ("predict_us", "batch-1 predict latency (µs)", "low", "{:.1f}"),
    ("large_gemm_gflops", "6 large GEMMs at batch 1000 (GFLOP/s)", "high", "{:.1f}"),
]


def summarize(runs_by_threads):
    """{threads: [result, ...]} -> {metric: (median of best setting, threads)} choosing the best setting."""
    best = {}
    for key, _, better, _ in SPEED_METRICS:
        candidates = []
        for threads, runs in runs_by_threads.items():
            values = [r[key] for r in runs if key in r]
            if values:
                candidates.append((statistics.median(values), threads))
        if candidates:
            best[key] = (min if better == "low" else max)(candidates)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"), help="meson build dir with -Dbenchmarks=true")
    parser.add_argument("--rounds", type=int, default=2, help="alternating ctnn/PyTorch rounds per thread count")
    parser.add_argument("--threads", default="1,2", help="settings to try on both sides (best is reported): thread "
                        "counts, each with OMP_WAIT_POLICY=PASSIVE, or e.g. 2a for 2 threads with ACTIVE")
    parser.add_argument("--accuracy", action="store_true", help="also train --epochs epochs on both sides for test accuracy")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the accuracy run (with --accuracy)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the table (and machine) as markdown here")
    parser.add_argument("--json", metavar="PATH", help="write every raw measurement here")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    versus = os.path.join(args.build, "benchmarks", "versus_ctnn")
    example = os.path.join(args.build, "examples", "mnist_mlp")
    for exe in (versus, example):
        if not os.access(exe, os.X_OK):
            sys.exit(f"compare_pytorch.py: {exe} not found; build with `meson setup {args.build} -Dbenchmarks=true && "
                     f"ninja -C {args.build} benchmarks/versus_ctnn examples/mnist_mlp` (benchmarks/compare.sh does this)")
    thread_counts = [t.strip() for t in args.threads.split(",")]
    torch_script = [sys.executable, os.path.join(HERE, "pytorch_mlp.py")]
    load_before = loadavg()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    runs = {"ctnn": {t: [] for t in thread_counts}, "pytorch": {t: [] for t in thread_counts}}
    for rnd in range(args.rounds):
        for threads in thread_counts:
            print(f"[round {rnd + 1}/{args.rounds}, {threads} thread(s)] ctnn ...", file=sys.stderr, flush=True)
            out, _, _ = run_child([versus, "--data", args.data], ctnn_env(threads))
            runs["ctnn"][threads].append(last_json_line(out, "versus_ctnn"))
            print(f"[round {rnd + 1}/{args.rounds}, {threads} thread(s)] PyTorch ...", file=sys.stderr, flush=True)
            out, _, _ = run_child(torch_script + ["speed", "--threads", str(parse_setting(threads)[0]), "--data", args.data],
                                  torch_env(threads))
            runs["pytorch"][threads].append(last_json_line(out, "pytorch_mlp.py speed"))
    best = {side: summarize(runs[side]) for side in runs}
    peak2 = statistics.median(r["fma_peak_2t_gflops"] for t in thread_counts for r in runs["ctnn"][t])
    peak1 = statistics.median(r["fma_peak_1t_gflops"] for t in thread_counts for r in runs["ctnn"][t])

    # Full runs: peak RSS (and test accuracy with --accuracy), each side at its best epoch-time threads.
    epochs = args.epochs if args.accuracy else 1
    ctnn_threads = best["ctnn"]["epoch_seconds"][1]
    torch_threads = best["pytorch"]["epoch_seconds"][1]
    print(f"[full run, {epochs} epoch(s)] ctnn examples/mnist_mlp ...", file=sys.stderr, flush=True)
    out, ctnn_rss, ctnn_full_s = run_child_rss([example, "--epochs", str(epochs), "--data", args.data], ctnn_env(ctnn_threads))
    score = re.findall(r"score = \[([-0-9.eE+naif]+), ([-0-9.eE+naif]+)\]", out)
    if not score:
        raise RuntimeError(f"mnist_mlp: no 'score = [loss, accuracy]' line in its output:\n{out[-2000:]}")
    ctnn_full = {"test_loss": float(score[-1][0]), "test_accuracy": float(score[-1][1]), "seconds": ctnn_full_s,
                 "peak_rss_mb": ctnn_rss, "threads": ctnn_threads, "epochs": epochs}
    print(f"[full run, {epochs} epoch(s)] PyTorch ...", file=sys.stderr, flush=True)
    out, torch_rss, _ = run_child_rss(torch_script + ["full", "--epochs", str(epochs), "--threads", str(parse_setting(torch_threads)[0]),
                                                     "--data", args.data], torch_env(torch_threads))
    torch_full = last_json_line(out, "pytorch_mlp.py full")
    torch_full["peak_rss_mb"] = torch_rss
    load_after = loadavg()

    # The table.
    rows = []
    # The targets of issue 13 (AVX2 and AVX-512 hosts alike).
    targets = {"epoch_seconds": ("≤ 0.45", lambda r: r <= 0.45), "samples_per_s_128": ("≥ 2.5", lambda r: r >= 2.5),
               "samples_per_s_32": ("≥ 2.5", lambda r: r >= 2.5), "predict_us": ("≤ 0.5", lambda r: r <= 0.5)}
    for key, label, _, fmt in SPEED_METRICS:
        if key == "epoch_seconds_gemm_only":  # PyTorch has no such switch: its epoch time is the reference
            (cv, ct), (tv, tt) = best["ctnn"][key], best["pytorch"]["epoch_seconds"]
            rows.append([label, f"{fmt.format(cv)} ({setting_label(ct)})", f"{fmt.format(tv)} ({setting_label(tt)})", f"{cv / tv:.2f}",
                         "(for information)", "-"])
            continue
        (cv, ct), (tv, tt) = best["ctnn"][key], best["pytorch"][key]
        ratio = cv / tv
        if key == "large_gemm_gflops":
            pct_c, pct_t = 100 * cv / peak2, 100 * tv / peak2
            rows.append([label.replace("(GFLOP/s)", "(% of 2-thread FMA peak)"),
                         f"{pct_c:.0f}% ({fmt.format(cv)}, {setting_label(ct)})", f"{pct_t:.0f}% ({fmt.format(tv)}, {setting_label(tt)})",
                         f"{ratio:.2f}", "ctnn ≥ 80%", "yes" if pct_c >= 80 else "NO"])
            continue
        target, ok = targets[key]
        rows.append([label, f"{fmt.format(cv)} ({setting_label(ct)})", f"{fmt.format(tv)} ({setting_label(tt)})", f"{ratio:.2f}", target,
                     "yes" if ok(ratio) else "NO"])
    rss_ratio = ctnn_full["peak_rss_mb"] / torch_full["peak_rss_mb"]
    rows.append([f"peak RSS, full run of {epochs} epoch(s) (MB)", f"{ctnn_full['peak_rss_mb']:.0f}",
                 f"{torch_full['peak_rss_mb']:.0f}", f"{rss_ratio:.2f}", "≤ 0.6", "yes" if rss_ratio <= 0.6 else "NO"])
    acc_c, acc_t = 100 * ctnn_full["test_accuracy"], 100 * torch_full["test_accuracy"]
    if args.accuracy:
        diff = acc_c - acc_t
        rows.append([f"test accuracy after {epochs} epochs (%)", f"{acc_c:.2f}", f"{acc_t:.2f}", f"{diff:+.2f} pt",
                     "within 1 pt" + ("" if epochs == 10 else " (at 10 epochs)"), "yes" if abs(diff) <= 1 else "NO"])
    else:
        rows.append([f"test accuracy after {epochs} epoch (%) — not the target run", f"{acc_c:.2f}", f"{acc_t:.2f}",
                     f"{acc_c - acc_t:+.2f} pt", "within 1 pt after 10 epochs: run with --accuracy", "-"])

    header = ["metric", "ctnn", "PyTorch", "ratio", "target", "met"]
    m = machine()
    torch_info = next(iter(runs["pytorch"][thread_counts[0]]), {})
    notes = [
        f"Machine: {m['model']}, {m['cpus']} CPUs, avx2={'yes' if m['avx2'] else 'no'}, "
        f"avx512f={'yes' if m['avx512f'] else 'no'}; ctnn's kernels: {runs['ctnn'][thread_counts[0]][0].get('isa', '?')}; "
        f"measured FMA peak {peak1:.0f} GFLOP/s (1 thread), "
        f"{peak2:.0f} GFLOP/s (2 threads).",
        f"PyTorch {torch_info.get('torch', '?')} on {torch_info.get('blas', '?')}, OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE "
        f"unset, OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=threads, OMP_WAIT_POLICY=PASSIVE unless `active` (ctnn: the same "
        f"OMP_NUM_THREADS and OMP_WAIT_POLICY).",
        f"Threads tried: {args.threads} (each side's best shown as `(Nt)`, `(Nt, active)` for OMP_WAIT_POLICY=ACTIVE); {args.rounds} alternating round(s), "
        f"medians; load average {load_before} at start, {load_after} at end ({started}).",
        "Ratios are ctnn / PyTorch (for the GEMM row: ctnn GFLOP/s / PyTorch GFLOP/s).",
    ]
    passed = sys.argv[1:]
    for i, a in enumerate(passed):  # the --build pair first, as compare.sh takes it
        if a == "--build" and i + 1 < len(passed):
            passed = passed[:i] + passed[i + 2:]
            break
    command = shlex.join(["benchmarks/compare.sh", "--build", os.path.relpath(args.build, ROOT)] + passed)

    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print()
    for r in [header] + rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print()
    for n in notes:
        print(n)

    if args.markdown:
        md = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        md += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
        md += [""] + [f"- {n}" for n in notes] + [f"- Command: `{command.strip()}`", ""]
        tmp = args.markdown + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(md))
        os.replace(tmp, args.markdown)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "best": best, "ctnn_full": ctnn_full, "pytorch_full": torch_full,
                       "machine": m, "load": [load_before, load_after]}, f, indent=1)


if __name__ == "__main__":
    main()
