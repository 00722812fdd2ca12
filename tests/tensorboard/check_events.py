#!/usr/bin/python3
"""Independent check of ctnn's TensorBoard event files (no ctnn code involved in reading).

Runs write_sample_events into a temporary log dir, then reads the files with its own TFRecord framing
and its own bitwise CRC-32C, and decodes each Event with classes protoc generates from
tensorboard_subset.proto (field numbers from TensorFlow/TensorBoard's published protos).

  --mode python : decode with python3-protobuf and check every value, the file names and the first
                  record; also re-serialize each Event and require the same bytes (canonical encoding).
  --mode protoc : decode sample records with `protoc --decode` and `protoc --decode_raw` (a second,
                  C++ decoder) and check its text output.

The `tensorboard` Python package itself is not in Debian and is not used. Exit 77 = skipped.
"""
import argparse
import math
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77


from tfrecord_check import crc32c, f32, masked_crc32c, read_records  # noqa: E402,F401


def same_float(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


NAME_RE = re.compile(r"^events\.out\.tfevents\.(\d{10})\.(.+)\.(\d+)\.(\d+)(\.v2)?$")


def run_writer(writer, log_dir):
    out = subprocess.run([writer, log_dir], check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line]


def check_name(path, suffix):
    m = NAME_RE.match(os.path.basename(path))
    assert m, f"bad event file name {path}"
    secs, host, pid, counter, v2 = m.groups()
    assert abs(int(secs) - time.time()) < 86400, secs
    assert host == socket.gethostname(), (host, socket.gethostname())
    assert (v2 or "") == suffix, (path, suffix)
    assert "tfevents" in os.path.basename(path)
    return int(pid), int(counter)


def scalar_value(value):
    """The float of a TF2 scalar summary value, with rustboard's acceptance rules checked."""
    assert value.WhichOneof("value") == "tensor", value
    assert value.metadata.plugin_data.plugin_name == "scalars"
    assert value.metadata.plugin_data.content == b""
    t = value.tensor
    assert t.dtype == pb.DT_FLOAT, t.dtype
    assert t.HasField("tensor_shape") and len(t.tensor_shape.dim) == 0, t.tensor_shape
    if t.tensor_content:
        assert len(t.tensor_content) == 4 and len(t.float_val) == 0
        return struct.unpack("<f", t.tensor_content)[0]
    assert len(t.float_val) == 1
    return t.float_val[0]


def histogram_rows(value):
    assert value.WhichOneof("value") == "tensor"
    assert value.metadata.plugin_data.plugin_name == "histograms"
    t = value.tensor
    assert t.dtype == pb.DT_DOUBLE, t.dtype
    dims = [d.size for d in t.tensor_shape.dim]
    assert len(dims) == 2 and dims[1] == 3, dims
    data = t.tensor_content
    assert len(data) == dims[0] * 3 * 8, (len(data), dims)
    flat = struct.unpack(f"<{dims[0] * 3}d", data) if data else ()
    return [list(flat[i:i + 3]) for i in range(0, len(flat), 3)]


def expected_histogram(values, k):
    """TensorBoard histogram_v2 bucketing, written here independently of the C++ code."""
    data = [v for v in values if math.isfinite(v)]
    if not data or k == 0:
        return []
    lo, hi = min(data), max(data)
    if lo == hi:
        return [[lo - 0.5, hi + 0.5, float(len(data))]]
    width = (hi - lo) / k
    counts = [0.0] * k
    for v in data:
        counts[min(int(math.floor((v - lo) / width)), k - 1)] += 1
    edges = [lo + i * width for i in range(k)] + [hi]
    return [[edges[i], edges[i + 1], counts[i]] for i in range(k)]


def check_python(args, work):
    paths = run_writer(args.writer, os.path.join(work, "logs"))
    train_files = os.listdir(os.path.join(work, "logs", "train"))
    validation_files = os.listdir(os.path.join(work, "logs", "validation"))
    assert len(train_files) == 1 and len(validation_files) == 1, (train_files, validation_files)
    train = os.path.join(work, "logs", "train", train_files[0])
    validation = os.path.join(work, "logs", "validation", validation_files[0])
    assert [os.path.realpath(p) for p in paths] == [os.path.realpath(train), os.path.realpath(validation)], paths
    pid1, n1 = check_name(train, "")
    pid2, n2 = check_name(validation, ".v2")
    assert pid1 == pid2 and n1 != n2, (pid1, pid2, n1, n2)

    checked = 0
    for path, expected_count in ((train, 17), (validation, 2)):
        records = read_records(path)
        assert len(records) == expected_count, (path, len(records))
        events = [pb.Event.FromString(r) for r in records]
        for payload, event in zip(records, events):
            # Canonical encoding: protobuf re-serializes our bytes identically.
            assert event.SerializeToString(deterministic=True) == payload, event
            assert math.isfinite(event.wall_time) and abs(event.wall_time - time.time()) < 86400, event.wall_time
        first = events[0]
        assert first.WhichOneof("what") == "file_version" and first.file_version == "brain.Event:2", first
        assert all(e.WhichOneof("what") == "summary" and len(e.summary.value) == 1 for e in events[1:])
        assert all(a.wall_time <= b.wall_time for a, b in zip(events, events[1:])), "wall_time goes backwards"
        by_tag = {}
        for e in events[1:]:
            by_tag.setdefault(e.summary.value[0].tag, []).append((e.step, e.summary.value[0]))

        if path == validation:
            assert list(by_tag) == ["epoch_loss"]
            (step, value), = by_tag["epoch_loss"]
            assert step == 1 and scalar_value(value) == 0.125
            checked += 1
            continue

        assert sorted(by_tag) == sorted(["loss", "accuracy", "weights", "constant", "empty", "note", "legacy",
                                         "negative_step"]), sorted(by_tag)
        loss = [(s, scalar_value(v)) for s, v in by_tag["loss"]]
        assert loss == [(s, f32(1.0 / (s + 1))) for s in range(5)], loss
        accuracy = [(s, scalar_value(v)) for s, v in by_tag["accuracy"]]
        expected_accuracy = [0.25, 0.5, float("nan"), 0.75, float("inf")]
        assert [s for s, _ in accuracy] == [0, 10, 20, 30, 40], accuracy
        assert all(same_float(a, b) for (_, a), b in zip(accuracy, expected_accuracy)), accuracy

        (step, weights), = by_tag["weights"]
        rows = histogram_rows(weights)
        values = [0.5 * i for i in range(100)] + [float("nan")]
        expected = expected_histogram(values, 10)
        assert step == 7 and len(rows) == 10, (step, rows)
        for got, want in zip(rows, expected):
            assert abs(got[0] - want[0]) <= 1e-12 * 50 and abs(got[1] - want[1]) <= 1e-12 * 50, (got, want)
            assert got[2] == want[2] == 10.0, (got, want)
        assert rows[0][0] == 0.0 and rows[-1][1] == 49.5
        assert sum(r[2] for r in rows) == 100

        (step, constant), = by_tag["constant"]
        assert step == 1 and histogram_rows(constant) == [[2.5, 3.5, 3.0]]
        (step, empty), = by_tag["empty"]
        assert histogram_rows(empty) == [] and [d.size for d in empty.tensor.tensor_shape.dim] == [0, 3]

        (step, note), = by_tag["note"]
        assert step == 0 and note.metadata.plugin_data.plugin_name == "text"
        assert note.tensor.dtype == pb.DT_STRING and len(note.tensor.tensor_shape.dim) == 0
        assert list(note.tensor.string_val) == ["hello, TensorBoard ünicode".encode("utf-8")], note

        (step, legacy), = by_tag["legacy"]
        assert step == 5 and legacy.WhichOneof("value") == "simple_value" and legacy.simple_value == 2.5
        assert not legacy.HasField("metadata")
        (step, negative), = by_tag["negative_step"]
        assert step == -3 and scalar_value(negative) == 1.0
        checked += len(events)
    print(f"ok: {checked} events checked in {train} and {validation}")


def protoc_decode(args, payload, message=None):
    proto_dir, proto_name = os.path.split(os.path.abspath(args.proto))
    flag = f"--decode=ctnn_tb_subset.{message}" if message else "--decode_raw"
    cmd = [args.protoc, flag, f"-I{proto_dir}"] + ([proto_name] if message else [])
    return subprocess.run(cmd, input=payload, check=True, capture_output=True).stdout.decode("utf-8", "replace")


def check_protoc(args, work):
    train, _ = run_writer(args.writer, os.path.join(work, "logs"))
    records = read_records(train)
    raw = protoc_decode(args, records[0])
    assert '3: "brain.Event:2"' in raw, raw
    text = protoc_decode(args, records[0], "Event")
    assert 'file_version: "brain.Event:2"' in text and "wall_time: " in text, text
    loss1 = protoc_decode(args, records[2], "Event")  # loss at step 1: 0.5f = 00 00 00 3f
    for needle in ("step: 1", 'tag: "loss"', "dtype: DT_FLOAT", "tensor_shape {\n", 'tensor_content: "\\000\\000\\000?"',
                   'plugin_name: "scalars"'):
        assert needle in loss1, (needle, loss1)
    hist = protoc_decode(args, records[11], "Event")  # weights histogram
    for needle in ("step: 7", 'tag: "weights"', "dtype: DT_DOUBLE", "size: 10", "size: 3",
                   'plugin_name: "histograms"'):
        assert needle in hist, (needle, hist)
    print("ok: protoc --decode / --decode_raw agree")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writer", required=True)
    parser.add_argument("--proto", required=True)
    parser.add_argument("--protoc", default=shutil.which("protoc"))
    parser.add_argument("--mode", choices=["python", "protoc"], default="python")
    args = parser.parse_args()
    if not args.protoc:
        print("protoc not found: skipped")
        return SKIP
    work = tempfile.mkdtemp(prefix="ctnn_check_events_")
    try:
        if args.mode == "python":
            try:
                import google.protobuf  # noqa: F401
            except ImportError:
                print("python3-protobuf not installed: skipped")
                return SKIP
            gen = os.path.join(work, "gen")
            os.makedirs(gen)
            proto_dir, proto_name = os.path.split(os.path.abspath(args.proto))
            subprocess.run([args.protoc, f"-I{proto_dir}", f"--python_out={gen}", proto_name], check=True)
            sys.path.insert(0, gen)
            global pb
            import tensorboard_subset_pb2 as pb
            check_python(args, work)
        else:
            check_protoc(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
