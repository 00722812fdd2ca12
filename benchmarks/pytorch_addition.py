#!/usr/bin/python3
"""benchmarks/pytorch_addition.py — Keras's "Sequence to sequence learning for performing addition"
(keras-io examples/nlp/addition_rnn.py) in PyTorch, measured with the protocol of benchmarks/versus_ctnn_addition.cpp
(same data distribution, network, optimizer, loss, batch sizes, warm-up and timed steps).

Data (as Keras's example and examples/addition_data.hpp): 50,000 distinct questions "a+b", a and b each of 1..DIGITS
random digits (int("".join(choice("0123456789") for _ in range(randint(1, DIGITS))))), a question skipped when
its sorted pair (a, b) was seen already; the query padded with spaces to MAXLEN = 2·DIGITS + 1 and REVERSED, the
answer str(a + b) padded to DIGITS + 1; one-hot over the 12 characters of Keras's CharacterTable, sorted(set(
"0123456789+ ")) = " +0123456789"; shuffled, the last 10% (5,000) validate and are never trained on. Python's
random.Random(seed) draws them here, ctnn::Rng in the C++ twin: the same distribution, not the same questions.
(With DIGITS = 2 there are only 101·100/2 = 5,050 distinct questions: all of them are used.)

Network (Keras's):  (MAXLEN, 12) -> LSTM(128) -> RepeatVector(DIGITS + 1) -> LSTM(128, return_sequences=True)
-> Dense(12, softmax) on every step: 205,324 trainable parameters for DIGITS = 3. Keras's initialisation:
Glorot-uniform input kernels (PyTorch's weight_ih is Keras's (in, 4u) kernel transposed, so xavier_uniform_ sees the
same fans), orthogonal recurrent kernels (weight_hh (4u, u) with orthonormal columns is Keras's (u, 4u) kernel with
orthonormal rows, transposed), zero biases with the forget gate's at 1 (unit_forget_bias). PyTorch's gate order i, f,
g, o is Keras's i, f, c, o. PyTorch's LSTM and RNN add two bias vectors (b_ih + b_hh) where Keras has one: b_hh is
kept at zero and frozen (not trained, not counted), so the trainable parameters and Adam's steps are Keras's.
--rnn gru: nn.GRU, which computes Keras's GRU(reset_after=True) (the reset gate applied to W_hn·h + b_hn, both biases
trained, as Keras's (2, 3u) bias); PyTorch orders the gates r, z, n where Keras orders z, r, h — a permutation of
rows of identically initialised matrices, so the same model. --rnn simple: nn.RNN(tanh), Keras's SimpleRNN.
Adam(lr 1e-3, then 1e-4 for the last third of the epochs in `full`, as examples/addition_rnn.cpp; beta 0.9/0.999,
eps 1e-7 as Keras), categorical cross-entropy on the logits averaged over every
time step of every sample (Keras's loss on a (B, DIGITS + 1, 12) output), per-character accuracy, batch 32.
Not a driver: compare_pytorch.py --model addition runs this in child processes; run it by hand only to debug.

  /usr/bin/python3 benchmarks/pytorch_addition.py speed --threads 1   # JSON: epoch time, samples/s, latency, RSS
  /usr/bin/python3 benchmarks/pytorch_addition.py full --epochs 20    # JSON: History, validation score, wall time
"""
import argparse
import json
import random
import resource
import statistics
import sys
import time

import numpy as np

from pytorch_mlp import blas_library, evaluate_in_batches, measure_predict, measure_steps, train_step

# Keras's example.
TRAINING_SIZE = 50_000
CHARS = "".join(sorted(set("0123456789+ ")))  # Keras's CharacterTable order: " +0123456789"
UNITS = 128

# The protocol, shared with versus_ctnn_addition.cpp (keep the two in step).
BATCH = 32                  # Keras's example; the epoch and the full run
EPOCH_WARMUP_STEPS = 20
EPOCH_REPEATS = 2           # whole shuffled 45,000-question epochs (1,407 steps, the last of 8 questions)
STEP_WARMUP = 10            # steps at batch 128 and 32 (pytorch_mlp.measure_steps: 3 repeats of STEP_TIMED)
STEP_TIMED = 100
# batch-1 predict: pytorch_mlp.measure_predict's 100 warm-up calls, then 5 repeats of 1,000 calls


def gates_of(rnn):
    return {"lstm": 4, "gru": 3, "simple": 1}[rnn]


def train_flop_per_sample(rnn, digits):
    """FLOPs of one training step per question (a multiply-add = 2; the gates' elementwise work, the softmax and
    Adam not counted): the forward products of both recurrent layers and of the Dense on every output step, the
    same again for the weight gradients, and the input gradients of all but the encoder's inputs (its gradient
    through the recurrent kernel is counted). As versus_ctnn_addition.cpp's."""
    g, u, maxlen, out_steps = gates_of(rnn), UNITS, 2 * digits + 1, digits + 1
    encoder_x, encoder_h = maxlen * g * u * len(CHARS), maxlen * g * u * u
    decoder = out_steps * g * u * (u + u)
    dense = out_steps * u * len(CHARS)
    forward = encoder_x + encoder_h + decoder + dense
    return 2 * (3 * forward - encoder_x)


def make_questions(digits, seed, count=TRAINING_SIZE):
    """Keras's generator: (queries reversed, answers) as strings, in the order drawn (not yet shuffled)."""
    rng = random.Random(seed)
    maxlen = 2 * digits + 1
    count = min(count, (10 ** digits) * (10 ** digits + 1) // 2)  # the distinct (sorted) pairs there are

    def number():
        return int("".join(rng.choice("0123456789") for _ in range(rng.randint(1, digits))))

    questions, expected, seen = [], [], set()
    while len(questions) < count:
        a, b = number(), number()
        key = tuple(sorted((a, b)))
        if key in seen:
            continue
        seen.add(key)
        q = f"{a}+{b}"
        questions.append((q + " " * (maxlen - len(q)))[::-1])
        ans = str(a + b)
        expected.append(ans + " " * (digits + 1 - len(ans)))
    return questions, expected


def load_data(digits, seed):
    """(x_train, y_train), (x_val, y_val): x float32 (N, MAXLEN, 12) one-hot, y int64 (N, DIGITS + 1) character
    indices (the one-hot rows' argmax); shuffled, then the last len // 10 validate, as Keras's example."""
    questions, expected = make_questions(digits, seed)
    index = {c: i for i, c in enumerate(CHARS)}
    x = np.zeros((len(questions), 2 * digits + 1, len(CHARS)), dtype=np.float32)
    for i, q in enumerate(questions):
        x[i, np.arange(len(q)), [index[c] for c in q]] = 1.0
    y = np.array([[index[c] for c in a] for a in expected], dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    split_at = len(x) - len(x) // 10
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def decode(indices):
    return "".join(CHARS[int(i)] for i in indices)


def make_model(torch, rnn="lstm", digits=3, seed=0):
    nn = torch.nn
    cell = {"lstm": nn.LSTM, "gru": nn.GRU, "simple": nn.RNN}[rnn]
    g = gates_of(rnn)

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = cell(len(CHARS), UNITS, batch_first=True)
            self.decoder = cell(UNITS, UNITS, batch_first=True)
            self.dense = nn.Linear(UNITS, len(CHARS))

        def forward(self, x):                       # (B, MAXLEN, 12)
            encoded, _ = self.encoder(x)
            last = encoded[:, -1]                   # (B, 128): Keras's LSTM(128), the last state
            repeated = last.unsqueeze(1).expand(-1, digits + 1, -1)  # RepeatVector(DIGITS + 1)
            decoded, _ = self.decoder(repeated)     # (B, DIGITS + 1, 128): return_sequences=True
            logits = self.dense(decoded)            # (B, DIGITS + 1, 12): Dense on the last axis
            # (B, 12, DIGITS + 1): the (N, C, d) layout for which CrossEntropyLoss averages over the N·d steps,
            # softmax(·, 1) is over the characters and argmax(1) gives each step's character.
            return logits.transpose(1, 2)

    torch.manual_seed(seed)
    model = Seq2Seq()
    for layer in (model.encoder, model.decoder):
        nn.init.xavier_uniform_(layer.weight_ih_l0)   # Keras's Glorot-uniform (in, g·u) kernel, transposed
        nn.init.orthogonal_(layer.weight_hh_l0)       # Keras's orthogonal (u, g·u) recurrent kernel, transposed
        nn.init.zeros_(layer.bias_ih_l0)
        nn.init.zeros_(layer.bias_hh_l0)
        if rnn == "lstm":
            with torch.no_grad():
                layer.bias_ih_l0[UNITS:2 * UNITS] = 1.0  # the forget gate (i, f, g, o): Keras's unit_forget_bias
        if rnn != "gru":  # Keras's LSTM and SimpleRNN have one bias: PyTorch's second stays 0
            layer.bias_hh_l0.requires_grad_(False)
    nn.init.xavier_uniform_(model.dense.weight)
    nn.init.zeros_(model.dense.bias)
    trainable = [p for p in model.parameters() if p.requires_grad]
    count = sum(p.numel() for p in trainable)
    in_, u = len(CHARS), UNITS
    biases = 2 if rnn == "gru" else 1
    keras = g * (u * (in_ + u) + biases * u) + g * (u * (u + u) + biases * u) + u * in_ + in_
    assert count == keras, (count, keras)
    assert rnn != "lstm" or count == 205_324  # Keras's summary for the example
    optimizer = torch.optim.Adam(trainable, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    return model, optimizer


def train_epoch(torch, model, optimizer, loss_fn, x, y, generator):
    """One shuffled epoch at BATCH, every batch trained (the last one smaller); the mean loss per question and the
    per-character accuracy, as Keras's fit logs them."""
    model.train()
    order = torch.randperm(x.shape[0], generator=generator)
    loss_sum, correct = 0.0, 0
    for first in range(0, x.shape[0], BATCH):
        idx = order[first:first + BATCH]
        loss, right = train_step(torch, model, optimizer, loss_fn, x[idx], y[idx])
        loss_sum += float(loss) * len(idx)
        correct += int(right)
    return loss_sum / x.shape[0], correct / y.numel()


def evaluate(torch, model, xs, ys):
    """Validation loss (cross-entropy averaged per character) and per-character accuracy."""
    loss, accuracy = evaluate_in_batches(torch, model, xs, ys, BATCH)  # sums over characters, divides by questions
    steps = ys.shape[1]
    return loss / steps, accuracy / steps


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def speed(args):
    import torch
    torch.set_num_threads(args.threads)
    (xtr, ytr), (xva, _) = load_data(args.digits, 0)
    x, y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    model, optimizer = make_model(torch, args.rnn, args.digits, 0)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    result = {"model": "addition", "rnn": args.rnn, "digits": args.digits, "threads": args.threads,
              "torch": torch.__version__, "blas": blas_library(), "mkldnn": bool(torch.backends.mkldnn.is_available())}

    # Epoch at batch 32: warm-up steps, then whole shuffled 45,000-question epochs.
    for s in range(EPOCH_WARMUP_STEPS):
        train_step(torch, model, optimizer, loss_fn, x[s * BATCH:(s + 1) * BATCH], y[s * BATCH:(s + 1) * BATCH])
    generator = torch.Generator().manual_seed(0)
    epoch_times = []
    for _ in range(args.epoch_repeats):
        start = time.perf_counter()
        train_epoch(torch, model, optimizer, loss_fn, x, y, generator)
        epoch_times.append(time.perf_counter() - start)
    if epoch_times:
        result["epoch_seconds"] = statistics.median(epoch_times)
        result["epoch_seconds_all"] = epoch_times
        flop = train_flop_per_sample(args.rnn, args.digits) * x.shape[0]
        result["epoch_gflops"] = flop / result["epoch_seconds"] * 1e-9

    measure_steps(torch, model, optimizer, loss_fn, x, y, result, STEP_WARMUP, STEP_TIMED)
    measure_predict(torch, model, xva, result)
    result["peak_rss_mb"] = peak_rss_mb()
    json.dump(result, sys.stdout)
    print()


def full(args):
    """Keras's example: --epochs epochs at batch 32, shuffled, validated on the 5,000 held-out questions after each;
    a few decoded validation questions as the example prints them; the validation score."""
    import torch
    torch.set_num_threads(args.threads)
    (xtr, ytr), (xva, yva) = load_data(args.digits, args.seed)
    x, y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    model, optimizer = make_model(torch, args.rnn, args.digits, args.seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)

    start = time.perf_counter()
    history = []
    slow_from = args.epochs - args.epochs // 3  # as examples/addition_rnn.cpp: 1e-3, then 1e-4 for the last third
    for epoch in range(args.epochs):
        for group in optimizer.param_groups:
            group["lr"] = 1e-3 if epoch < slow_from else 1e-4
        epoch_start = time.perf_counter()
        loss, accuracy = train_epoch(torch, model, optimizer, loss_fn, x, y, generator)
        seconds = time.perf_counter() - epoch_start
        val_loss, val_accuracy = evaluate(torch, model, xva, yva)
        history.append({"loss": loss, "accuracy": accuracy, "val_loss": val_loss, "val_accuracy": val_accuracy,
                        "seconds": seconds})
        print(f"epoch {epoch + 1}/{args.epochs}: {json.dumps(history[-1])}", file=sys.stderr, flush=True)
    wall = time.perf_counter() - start

    model.eval()
    with torch.inference_mode():
        for i in range(10):
            guess = decode(model(torch.from_numpy(xva[i:i + 1])).argmax(1)[0])
            query, correct = decode(xva[i].argmax(-1))[::-1], decode(yva[i])
            print(f"Q {query} T {correct} {'[ok]' if guess == correct else '[x] '} {guess}", file=sys.stderr)
    val_loss, val_accuracy = evaluate(torch, model, xva, yva)
    json.dump({"model": "addition", "rnn": args.rnn, "digits": args.digits, "threads": args.threads,
               "epochs": args.epochs, "seconds": wall, "val_loss": val_loss, "val_accuracy": val_accuracy,
               "history": history, "peak_rss_mb": peak_rss_mb()}, sys.stdout)
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["speed", "full"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--epoch-repeats", type=int, default=EPOCH_REPEATS,
                        help="whole epochs timed by speed (0: steps and latency only, for a quick look)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--digits", type=int, default=3)
    parser.add_argument("--rnn", choices=["lstm", "gru", "simple"], default="lstm")
    args = parser.parse_args()
    speed(args) if args.mode == "speed" else full(args)


if __name__ == "__main__":
    main()
