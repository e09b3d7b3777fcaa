#!/usr/bin/env python3
"""Bulk `update_metadata` end to end against a running Nimbus (standard library only).

  metadata_bulk.py setup                  create the schema: 4 fields, 3 rules (a cascade)
  metadata_bulk.py seed N [--threads T]   upload N tiny PNGs as bulk/a00000 ... (signed)
  metadata_bulk.py update N [--batch B] [--rounds R]
                                          update_metadata on all N assets in calls of B ids,
                                          R rounds with alternating values; prints JSON
  metadata_bulk.py sqlite-baseline DB N [--batch B] [--rounds R]
                                          the same rows' metadata column written straight to
                                          SQLite (one transaction per batch); prints JSON

Reads NIMBUS_BENCH_BASE, NIMBUS_BENCH_CLOUD, NIMBUS_BENCH_KEY, NIMBUS_BENCH_SECRET.
"""

import base64
import hashlib
import http.client
import json
import sqlite3
import statistics
import struct
import sys
import threading
import time
import urllib.parse
import zlib


def env(name):
    import os
    v = os.environ.get(name)
    if not v:
        sys.exit("metadata_bulk: %s is not set" % name)
    return v


def conn():
    base = urllib.parse.urlsplit(env("NIMBUS_BENCH_BASE"))
    return http.client.HTTPConnection(base.hostname, base.port, timeout=300)


def admin(c, method, path, body=None):
    auth = base64.b64encode(("%s:%s" % (env("NIMBUS_BENCH_KEY"), env("NIMBUS_BENCH_SECRET"))).encode()).decode()
    headers = {"Authorization": "Basic " + auth, "Content-Type": "application/json"}
    c.request(method, "/v1_1/%s/%s" % (env("NIMBUS_BENCH_CLOUD"), path),
              json.dumps(body) if body is not None else None, headers)
    r = c.getresponse()
    data = r.read()
    if r.status != 200:
        sys.exit("metadata_bulk: %s %s -> %d %s" % (method, path, r.status, data[:300]))
    return json.loads(data)


def sign(params):
    to_sign = "&".join("%s=%s" % (k, v) for k, v in sorted(params.items()))
    return hashlib.sha1((to_sign + env("NIMBUS_BENCH_SECRET")).encode()).hexdigest()


def signed_form(pairs):
    """Form body of a signed Upload API call; list values become name[] entries."""
    flat = {k: (",".join(v) if isinstance(v, list) else v) for k, v in pairs.items()}
    flat["timestamp"] = str(int(time.time()))
    sig = sign(flat)
    out = []
    for k, v in pairs.items():
        if isinstance(v, list):
            out.extend(("%s[]" % k, x) for x in v)
        else:
            out.append((k, v))
    out += [("timestamp", flat["timestamp"]), ("signature", sig), ("api_key", env("NIMBUS_BENCH_KEY"))]
    return urllib.parse.urlencode(out)


def png():
    raw = b"".join(b"\x00" + b"\x80\x80\x80" * 4 for _ in range(4))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def ds(*ids):
    return {"values": [{"external_id": i, "value": i.title()} for i in ids]}


def cmd_setup():
    c = conn()
    admin(c, "POST", "metadata_fields", {"external_id": "category", "label": "Category", "type": "enum",
                                         "datasource": ds("employee", "culture")})
    admin(c, "POST", "metadata_fields", {"external_id": "team", "label": "Team", "type": "enum",
                                         "default_disabled": True, "datasource": ds("rnd", "sales")})
    admin(c, "POST", "metadata_fields", {"external_id": "owner", "label": "Owner", "type": "string",
                                         "validation": {"type": "strlen", "min": 1, "max": 64}})
    admin(c, "POST", "metadata_fields", {"external_id": "labels", "label": "Labels", "type": "set",
                                         "datasource": ds("a", "b", "c", "d")})
    admin(c, "POST", "metadata_rules", {"metadata_field_id": "team", "name": "employees have a team",
                                        "condition": {"metadata_field_id": "category", "equals": "employee"},
                                        "result": {"enable": True, "activate_values": "all"}})
    admin(c, "POST", "metadata_rules", {"metadata_field_id": "owner", "name": "rnd needs an owner",
                                        "condition": {"metadata_field_id": "team", "equals": "rnd"},
                                        "result": {"set_mandatory": True}})
    admin(c, "POST", "metadata_rules", {"metadata_field_id": "labels", "name": "sales labels",
                                        "condition": {"metadata_field_id": "team", "equals": "sales"},
                                        "result": {"activate_values": {"external_ids": ["a", "b"]}}})
    print("schema ready")


def public_id(i):
    return "bulk/a%05d" % i


def cmd_seed(n, threads):
    data = png()
    errors = []

    def worker(k):
        c = conn()
        for i in range(k, n, threads):
            boundary = "b%d" % i
            params = {"public_id": public_id(i), "timestamp": str(int(time.time()))}
            params["signature"] = sign(params)
            params["api_key"] = env("NIMBUS_BENCH_KEY")
            parts = [("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, k2, v)).encode()
                     for k2, v in params.items()]
            parts.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
                          "Content-Type: image/png\r\n\r\n" % boundary).encode() + data
                         + ("\r\n--%s--\r\n" % boundary).encode())
            c.request("POST", "/v1_1/%s/image/upload" % env("NIMBUS_BENCH_CLOUD"), b"".join(parts),
                      {"Content-Type": "multipart/form-data; boundary=" + boundary})
            r = c.getresponse()
            body = r.read()
            if r.status != 200:
                errors.append(body[:200])
                return

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    if errors:
        sys.exit("metadata_bulk: seeding failed: %r" % errors[0])
    print("seeded %d assets in %.1f s" % (n, time.monotonic() - t0))


VALUES = [
    "category=employee|team=rnd|owner=Owner %d|labels=[\"a\",\"c\"]",
    "category=employee|team=sales|owner=Owner %d|labels=[\"b\"]",
]


def cmd_update(n, batch, rounds):
    c = conn()
    per_round = []
    calls = []
    for r in range(rounds):
        t0 = time.monotonic()
        for start in range(0, n, batch):
            ids = [public_id(i) for i in range(start, min(n, start + batch))]
            body = signed_form({"metadata": VALUES[r % 2] % r, "public_ids": ids})
            t1 = time.monotonic()
            c.request("POST", "/v1_1/%s/image/metadata" % env("NIMBUS_BENCH_CLOUD"), body,
                      {"Content-Type": "application/x-www-form-urlencoded"})
            resp = c.getresponse()
            data = resp.read()
            calls.append(time.monotonic() - t1)
            if resp.status != 200 or len(json.loads(data).get("public_ids", [])) != len(ids):
                sys.exit("metadata_bulk: update_metadata -> %d %s" % (resp.status, data[:300]))
        per_round.append(n / (time.monotonic() - t0))
    print(json.dumps({"assets": n, "batch": batch, "rounds": rounds,
                      "assets_per_s_median": round(statistics.median(per_round), 1),
                      "assets_per_s": [round(x, 1) for x in per_round],
                      "call_ms_median": round(statistics.median(calls) * 1000, 1)}))


def cmd_sqlite_baseline(db, n, batch, rounds):
    """The floor: the same metadata JSON written to the same rows, no HTTP, no rules."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    env_id = con.execute("SELECT id FROM environments WHERE cloud_name = ?", (env("NIMBUS_BENCH_CLOUD"),)).fetchone()[0]
    per_round = []
    for r in range(rounds):
        value = json.dumps({"category": "employee", "team": ["rnd", "sales"][r % 2], "owner": "Base %d" % r,
                            "labels": ["a"]}, separators=(",", ":"), sort_keys=True)
        t0 = time.monotonic()
        for start in range(0, n, batch):
            ids = [public_id(i) for i in range(start, min(n, start + batch))]
            with con:
                for pid in ids:
                    # The catalog's natural key, so SQLite uses its unique index as Nimbus does.
                    cur = con.execute("UPDATE assets SET metadata = ?, updated_at = ? WHERE env_id = ? "
                                      "AND resource_type = 'image' AND delivery_type = 'upload' AND public_id = ?",
                                      (value, int(time.time()), env_id, pid))
                    if cur.rowcount != 1:
                        sys.exit("metadata_bulk: baseline row %s missing" % pid)
        per_round.append(n / (time.monotonic() - t0))
    print(json.dumps({"assets": n, "batch": batch, "rounds": rounds,
                      "assets_per_s_median": round(statistics.median(per_round), 1),
                      "assets_per_s": [round(x, 1) for x in per_round]}))


def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd, args = argv[0], list(argv[1:])

    def opt(name, default):
        if name in args:
            i = args.index(name)
            v = args[i + 1]
            del args[i:i + 2]
            return int(v)
        return default

    if cmd == "setup":
        cmd_setup()
    elif cmd == "seed":
        threads = opt("--threads", 4)
        cmd_seed(int(args[0]), threads)
    elif cmd == "update":
        batch, rounds = opt("--batch", 1000), opt("--rounds", 3)
        cmd_update(int(args[0]), batch, rounds)
    elif cmd == "sqlite-baseline":
        batch, rounds = opt("--batch", 1000), opt("--rounds", 3)
        cmd_sqlite_baseline(args[0], int(args[1]), batch, rounds)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
