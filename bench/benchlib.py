#!/usr/bin/env python3
"""Helpers for the Nimbus benchmark scripts (bench/*.sh). Standard library only, except the
`jpeg` command, which needs Pillow.

Commands:
  jpeg OUT TARGET_BYTES [SEED]      write a real JPEG of about TARGET_BYTES (within 5 %)
  wait-healthy URL [SECONDS]        poll URL until it answers 200
  upload FILE PUBLIC_ID             signed upload to Nimbus; prints the delivery URL
  upload-load FILE... [--threads N] [--duration S]
                                    concurrent signed uploads for S seconds; prints a JSON summary
  disk-baseline FILE... --dir DIR [--threads N] [--duration S]
                                    the same bytes hashed (MD5 + SHA-256), written and fsynced by N
                                    threads for S seconds; prints a JSON summary
  derive-load URL_TEMPLATE [--requests N] [--threads T]
                                    GETs of the template with {n} replaced by a new number each
                                    time (new derivatives); prints a JSON summary
  wrk-rps FILE                      requests/sec from a saved wrk report (fails on non-2xx/errors)
  median X...                       median of the numbers

Upload commands read NIMBUS_BENCH_BASE (http://127.0.0.1:PORT), NIMBUS_BENCH_CLOUD,
NIMBUS_BENCH_KEY and NIMBUS_BENCH_SECRET from the environment.
"""

import hashlib
import http.client
import io
import json
import os
import random
import re
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit("benchlib: %s is not set" % name)
    return value


# --- images -----------------------------------------------------------------------------------

def make_jpeg(target, seed=0):
    """A noisy photo-like JPEG whose size is within 5 % of target bytes."""
    from PIL import Image, ImageFilter

    rnd = random.Random(seed)

    def render(side):
        w, h = side, side * 3 // 4
        noise = Image.frombytes("RGB", (w, h), rnd.randbytes(w * h * 3))
        img = noise.filter(ImageFilter.GaussianBlur(0.6))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
        return buf.getvalue()

    lo, hi = 16, 4096
    best = None
    for _ in range(30):
        side = (lo + hi) // 2
        data = render(side)
        if best is None or abs(len(data) - target) < abs(len(best) - target):
            best = data
        if abs(len(data) - target) <= target * 0.05:
            return data
        if len(data) < target:
            lo = side + 1
        else:
            hi = side - 1
        if lo > hi:
            break
    return best


# --- Nimbus Upload API ------------------------------------------------------------------------

def _sign(params, secret):
    to_sign = "&".join("%s=%s" % (k, str(v).replace("&", "%26")) for k, v in sorted(params.items()))
    return hashlib.sha1((to_sign + secret).encode()).hexdigest()


def multipart_upload_body(data, filename, params, boundary):
    parts = []
    for k, v in params.items():
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                      % (boundary, k, v)).encode())
    parts.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                  "Content-Type: image/jpeg\r\n\r\n" % (boundary, filename)).encode())
    parts.append(data)
    parts.append(("\r\n--%s--\r\n" % boundary).encode())
    return b"".join(parts)


def signed_params(extra=None):
    params = dict(extra or {})
    params["timestamp"] = str(int(time.time()))
    params["signature"] = _sign(params, env("NIMBUS_BENCH_SECRET"))
    params["api_key"] = env("NIMBUS_BENCH_KEY")
    return params


def upload_path():
    return "/v1_1/%s/image/upload" % env("NIMBUS_BENCH_CLOUD")


def cmd_upload(path, public_id):
    with open(path, "rb") as f:
        data = f.read()
    boundary = "nimbusBench%08x" % random.getrandbits(32)
    body = multipart_upload_body(data, os.path.basename(path), signed_params({"public_id": public_id}), boundary)
    req = urllib.request.Request(env("NIMBUS_BENCH_BASE") + upload_path(), data=body, method="POST",
                                 headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=120) as r:
            result = json.loads(r.read())
    except urllib.error.HTTPError as e:
        sys.exit("benchlib: upload failed: HTTP %s %s" % (e.code, e.read()[:500]))
    if result.get("bytes") != len(data):
        sys.exit("benchlib: upload reported %r bytes for a %d byte file" % (result.get("bytes"), len(data)))
    print(result["url"])


def run_threads(worker, threads):
    """Runs worker(n) on `threads` threads; returns the wall-clock seconds."""
    t_start = time.monotonic()
    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.monotonic() - t_start


def cmd_upload_load(files, threads, duration):
    payloads = []
    for p in files:
        with open(p, "rb") as f:
            payloads.append((os.path.basename(p), f.read()))
    base = urllib.parse.urlsplit(env("NIMBUS_BENCH_BASE"))
    path = upload_path()
    deadline = time.monotonic() + duration
    lock = threading.Lock()
    stats = {"ok": 0, "errors": 0, "bytes": 0, "latencies": [], "first_error": None}

    def worker(n):
        conn = http.client.HTTPConnection(base.hostname, base.port, timeout=120)
        i = 0
        while time.monotonic() < deadline:
            name, data = payloads[(n + i) % len(payloads)]
            i += 1
            boundary = "nimbusBench%d_%d" % (n, i)
            body = multipart_upload_body(data, name, signed_params(), boundary)
            t0 = time.monotonic()
            try:
                conn.request("POST", path, body, {"Content-Type": "multipart/form-data; boundary=" + boundary})
                resp = conn.getresponse()
                payload = resp.read()
                ok = resp.status == 200
                err = None if ok else "HTTP %d %s" % (resp.status, payload[:300])
            except (OSError, http.client.HTTPException) as e:
                ok, err = False, repr(e)
                conn.close()
                conn = http.client.HTTPConnection(base.hostname, base.port, timeout=120)
            took = time.monotonic() - t0
            with lock:
                if ok:
                    stats["ok"] += 1
                    stats["bytes"] += len(data)
                    stats["latencies"].append(took)
                else:
                    stats["errors"] += 1
                    stats["first_error"] = stats["first_error"] or err
        conn.close()

    elapsed = run_threads(worker, threads)
    lat = sorted(stats["latencies"]) or [0.0]
    print(json.dumps({
        "threads": threads,
        "seconds": round(elapsed, 2),
        "uploads": stats["ok"],
        "errors": stats["errors"],
        "first_error": stats["first_error"],
        "uploads_per_s": round(stats["ok"] / elapsed, 1),
        "mb_per_s": round(stats["bytes"] / elapsed / 1e6, 2),
        "latency_ms_p50": round(lat[len(lat) // 2] * 1000, 1),
        "latency_ms_p99": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 1),
    }))


def cmd_disk_baseline(files, out_dir, threads, duration):
    payloads = []
    for p in files:
        with open(p, "rb") as f:
            payloads.append(f.read())
    deadline = time.monotonic() + duration
    lock = threading.Lock()
    stats = {"files": 0, "bytes": 0}

    def worker(n):
        i = 0
        while time.monotonic() < deadline:
            data = payloads[(n + i) % len(payloads)]
            i += 1
            md5 = hashlib.md5(data).hexdigest()
            sha = hashlib.sha256(data).hexdigest()
            path = os.path.join(out_dir, "%d_%d_%s_%s" % (n, i, md5[:8], sha[:8]))
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            with lock:
                stats["files"] += 1
                stats["bytes"] += len(data)

    elapsed = run_threads(worker, threads)
    print(json.dumps({
        "threads": threads,
        "seconds": round(elapsed, 2),
        "files": stats["files"],
        "files_per_s": round(stats["files"] / elapsed, 1),
        "mb_per_s": round(stats["bytes"] / elapsed / 1e6, 2),
    }))


# --- misc -------------------------------------------------------------------------------------

def cmd_wait_healthy(url, seconds):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with opener.open(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("benchlib: %s not healthy after %s s" % (url, seconds))


def cmd_derive_load(template, requests, threads):
    """GETs template.format(n=...) with a new n per request; prints rps and latency JSON."""
    base = urllib.parse.urlsplit(template)
    counter = iter(range(requests))
    lock = threading.Lock()
    lat, errors = [], []

    def worker(_):
        conn = http.client.HTTPConnection(base.hostname, base.port, timeout=120)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            url = urllib.parse.urlsplit(template.replace("{n}", str(290 + n)))
            t0 = time.monotonic()
            conn.request("GET", url.path)
            resp = conn.getresponse()
            resp.read()
            with lock:
                lat.append(time.monotonic() - t0)
                if resp.status != 200:
                    errors.append(resp.status)

    secs = run_threads(worker, threads)
    if errors:
        sys.exit("benchlib: %d derivations failed (%r)" % (len(errors), errors[:5]))
    lat.sort()
    print(json.dumps({"requests": requests, "threads": threads, "seconds": round(secs, 3),
                      "rps": round(requests / secs, 1), "p50_ms": round(lat[len(lat) // 2] * 1000, 1),
                      "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 1)}))


def cmd_wrk_rps(path):
    text = open(path).read()
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not m:
        sys.exit("benchlib: no Requests/sec in %s" % path)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if bad:
        sys.exit("benchlib: %s: %s non-2xx responses" % (path, bad.group(1)))
    errs = re.search(r"Socket errors:.*", text)
    if errs and re.search(r"(connect|read|write) [1-9]", errs.group(0)):
        print("benchlib: warning: %s: %s" % (path, errs.group(0)), file=sys.stderr)
    print(m.group(1))


def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd, args = argv[0], argv[1:]

    def opt(name, default):
        if name in args:
            i = args.index(name)
            value = args[i + 1]
            del args[i:i + 2]
            return value
        return default

    if cmd == "jpeg":
        data = make_jpeg(int(args[1]), int(args[2]) if len(args) > 2 else 0)
        with open(args[0], "wb") as f:
            f.write(data)
        print(len(data))
    elif cmd == "wait-healthy":
        cmd_wait_healthy(args[0], float(args[1]) if len(args) > 1 else 60)
    elif cmd == "upload":
        cmd_upload(args[0], args[1])
    elif cmd == "upload-load":
        threads, duration = int(opt("--threads", 8)), float(opt("--duration", 20))
        cmd_upload_load(args, threads, duration)
    elif cmd == "disk-baseline":
        out_dir = opt("--dir", None) or sys.exit("benchlib: --dir is required")
        threads, duration = int(opt("--threads", 8)), float(opt("--duration", 20))
        cmd_disk_baseline(args, out_dir, threads, duration)
    elif cmd == "derive-load":
        requests, threads = int(opt("--requests", 200)), int(opt("--threads", 2))
        cmd_derive_load(args[0], requests, threads)
    elif cmd == "wrk-rps":
        cmd_wrk_rps(args[0])
    elif cmd == "median":
        print("%.1f" % statistics.median(float(x) for x in args))
    else:
        sys.exit("benchlib: unknown command %s\n%s" % (cmd, __doc__))


if __name__ == "__main__":
    main(sys.argv[1:])
