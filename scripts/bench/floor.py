"""The disk's durability floor (issue 15 point 5): scripts/bench/floor.c, built here with cc into
.build-bench/, does exactly the system calls of each cache layout, one instance after another,
each durable before the next, on the file system it is pointed at (the bench's work directory,
where the gateway's storage is too). See floor.c for the layouts.

    scripts/bench/ingest --floor-only      # only these rows, on a temporary directory
"""
import os
import shutil
import subprocess
import tempfile

import common

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "floor.c")
BUILD = os.path.join(common.ROOT, ".build-bench")
BINARY = os.path.join(BUILD, "floor")

# (key, floor.c layout, threads, label). Each row runs twice: at normal priority (as the gateway
# runs) and, when root, at SCHED_FIFO (floor.c fifo): on a machine whose cores are busy, the first
# is mostly the wait for a CPU after each flush, the second the device alone.
ROWS = [
    ("a", "two-flush", 1, "(a) two-flush (the fallback): write+fdatasync, rename, dir fsync"),
    ("b", "one-flush", 1, "(b) one-flush: write+fdatasync, file made in advance"),
    ("c", "segment", 1, "(c) segment, fallocate'd: append+fdatasync"),
    ("c2", "segment-reuse", 1, "(c') segment already written: overwrite+fdatasync"),
    ("b4", "one-flush", 4, "(b) x 4 threads at once"),
    ("b16", "one-flush", 16, "(b) x 16 threads at once"),
    ("i", "index", 1, "SQLite commit alone (WAL, synchronous=FULL)"),
    ("d", "one-flush+index", 1, "(d) (b) + SQLite commit in parallel"),
    ("a+i", "two-flush+index", 1, "(a) + SQLite commit in parallel (the fallback's bound)"),
]


def build():
    """Compiles floor.c when the binary is missing or older than the source."""
    if os.path.exists(BINARY) and os.path.getmtime(BINARY) >= os.path.getmtime(SOURCE):
        return BINARY
    os.makedirs(BUILD, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-o", BINARY, SOURCE, "-lpthread", "-lsqlite3"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"cc floor.c failed (libsqlite3-dev missing? scripts/setup installs it):\n{r.stdout}")
    return BINARY


def run(work, layout, size, count, threads=1, fifo=False):
    """One floor.c run in a fresh directory under work; returns (instances/s, mean ms, p50 ms, p95 ms)."""
    directory = tempfile.mkdtemp(prefix=f"floor-{layout}-", dir=work)
    try:
        r = subprocess.run([build(), os.path.join(directory, "d"), layout, str(size), str(count), str(threads)] + (["fifo"] if fifo else []),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"floor {layout} failed: {r.stderr.strip()}")
        fields = r.stdout.split("\t")
        seconds, mean, p50, p95 = (float(x) for x in fields[4:8])
        return count / seconds, mean, p50, p95
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def measure(work, shapes):
    """shapes: {case: (payload bytes, count)}. Returns {(key, case): (inst/s, mean, p50, p95)} at
    normal priority and {(key + "!", case): ...} at SCHED_FIFO (None when not root)."""
    results = {}
    fifo = os.geteuid() == 0
    for key, layout, threads, _ in ROWS:
        for case, (size, count) in shapes.items():
            results[(key, case)] = run(work, layout, size, count, threads)
            results[(key + "!", case)] = run(work, layout, size, count, threads, fifo=True) if fifo else None
    return results


def report(results, shapes, labels):
    cases = list(shapes)
    print("The disk's floor (scripts/bench/floor.c: only the system calls of each layout, each instance durable before")
    print("the next; same file system as the gateway's storage). Instances/s and mean ms per op as one thread sees it,")
    print("at normal priority (as the gateway runs) and at SCHED_FIFO (the device alone, no wait for a CPU):")
    print(f"{'layout':<58}" + "".join(f"{labels[c]:>40}" for c in cases))
    print(f"{'':<58}" + "".join(f"{'normal':>20}{'SCHED_FIFO':>20}" for c in cases))
    for key, _, _, label in ROWS:
        line = f"{label:<58}"
        for case in cases:
            for k in (key, key + "!"):
                if results[(k, case)] is None:
                    line += f"{'(not root)':>20}"
                    continue
                rate, mean, _, _ = results[(k, case)]
                line += f"{rate:>9.0f}/s {mean:>6.2f} ms"
        print(line)


def shapes_of(data):
    """The bench's own payloads: mean file size and count of the CT and small data sets."""
    shapes = {}
    for case in ("ct", "small"):
        files = data[case]
        shapes[case] = (int(sum(os.path.getsize(f) for f in files) / len(files)), len(files))
    return shapes
