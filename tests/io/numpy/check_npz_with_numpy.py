#!/usr/bin/python3
"""numpy as the independent decoder and encoder for ctnn's .npz files.

1. npz_write_fixture writes arrays with ctnn::io::save_npz; numpy.load must see the same names,
   dtypes, shapes and exact float32 bits (values recomputed here from the formula in
   npz_fixture.hpp), and Python's zipfile must find every entry deflated with a correct CRC.
2. numpy.savez (stored) and numpy.savez_compressed (deflated) write arrays, including Fortran-order,
   0-d and empty ones; npz_dump (ctnn::io::load_npz) must print the same names, shapes and bits.
3. A float64 array must be refused with a message naming the file, the array and both dtypes.

Usage: check_npz_with_numpy.py NPZ_WRITE_FIXTURE NPZ_DUMP   (run by meson: suite 'tools')
"""
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

failures = 0


def check(ok, what):
    global failures
    print(("OK      " if ok else "NOT OK  ") + what)
    if not ok:
        failures += 1


def formula(k, count):
    # Same as npz_fixture::formula: integer arithmetic, one division in double, one rounding to float32.
    i = np.arange(count, dtype=np.int64)
    return (((i * 37 + k * 11) % 101 - 50).astype(np.float64) / 7.0).astype(np.float32)


def fixture():
    special = np.array([0x7fc01234, 0xff800000, 0x7f800000, 0x80000000, 0x00000001, 0x7f7fffff],
                       dtype=np.uint32).view(np.float32)
    return {
        "dense/kernel": formula(0, 6).reshape(3, 2),
        "dense/bias": formula(1, 2),
        "dense_1/kernel": formula(2, 1000).reshape(40, 25),
        "empty": np.zeros((0,), np.float32),
        "empty_2d": np.zeros((4, 0), np.float32),
        "scalar": formula(5, 1).reshape(()),
        "rank3": formula(6, 24).reshape(2, 3, 4),
        "big": formula(7, 60000).reshape(300, 200),
        "conv2d/kernel": formula(12, 72).reshape(3, 3, 2, 4),  # rank 4: Keras's (KH, KW, C, F)
        "special/bits": special,
    }


def same_bits(a, b):
    # np.array(order="C"), not np.ascontiguousarray, which turns a 0-d array into a 1-d one.
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(
        np.array(a, order="C").view(np.uint32), np.array(b, order="C").view(np.uint32))


def ours_to_numpy(writer, folder):
    path = os.path.join(folder, "ours.npz")
    subprocess.run([writer, path], check=True)
    expected = fixture()
    with zipfile.ZipFile(path) as archive:
        check(archive.testzip() is None, "zipfile: every CRC of ours.npz is correct")
        check(all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist()),
              "zipfile: every entry of ours.npz is deflated")
        check(archive.namelist() == [name + ".npy" for name in expected],
              "zipfile: entries are <name>.npy in order: %s" % archive.namelist())
    with np.load(path) as npz:
        check(sorted(npz.files) == sorted(expected), "numpy.load: names %s" % npz.files)
        for name, want in expected.items():
            if name not in npz.files:
                continue
            got = npz[name]
            check(same_bits(got, want), "numpy.load: %-15s dtype %s shape %s" % (name, got.dtype, got.shape))


def numpy_to_ours(dump, folder):
    c_order = formula(8, 12).reshape(3, 4)
    arrays = {
        "dense/kernel": formula(0, 6).reshape(3, 2),
        "dense_1/bias": formula(1, 5),
        "fortran": np.asfortranarray(c_order),                       # header says fortran_order: True
        "fortran3": np.asfortranarray(formula(9, 24).reshape(2, 3, 4)),
        "transposed": formula(10, 20).reshape(4, 5).T,               # Fortran-contiguous view
        "scalar": np.float32(2.5).reshape(()),
        "empty": np.zeros((0, 3), np.float32),
        "big": formula(11, 50000).reshape(250, 200),
    }
    for method, save in (("stored", np.savez), ("deflated", np.savez_compressed)):
        path = os.path.join(folder, "numpy_%s.npz" % method)
        save(path, **arrays)
        result = subprocess.run([dump, path], capture_output=True, text=True)
        check(result.returncode == 0, "load_npz reads numpy.%s output (%s): %s" % (
            save.__name__, method, result.stderr.strip()))
        if result.returncode != 0:
            continue
        seen = []
        for line in result.stdout.splitlines():
            name, dims, bits = line.split("\t")
            seen.append(name)
            shape = tuple(int(d) for d in dims.split(",")) if dims else ()
            values = np.array([int(b, 16) for b in bits.split()], dtype=np.uint32).view(np.float32).reshape(shape)
            want = arrays.get(name)
            check(want is not None and same_bits(values, np.array(want, order="C")),
                  "load_npz(%s): %-12s shape %s" % (method, name, shape))
        check(seen == list(arrays), "load_npz(%s): names in archive order %s" % (method, seen))


def wrong_dtype_is_named(dump, folder):
    path = os.path.join(folder, "float64.npz")
    np.savez(path, **{"dense/kernel": np.zeros((2, 2), np.float64)})
    result = subprocess.run([dump, path], capture_output=True, text=True)
    message = result.stderr.strip()
    check(result.returncode == 1 and message.startswith(path) and
          "array 'dense/kernel': dtype is '<f8', expected '<f4' (float32)" in message,
          "load_npz refuses float64 with: %s" % message)


def main():
    writer, dump = sys.argv[1], sys.argv[2]
    print("numpy", np.__version__)
    with tempfile.TemporaryDirectory() as folder:
        ours_to_numpy(writer, folder)
        numpy_to_ours(dump, folder)
        wrong_dtype_is_named(dump, folder)
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
