#!/usr/bin/env python3
"""Thumbnailing: Nimbus's engine vs libvips' vipsthumbnail, same photos, same thread count,
in one run. Standard library only.

  imaging.py NIMBUS_THUMBNAIL_BIN PHOTO... [--rounds R]

Prints a JSON report and a summary table. Each run processes every photo R times;
"threads" is the number of images in flight: Nimbus uses that many threads over one queue,
libvips that many vipsthumbnail processes with VIPS_CONCURRENCY=1 (each holds 1/N of the
work). Peak memory is the maximum resident set of a process thumbnailing the largest photo.
"""

import json
import os
import subprocess
import sys
import tempfile
import time


def run_nimbus(binary, photos, threads, rounds, transformation):
    out = subprocess.run([binary, "--threads", str(threads), "--rounds", str(rounds), "--transformation",
                          transformation] + photos, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_vips(photos, threads, rounds, size, suffix):
    work = [p for _ in range(rounds) for p in photos]
    parts = [work[i::threads] for i in range(threads)]
    outdir = tempfile.mkdtemp(prefix="nimbus-bench-vips-")
    env = dict(os.environ, VIPS_CONCURRENCY="1")
    t0 = time.monotonic()
    procs = [subprocess.Popen(["vipsthumbnail", "--size", size, "-o",
                               os.path.join(outdir, "p%d_%%s%s" % (i, suffix))] + part, env=env)
             for i, part in enumerate(parts)]
    for p in procs:
        if p.wait() != 0:
            sys.exit("imaging: vipsthumbnail failed")
    secs = time.monotonic() - t0
    subprocess.run(["rm", "-rf", outdir])
    return {"images": len(work), "threads": threads, "seconds": round(secs, 3),
            "images_per_s": round(len(work) / secs, 1)}


def children_peak_mb(cmd, env=None):
    """Peak RSS of `cmd`, in MB, measured by a fresh Python parent (ru_maxrss of its only child)."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe] + cmd, check=True, capture_output=True, text=True, env=env)
    return round(int(out.stdout.strip()) / 1024.0, 1)


def main(argv):
    rounds = 3
    if "--rounds" in argv:
        i = argv.index("--rounds")
        rounds = int(argv[i + 1])
        del argv[i:i + 2]
    binary, photos = argv[0], argv[1:]
    sizes = {}
    for p in photos:
        with open(p, "rb") as f:
            f.seek(0, 2)
            sizes[p] = f.tell()
    report = {"photos": len(photos), "rounds": rounds, "runs": []}
    for label, t_nimbus, vips_size, suffix in [
        ("300 px JPEG q80", "c_scale,w_300/q_80", "300x", ".jpg[Q=80,strip]"),
        ("1000 px WebP q80", "c_scale,w_1000/f_webp,q_80", "1000x", ".webp[Q=80,strip]"),
        # Both encoders at their fastest setting (rav1e speed 10, libaom effort 0).
        ("1000 px AVIF q60", "c_scale,w_1000/f_avif,q_60", "1000x", ".avif[Q=60,effort=0,strip]"),
    ]:
        for threads in (1, 2):
            n = run_nimbus(binary, photos, threads, rounds if "JPEG" in label else 1, t_nimbus)
            v = run_vips(photos, threads, rounds if "JPEG" in label else 1, vips_size, suffix)
            report["runs"].append({"task": label, "threads": threads, "nimbus": n, "vips": v,
                                   "ratio": round(n["images_per_s"] / v["images_per_s"], 2)})
    largest = max(photos, key=lambda p: sizes[p])
    # The 18 MP photo alone: peak memory of each tool.
    nimbus_peak = children_peak_mb([binary, "--rounds", "1", "--transformation", "c_scale,w_300/q_80", largest])
    outdir = tempfile.mkdtemp(prefix="nimbus-bench-vips-")
    vips_peak = children_peak_mb(["vipsthumbnail", "--size", "300x", "-o", os.path.join(outdir, "%s.jpg[Q=80]"), largest],
                                 env=dict(os.environ, VIPS_CONCURRENCY="1"))
    report["peak_memory_mb"] = {"photo": os.path.basename(largest), "nimbus": nimbus_peak, "vips": vips_peak}
    print(json.dumps(report))
    print()
    print("%-18s %7s %12s %12s %7s" % ("task", "threads", "nimbus img/s", "vips img/s", "ratio"))
    for r in report["runs"]:
        print("%-18s %7d %12.1f %12.1f %6.2fx" % (r["task"], r["threads"], r["nimbus"]["images_per_s"],
                                                  r["vips"]["images_per_s"], r["ratio"]))
    pm = report["peak_memory_mb"]
    print("peak RSS thumbnailing %s: nimbus %s MB, vips %s MB" % (pm["photo"], pm["nimbus"], pm["vips"]))


if __name__ == "__main__":
    main(sys.argv[1:])
