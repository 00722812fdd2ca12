#!/usr/bin/python3
"""Independent check of the log dir callbacks::TensorBoard writes (no ctnn code involved in reading).

Runs write_callback_logdir (a tiny fit: 3 epochs x 3 batches, validation data, update_freq=batch,
histogram_freq=1) into a temporary log dir, splits the event files with its own TFRecord framing and
bitwise CRC-32C, decodes each Event with classes protoc generates from tensorboard_subset.proto, and
checks Keras 3's layout: the runs, every tag, every step, and the values against what the program
says fit reported (History, batch logs, iterations, weight sizes).

  --dump DIR : instead, print run, tag, plugin and steps of every event file under DIR (for examples).

Exit 77 = skipped (protoc or python3-protobuf missing).
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile

SKIP = 77
pb = None


from tfrecord_check import crc32c, f32, masked_crc32c, read_records  # noqa: E402,F401


def read_run(run_dir):
    """{tag: [(step, value)]} of the only event file in run_dir; value = float or histogram rows."""
    files = [f for f in os.listdir(run_dir) if f.startswith("events.out.tfevents.")]
    assert len(files) == 1, (run_dir, files)
    events = [pb.Event.FromString(r) for r in read_records(os.path.join(run_dir, files[0]))]
    assert events[0].WhichOneof("what") == "file_version" and events[0].file_version == "brain.Event:2"
    by_tag, plugins = {}, {}
    for e in events[1:]:
        assert e.WhichOneof("what") == "summary" and len(e.summary.value) == 1, e
        v = e.summary.value[0]
        assert v.WhichOneof("value") == "tensor", v
        plugin = v.metadata.plugin_data.plugin_name
        plugins.setdefault(v.tag, plugin)
        assert plugins[v.tag] == plugin, (v.tag, plugin)
        t = v.tensor
        if plugin == "scalars":
            assert t.dtype == pb.DT_FLOAT and t.HasField("tensor_shape") and not t.tensor_shape.dim, t
            assert len(t.tensor_content) == 4, t
            value = struct.unpack("<f", t.tensor_content)[0]
        else:
            assert plugin == "histograms", plugin
            dims = [d.size for d in t.tensor_shape.dim]
            assert t.dtype == pb.DT_DOUBLE and len(dims) == 2 and dims[1] == 3, t
            flat = struct.unpack(f"<{dims[0] * 3}d", t.tensor_content)
            value = [flat[i:i + 3] for i in range(0, len(flat), 3)]
        by_tag.setdefault(v.tag, []).append((e.step, value))
    return by_tag, plugins


def parse_report(text):
    report = {}
    for line in text.splitlines():
        if line.startswith("weight "):
            _, name, size = line.split()
            report.setdefault("weights", {})[name] = int(float(size))
        elif line:
            name, *values = line.split()
            report[name] = [float(v) for v in values]
    return report


def check(args, work):
    log_dir = os.path.join(work, "logs")
    out = subprocess.run([args.writer, log_dir], check=True, capture_output=True, text=True).stdout
    report = parse_report(out)
    assert sorted(os.listdir(log_dir)) == ["train", "validation"], os.listdir(log_dir)
    train, train_plugins = read_run(os.path.join(log_dir, "train"))
    validation, _ = read_run(os.path.join(log_dir, "validation"))

    weights = report["weights"]
    assert sorted(weights) == ["dense/bias", "dense/kernel", "dense_1/bias", "dense_1/kernel"], weights
    hist_tags = [w + "/histogram" for w in weights]
    want_train = ["epoch_loss", "epoch_accuracy", "epoch_learning_rate", "batch_loss", "batch_accuracy"] + hist_tags
    assert sorted(train) == sorted(want_train), sorted(train)
    assert sorted(validation) == sorted(["epoch_loss", "epoch_accuracy", "evaluation_loss_vs_iterations",
                                         "evaluation_accuracy_vs_iterations"]), sorted(validation)
    for tag, plugin in train_plugins.items():
        assert plugin == ("histograms" if tag.endswith("/histogram") else "scalars"), (tag, plugin)

    epochs, steps_per_epoch = 3, 3
    def steps(run, tag):
        return [s for s, _ in run[tag]]
    def values(run, tag):
        return [v for _, v in run[tag]]

    for name in ("loss", "accuracy"):
        assert steps(train, "epoch_" + name) == list(range(epochs))
        assert values(train, "epoch_" + name) == [f32(v) for v in report["history_" + name]], name
        assert steps(validation, "epoch_" + name) == list(range(epochs))
        assert values(validation, "epoch_" + name) == [f32(v) for v in report["history_val_" + name]], name
        tag = f"evaluation_{name}_vs_iterations"
        assert steps(validation, tag) == [steps_per_epoch * (e + 1) for e in range(epochs)], steps(validation, tag)
        assert values(validation, tag) == [f32(v) for v in report["history_val_" + name]], tag
        assert steps(train, "batch_" + name) == list(range(1, epochs * steps_per_epoch + 1)), steps(train, "batch_" + name)
    assert report["iterations"] == [epochs * steps_per_epoch]
    assert values(train, "batch_loss") == [f32(v) for v in report["batch_loss"]]
    assert steps(train, "epoch_learning_rate") == list(range(epochs))
    assert values(train, "epoch_learning_rate") == [f32(report["learning_rate"][0])] * epochs
    for name, size in weights.items():
        points = train[name + "/histogram"]
        assert [s for s, _ in points] == list(range(epochs)), name
        for _, rows in points:
            assert sum(r[2] for r in rows) == size, (name, rows)
            assert all(r[0] <= r[1] for r in rows), rows
    print(f"ok: {sum(len(v) for v in train.values())} train and {sum(len(v) for v in validation.values())} "
          f"validation summaries match Keras 3's layout and fit's values")


def dump(directory):
    for root, _, files in sorted(os.walk(directory)):
        for f in sorted(files):
            if not f.startswith("events.out.tfevents."):
                continue
            path = os.path.join(root, f)
            events = [pb.Event.FromString(r) for r in read_records(path)]
            print(f"{os.path.relpath(path, directory)}: {len(events)} events")
            by_tag = {}
            for e in events:
                for v in e.summary.value:
                    by_tag.setdefault((v.tag, v.metadata.plugin_data.plugin_name), []).append(e.step)
            for (tag, plugin), s in by_tag.items():
                shown = s if len(s) <= 6 else s[:3] + ["..."] + s[-2:]
                print(f"  {tag} [{plugin}] {len(s)} steps: {shown}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writer")
    parser.add_argument("--proto", required=True)
    parser.add_argument("--protoc", default=shutil.which("protoc"))
    parser.add_argument("--dump", metavar="DIR")
    args = parser.parse_args()
    if not args.protoc:
        print("protoc not found: skipped")
        return SKIP
    try:
        import google.protobuf  # noqa: F401
    except ImportError:
        print("python3-protobuf not installed: skipped")
        return SKIP
    work = tempfile.mkdtemp(prefix="ctnn_check_callback_logdir_")
    try:
        gen = os.path.join(work, "gen")
        os.makedirs(gen)
        proto_dir, proto_name = os.path.split(os.path.abspath(args.proto))
        subprocess.run([args.protoc, f"-I{proto_dir}", f"--python_out={gen}", proto_name], check=True)
        sys.path.insert(0, gen)
        global pb
        import tensorboard_subset_pb2 as pb
        if args.dump:
            dump(args.dump)
        else:
            assert args.writer, "--writer is required unless --dump is given"
            check(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
