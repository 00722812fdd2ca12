#!/usr/bin/python3
"""benchmarks/compare_pytorch.py — ctnn and PyTorch side by side on the reference MNIST MLP, in one run.

Runs build/benchmarks/versus_ctnn and benchmarks/pytorch_mlp.py (same protocol, same data) in child
processes, alternating ctnn and PyTorch round after round and thread count after thread count so that a
burst of load on this shared machine hits both; takes per-setting medians over the rounds and, per
metric, the best thread setting of each side. Peak RSS and test accuracy come from a separate full run
of each: examples/mnist_mlp and `pytorch_mlp.py full`, measured by wait4() on the child.
Prints `metric | ctnn | PyTorch | ratio | target` (and writes it as markdown with --markdown PATH).
With --model convnet (or --convnet) the same for Keras's "Simple MNIST convnet": versus_ctnn_convnet and
pytorch_convnet.py, full runs examples/mnist_convnet and `pytorch_convnet.py full`; --model resnet: the same
for examples/fashion_resnet's ResNet-20 (versus_ctnn_resnet and pytorch_resnet.py); --model addition: for
examples/addition_rnn's LSTM encoder-decoder (Keras's addition seq2seq: versus_ctnn_addition and pytorch_addition.py,
scored on its 5,000 validation questions, per character; --rnn gru or simple for the other recurrent layers);
--model both: the MLP and convnet tables, --model all: the four. Normally started by benchmarks/compare.sh, which
builds what it needs first.
"""
import argparse
import ast
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


# The convnet's: epochs at batch 128 over the 54,000 training images (validation_split = 0.1).
CONVNET_SPEED_METRICS = [
    ("epoch_seconds", "epoch time, 54k samples, batch 128 (s)", "low", "{:.2f}"),
    ("samples_per_s_128", "training samples/s, batch 128", "high", "{:,.0f}"),
    ("samples_per_s_32", "training samples/s, batch 32", "high", "{:,.0f}"),
    ("predict_us", "batch-1 predict latency (µs)", "low", "{:.1f}"),
]
CONVNET_TRAIN_SAMPLES = 54_000
CONVNET_TRAIN_FLOP_PER_SAMPLE = 14_256_384  # pytorch_convnet.py's TRAIN_FLOP_PER_SAMPLE, versus_ctnn_convnet.cpp's
RESNET_TRAIN_FLOP_PER_SAMPLE = 185_905_920  # pytorch_resnet.py's TRAIN_FLOP_PER_SAMPLE, versus_ctnn_resnet.cpp's
IMAGE_TARGETS = {"epoch_seconds": 0.4, "predict_us": 0.5}  # issues 14 and 21: ctnn / PyTorch at most

# The addition seq2seq's: epochs at batch 32 over the 45,000 training questions (the 5,000 others validate).
ADDITION_SPEED_METRICS = [
    ("epoch_seconds", "epoch time, 45k questions, batch 32 (s)", "low", "{:.2f}"),
    ("samples_per_s_128", "training samples/s, batch 128", "high", "{:,.0f}"),
    ("samples_per_s_32", "training samples/s, batch 32", "high", "{:,.0f}"),
    ("predict_us", "batch-1 predict latency (µs)", "low", "{:.1f}"),
]
ADDITION_TRAIN_SAMPLES = 45_000
# pytorch_addition.py's train_flop_per_sample(rnn, 3), examples/addition_rnn.hpp's: per recurrent layer kind.
ADDITION_TRAIN_FLOP_PER_SAMPLE = {"lstm": 6_107_136, "gru": 4_589_568, "simple": 1_554_432}

# Per model: the two programs of the speed rounds, the two of the full run, the epochs of an accuracy run.
MODELS = {
    "mlp": {"versus": "versus_ctnn", "example": "mnist_mlp", "script": "pytorch_mlp.py", "epochs": 10,
            "metrics": SPEED_METRICS},
    "convnet": {"versus": "versus_ctnn_convnet", "example": "mnist_convnet", "script": "pytorch_convnet.py",
                "epochs": 15, "metrics": CONVNET_SPEED_METRICS, "flop_per_sample": CONVNET_TRAIN_FLOP_PER_SAMPLE,
                "accuracy_points": 1.0, "title": "Simple MNIST convnet"},
    "resnet": {"versus": "versus_ctnn_resnet", "example": "fashion_resnet", "script": "pytorch_resnet.py",
               "epochs": 12, "metrics": CONVNET_SPEED_METRICS, "flop_per_sample": RESNET_TRAIN_FLOP_PER_SAMPLE,
               "accuracy_points": 0.5, "title": "ResNet-20 v1 (Fashion-MNIST)"},
    # Generated data (no --data), scored on the validation questions; the ratio targets of issue 22.
    "addition": {"versus": "versus_ctnn_addition", "example": "addition_rnn", "script": "pytorch_addition.py",
                 "epochs": 20, "metrics": ADDITION_SPEED_METRICS, "flop_per_sample": ADDITION_TRAIN_FLOP_PER_SAMPLE,
                 "train_samples": ADDITION_TRAIN_SAMPLES, "targets": {"epoch_seconds": 0.5, "predict_us": 0.5},
                 "accuracy_points": 0.5, "title": "Addition seq2seq (Keras's addition_rnn)", "uses_data": False,
                 "score": "val"},
}


def summarize(runs_by_threads, metrics=SPEED_METRICS):
    """{threads: [result, ...]} -> {metric: (median of best setting, threads)} choosing the best setting."""
    best = {}
    for key, _, better, _ in metrics:
        candidates = []
        for threads, runs in runs_by_threads.items():
            values = [r[key] for r in runs if key in r]
            if values:
                candidates.append((statistics.median(values), threads))
        if candidates:
            best[key] = (min if better == "low" else max)(candidates)
    return best


def measure(name, args, thread_counts):
    """The alternating speed rounds and the two full runs of one model; every raw result."""
    spec = MODELS[name]
    versus = os.path.join(args.build, "benchmarks", spec["versus"])
    example = os.path.join(args.build, "examples", spec["example"])
    torch_script = [sys.executable, os.path.join(HERE, spec["script"])]
    tag = "" if name == "mlp" else f"{name}, "
    # The options every program of this model takes: --data DIR for the image models, --rnn KIND for the addition.
    common = ["--data", args.data] if spec.get("uses_data", True) else ["--rnn", args.rnn]
    kind = spec.get("score", "test")  # the full runs' score: on the test set, or on the validation questions
    load_before = loadavg()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    runs = {"ctnn": {t: [] for t in thread_counts}, "pytorch": {t: [] for t in thread_counts}}
    for rnd in range(args.rounds):
        for threads in thread_counts:
            print(f"[{tag}round {rnd + 1}/{args.rounds}, {threads} thread(s)] ctnn ...", file=sys.stderr, flush=True)
            out, _, _ = run_child([versus] + common, ctnn_env(threads))
            runs["ctnn"][threads].append(last_json_line(out, spec["versus"]))
            print(f"[{tag}round {rnd + 1}/{args.rounds}, {threads} thread(s)] PyTorch ...", file=sys.stderr, flush=True)
            out, _, _ = run_child(torch_script + ["speed", "--threads", str(parse_setting(threads)[0])] + common,
                                  torch_env(threads))
            runs["pytorch"][threads].append(last_json_line(out, f"{spec['script']} speed"))
    best = {side: summarize(runs[side], spec["metrics"]) for side in runs}
    peak2 = statistics.median(r["fma_peak_2t_gflops"] for t in thread_counts for r in runs["ctnn"][t])
    peak1 = statistics.median(r["fma_peak_1t_gflops"] for t in thread_counts for r in runs["ctnn"][t])

    # Full runs: peak RSS (and test accuracy with --accuracy), each side at its best epoch-time threads.
    epochs = (args.epochs or spec["epochs"]) if args.accuracy else 1
    ctnn_threads = best["ctnn"]["epoch_seconds"][1]
    torch_threads = best["pytorch"]["epoch_seconds"][1]
    print(f"[{tag}full run, {epochs} epoch(s)] ctnn examples/{spec['example']} ...", file=sys.stderr, flush=True)
    out, ctnn_rss, ctnn_full_s = run_child_rss([example, "--epochs", str(epochs)] + common, ctnn_env(ctnn_threads))
    score = re.findall(r"score = \[([-0-9.eE+naif]+), ([-0-9.eE+naif]+)\]", out)
    if not score:
        raise RuntimeError(f"{spec['example']}: no 'score = [loss, accuracy]' line in its output:\n{out[-2000:]}")
    ctnn_full = {f"{kind}_loss": float(score[-1][0]), f"{kind}_accuracy": float(score[-1][1]), "seconds": ctnn_full_s,
                 "peak_rss_mb": ctnn_rss, "threads": ctnn_threads, "epochs": epochs}
    history = re.findall(r"^history = (\{.*\})$", out, re.M)  # as Python prints history.history
    if history:
        ctnn_full["history"] = ast.literal_eval(history[-1])
    print(f"[{tag}full run, {epochs} epoch(s)] PyTorch ...", file=sys.stderr, flush=True)
    out, torch_rss, _ = run_child_rss(torch_script + ["full", "--epochs", str(epochs), "--threads", str(parse_setting(torch_threads)[0])]
                                      + common, torch_env(torch_threads))
    torch_full = last_json_line(out, f"{spec['script']} full")
    torch_full["peak_rss_mb"] = torch_rss
    load_after = loadavg()
    return {"runs": runs, "best": best, "ctnn_full": ctnn_full, "pytorch_full": torch_full, "peak1": peak1,
            "peak2": peak2, "epochs": epochs, "load": [load_before, load_after], "started": started}


def mlp_rows(m, args):
    """The reference MLP's table: the targets of issue 13 (AVX2 and AVX-512 hosts alike)."""
    best, ctnn_full, torch_full, epochs, peak2 = m["best"], m["ctnn_full"], m["pytorch_full"], m["epochs"], m["peak2"]
    rows = []
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
    rows += memory_and_accuracy_rows(ctnn_full, torch_full, epochs, args, 10)
    return rows


def image_rows(name, m, args):
    """The convnet's, the ResNet's and the addition seq2seq's tables: the targets of issues 14, 21 and 22 (epoch
    ≤ 0.4, or 0.5 for the addition; predict ≤ 0.5, RSS ≤ 0.6; accuracy within 1 pt for the convnet, 0.5 pt for
    the others)."""
    spec = MODELS[name]
    best, ctnn_full, torch_full, epochs, peak2 = m["best"], m["ctnn_full"], m["pytorch_full"], m["epochs"], m["peak2"]
    rows = []
    targets = {key: (f"≤ {limit:g}", lambda r, limit=limit: r <= limit)
               for key, limit in spec.get("targets", IMAGE_TARGETS).items()}
    flop_per_sample = spec["flop_per_sample"]
    if isinstance(flop_per_sample, dict):  # per recurrent layer kind
        flop_per_sample = flop_per_sample[args.rnn]
    for key, label, _, fmt in spec["metrics"]:
        (cv, ct), (tv, tt) = best["ctnn"][key], best["pytorch"][key]
        ratio = cv / tv
        target, ok = targets.get(key, ("(for information)", None))
        rows.append([label, f"{fmt.format(cv)} ({setting_label(ct)})", f"{fmt.format(tv)} ({setting_label(tt)})", f"{ratio:.2f}", target,
                     ("yes" if ok(ratio) else "NO") if ok else "-"])
        if key == "epoch_seconds":  # the FLOP rate of that epoch, as a share of the machine's 2-thread peak
            flop = flop_per_sample * spec.get("train_samples", CONVNET_TRAIN_SAMPLES)
            gc, gt = flop / cv * 1e-9, flop / tv * 1e-9
            rows.append(["  the same in GFLOP/s (% of 2-thread FMA peak)",
                         f"{gc:.1f} ({100 * gc / peak2:.0f}%)", f"{gt:.1f} ({100 * gt / peak2:.0f}%)", f"{gc / gt:.2f}",
                         "(for information)", "-"])
    rows += memory_and_accuracy_rows(ctnn_full, torch_full, epochs, args, spec["epochs"], spec["accuracy_points"],
                                     spec.get("score", "test"))
    return rows


def memory_and_accuracy_rows(ctnn_full, torch_full, epochs, args, target_epochs, points=1.0, kind="test"):
    rows = []
    rss_ratio = ctnn_full["peak_rss_mb"] / torch_full["peak_rss_mb"]
    rows.append([f"peak RSS, full run of {epochs} epoch(s) (MB)", f"{ctnn_full['peak_rss_mb']:.0f}",
                 f"{torch_full['peak_rss_mb']:.0f}", f"{rss_ratio:.2f}", "≤ 0.6", "yes" if rss_ratio <= 0.6 else "NO"])
    acc_c, acc_t = 100 * ctnn_full[f"{kind}_accuracy"], 100 * torch_full[f"{kind}_accuracy"]
    what = "test accuracy" if kind == "test" else "validation accuracy per character"
    if args.accuracy:
        diff = acc_c - acc_t
        rows.append([f"{what} after {epochs} epochs (%)", f"{acc_c:.2f}", f"{acc_t:.2f}", f"{diff:+.2f} pt",
                     f"within {points:g} pt" + ("" if epochs == target_epochs else f" (at {target_epochs} epochs)"),
                     "yes" if abs(diff) <= points else "NO"])
        if kind == "val":  # the last epoch's score swings by points from one epoch to the next: the best one too
            best_c = max(ctnn_full.get("history", {}).get("val_accuracy", [float("nan")]))
            best_t = max(h["val_accuracy"] for h in torch_full["history"])
            rows.append(["  the best epoch's (%)", f"{100 * best_c:.2f}", f"{100 * best_t:.2f}",
                         f"{100 * (best_c - best_t):+.2f} pt", "(for information)", "-"])
    else:
        rows.append([f"{what} after {epochs} epoch (%) — not the target run", f"{acc_c:.2f}", f"{acc_t:.2f}",
                     f"{acc_c - acc_t:+.2f} pt", f"within {points:g} pt after {target_epochs} epochs: run with --accuracy", "-"])
    return rows


def notes_for(name, m, args, thread_counts):
    runs, (load_before, load_after) = m["runs"], m["load"]
    mach = machine()
    torch_info = next(iter(runs["pytorch"][thread_counts[0]]), {})
    if name == "mlp":
        pytorch_on = f"PyTorch {torch_info.get('torch', '?')} on {torch_info.get('blas', '?')}"
    elif name == "addition":
        layer = {"lstm": "LSTM", "gru": "GRU", "simple": "RNN"}[args.rnn]
        pytorch_on = (f"PyTorch {torch_info.get('torch', '?')}, its native nn.{layer} (--rnn {args.rnn}) with the "
                      f"products on {torch_info.get('blas', '?')}")
    else:
        pytorch_on = (f"PyTorch {torch_info.get('torch', '?')}, convolutions in oneDNN "
                      f"({'available' if torch_info.get('mkldnn') else 'NOT available'}), "
                      f"{torch_info.get('memory_format', '?')}, the Dense layer on {torch_info.get('blas', '?')}")
    return [
        f"Machine: {mach['model']}, {mach['cpus']} CPUs, avx2={'yes' if mach['avx2'] else 'no'}, "
        f"avx512f={'yes' if mach['avx512f'] else 'no'}; ctnn's kernels: {runs['ctnn'][thread_counts[0]][0].get('isa', '?')}; "
        f"measured FMA peak {m['peak1']:.0f} GFLOP/s (1 thread), "
        f"{m['peak2']:.0f} GFLOP/s (2 threads).",
        f"{pytorch_on}, OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE "
        f"unset, OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=threads, OMP_WAIT_POLICY=PASSIVE unless `active` (ctnn: the same "
        f"OMP_NUM_THREADS and OMP_WAIT_POLICY).",
        f"Threads tried: {args.threads} (each side's best shown as `(Nt)`, `(Nt, active)` for OMP_WAIT_POLICY=ACTIVE); {args.rounds} alternating round(s), "
        f"medians; load average {load_before} at start, {load_after} at end ({m['started']}).",
        "Ratios are ctnn / PyTorch (for the GEMM row: ctnn GFLOP/s / PyTorch GFLOP/s)." if name == "mlp" else
        "Ratios are ctnn / PyTorch.",
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"), help="meson build dir with -Dbenchmarks=true")
    parser.add_argument("--model", choices=["mlp", "convnet", "resnet", "addition", "both", "all"], default="mlp",
                        help="the reference MLP (default), Keras's simple MNIST convnet, ResNet-20, Keras's addition "
                        "seq2seq, both of the first two tables or all four")
    parser.add_argument("--convnet", dest="model", action="store_const", const="convnet", help="the same as --model convnet")
    parser.add_argument("--rounds", type=int, default=2, help="alternating ctnn/PyTorch rounds per thread count")
    parser.add_argument("--threads", default="1,2", help="settings to try on both sides (best is reported): thread "
                        "counts, each with OMP_WAIT_POLICY=PASSIVE, or e.g. 2a for 2 threads with ACTIVE")
    parser.add_argument("--accuracy", action="store_true", help="also train --epochs epochs on both sides for test accuracy")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of the accuracy run (with --accuracy; default 10 for the MLP, 15 for the convnet, 12 for the "
                        "ResNet, 20 for the addition)")
    parser.add_argument("--rnn", choices=["lstm", "gru", "simple"], default="lstm",
                        help="the addition seq2seq's recurrent layers (Keras's example: lstm)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the table (and machine) as markdown here")
    parser.add_argument("--json", metavar="PATH", help="write every raw measurement here")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()

    names = {"both": ["mlp", "convnet"], "all": ["mlp", "convnet", "resnet", "addition"]}.get(args.model, [args.model])
    for name in names:
        for exe in (os.path.join(args.build, "benchmarks", MODELS[name]["versus"]),
                    os.path.join(args.build, "examples", MODELS[name]["example"])):
            if not os.access(exe, os.X_OK):
                targets = " ".join(f"benchmarks/{MODELS[n]['versus']} examples/{MODELS[n]['example']}" for n in names)
                sys.exit(f"compare_pytorch.py: {exe} not found; build with `meson setup {args.build} -Dbenchmarks=true && "
                         f"ninja -C {args.build} {targets}` (benchmarks/compare.sh does this)")
    thread_counts = [t.strip() for t in args.threads.split(",")]

    passed = sys.argv[1:]
    for i, a in enumerate(passed):  # the --build pair first, as compare.sh takes it
        if a == "--build" and i + 1 < len(passed):
            passed = passed[:i] + passed[i + 2:]
            break
    command = shlex.join(["benchmarks/compare.sh", "--build", os.path.relpath(args.build, ROOT)] + passed)

    header = ["metric", "ctnn", "PyTorch", "ratio", "target", "met"]
    markdown, raw = [], {}
    for name in names:
        m = measure(name, args, thread_counts)
        rows = mlp_rows(m, args) if name == "mlp" else image_rows(name, m, args)
        notes = notes_for(name, m, args, thread_counts)
        raw[name] = {"runs": m["runs"], "best": m["best"], "ctnn_full": m["ctnn_full"], "pytorch_full": m["pytorch_full"],
                     "machine": machine(), "load": m["load"]}

        widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
        print()
        if len(names) > 1:
            print(MODELS[name].get("title", "Reference MLP"))
            print()
        for r in [header] + rows:
            print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)))
        print()
        for n in notes:
            print(n)

        if len(names) > 1:
            markdown += [f"**{MODELS[name].get('title', 'Reference MLP')}**", ""]
        markdown += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        markdown += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
        markdown += [""] + [f"- {n}" for n in notes] + [f"- Command: `{command.strip()}`", ""]

    if args.markdown:
        tmp = args.markdown + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(markdown))
        os.replace(tmp, args.markdown)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw[names[0]] if len(names) == 1 else raw, f, indent=1)


if __name__ == "__main__":
    main()
