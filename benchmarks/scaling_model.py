#!/usr/bin/env python3
"""benchmarks/scaling_model.py — predicted scaling efficiency of data-parallel fit beyond this machine.

A step on p ranks = this rank's compute + the gradient allreduce, one after the other (ctnn's fit
sums the gradients after the whole backward pass). The allreduce is modelled as a ring or
Rabenseifner's reduce-scatter + allgather, which distributed::sum_shards_in_tree_order's recursive
halving and doubling also is when shards = ranks:

    T_comm(p) = 2 log2(p) alpha + 2 (p-1)/p n / beta + (p-1)/p n / gamma

n gradient bytes, beta link bandwidth (bytes/s), alpha per-message latency, gamma the speed of adding
received floats to one's own (measured here). Compute per step on one rank is t(b) = a + c b for a
per-rank batch b, a and c measured on one Zen 5 core (benchmarks/README.md, "Data-parallel training
over MPI"). Efficiency is the speedup over one rank divided by p:

    fixed global batch B (strong):   E = t(B) / (p (t(B/p) + T_comm(p)))
    fixed per-rank batch b (weak):   E = t(b) / (t(b) + T_comm(p))
    weak, with per-layer buckets allreduced while backward still runs (PyTorch DDP), at best:
        E = t(b) / max(t(b) + f T_comm, t_fwd + T_comm),  t_fwd = t(b) / 3
    where f is the share of the gradient in the layer backward produces last (the first layer), whose
    allreduce can only start when backward has ended; the rest is assumed hidden perfectly.

    python3 benchmarks/scaling_model.py           # prints the Markdown tables of benchmarks/README.md
"""
import math

# Measured on this machine (see benchmarks/README.md for the commands and dates).
# MLP: plain fit on one thread, 21.95 ms per step at batch 1000 and 3.38 ms at 128 (scaling_mpi.sh,
# 2026-12-05 04:52 UTC) -> t(b) = 0.654 ms + 21.30 µs b; the constant is mostly Adam over 1.29 M weights.
MLP = dict(name="MLP", floats=1_290_510, a=0.654e-3, c=21.30e-6, global_batch=1000, per_rank=(1000, 128),
           last_share=785_000 / 1_290_510)  # Dense<784, 1000>: 61% of the gradient, produced last
# Convnet: 5.02 s per 54,000-sample epoch at batch 128 on one thread (422 steps) -> 11.9 ms per step;
# its fixed per-step cost (Adam over 34,826 parameters, a few µs) is neglected.
CONVNET = dict(name="convnet", floats=34_826, a=0.0, c=5.02 / 422 / 128, global_batch=128, per_rank=(128,),
               last_share=320 / 34_826)  # the first Conv2D's 320 weights
# One 5.16 MB vector added to another, out of cache: `mpirun -np 1 bench_allreduce` gave 3039 µs for
# the 1-rank tree over 8 shards (7 additions + the copy out) and 135 µs for 1 shard (the copy alone).
GAMMA = 5_162_040 / ((3039e-6 - 135e-6) / 7)  # bytes/s

# Links: line rate, and an assumed per-message latency (TCP over 10 GbE; RDMA at 100 Gb/s).
LINKS = (("10 Gb/s", 10e9 / 8, 10e-6), ("100 Gb/s", 100e9 / 8, 2e-6))
RANKS = (8, 64, 512)


def t_compute(model, batch):
    return model["a"] + model["c"] * batch


def t_comm(model, p, beta, alpha):
    n = 4.0 * model["floats"]
    return 2 * math.log2(p) * alpha + 2 * (p - 1) / p * n / beta + (p - 1) / p * n / GAMMA


def cell(e):
    return f"{100 * e:.0f}%"


def main():
    print("| model | link | batch | T_comm at 8 / 64 / 512 ranks (ms) | 8 ranks | 64 ranks | 512 ranks |")
    print("|---|---|---|---|---:|---:|---:|")
    for model in (MLP, CONVNET):
        for link, beta, alpha in LINKS:
            comms = [t_comm(model, p, beta, alpha) for p in RANKS]
            comm_text = " / ".join(f"{1e3 * c:.2f}" for c in comms)
            big = model["global_batch"]
            row = []
            for p, comm in zip(RANKS, comms):
                if big < p:
                    row.append("– (fewer samples than ranks)")
                else:
                    row.append(cell(t_compute(model, big) / (p * (t_compute(model, big / p) + comm))))
            print(f"| {model['name']} | {link} | global {big} | {comm_text} | " + " | ".join(row) + " |")
            for b in model["per_rank"]:
                t = t_compute(model, b)
                plain = [cell(t / (t + comm)) for comm in comms]
                overlap = [cell(t / max(t + model["last_share"] * comm, t / 3 + comm)) for comm in comms]
                cells = [f"{x} ({y})" for x, y in zip(plain, overlap)]
                print(f"| {model['name']} | {link} | {b} per rank | {comm_text} | " + " | ".join(cells) + " |")
    print()
    for model, b in [(m, b) for m in (MLP, CONVNET) for b in m["per_rank"]]:
        print(f"{model['name']}: compute {1e3 * t_compute(model, b):.2f} ms per step at {b} per rank, "
              f"{4 * model['floats'] / 1e6:.3f} MB of gradients: "
              f"{1e3 * t_compute(model, b) / (4 * model['floats'] / 1e6):.2f} ms of compute per MB")


if __name__ == "__main__":
    main()
