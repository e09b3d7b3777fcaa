#!/usr/bin/env python3
"""Process lifecycle of `nimbus serve`, driven from outside as an operator would:

1. SIGTERM while an upload is in flight: the upload completes, new connections are refused,
   the process exits 0, and the asset is there after a restart.
2. kill -9 in the middle of an upload body: after a restart no half asset is visible and
   the staging directory is clean.
3. An orphan blob (a crash between blob put and catalog commit) is removed by `nimbus sweep`,
   while referenced blobs stay.
4. Under a permissive umask and a world-readable data dir, the server leaves the data dir 0700
   and the catalog, its WAL and every blob 0600: other local users read nothing.
5. kill -9 in the middle of a batch of account erasures (`nimbus admin privacy run-due`):
   each erasure is whole or not begun, and running again finishes them; nothing of the
   people is left (`nimbus admin privacy sweep`).
6. The request desk: requests made on the public form reach `nimbus admin privacy requests`,
   which extends and closes them; `nimbus admin privacy restrict` makes an asset answer 451
   until lifted; the log holds no requester's address.

Usage: lifecycle.py PATH_TO_NIMBUS. Exit code 0 when every check passed.
"""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

KEY, SECRET, CLOUD = "123456789012345", "lifecycle-secret", "life"
AUTH = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, binary, data):
        self.binary, self.data, self.port, self.proc = binary, data, free_port(), None

    def start(self):
        env = dict(os.environ, CLOUDINARY_URL=f"cloudinary://{KEY}:{SECRET}@{CLOUD}", NIMBUS_LOG="warn")
        self.log = open(os.path.join(self.data, "server.log"), "a")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data],
            env=env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if OPENER.open(self.url("/healthz"), timeout=1).status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not become healthy")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def admin(self, path):
        req = urllib.request.Request(self.url(f"/v1_1/{CLOUD}/{path}"), headers={"Authorization": AUTH})
        try:
            with OPENER.open(req, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())


def png(w, h):
    import struct, zlib
    raw = b"".join(b"\x00" + b"\x80" * (w * 3) for _ in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def upload_request(port, public_id, data):
    boundary = "lifecycle-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"public_id\"\r\n\r\n{public_id}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /v1_1/{CLOUD}/image/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {AUTH}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    return head + body


def read_response(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


FAILED = []


def check(cond, what):
    print(("PASS " if cond else "FAIL ") + what)
    if not cond:
        FAILED.append(what)


def graceful_shutdown(binary, data):
    s = Server(binary, data)
    s.start()
    image = png(300, 200)
    req = upload_request(s.port, "inflight", image)
    half = len(req) // 2
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(req[:half])
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    check(s.proc.poll() is None, "SIGTERM: the server waits for the in-flight upload")
    refused = False
    try:
        socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
    except OSError:
        refused = True
    check(refused, "SIGTERM: new connections are refused")
    sock.sendall(req[half:])
    status, body = read_response(sock)
    check(status == 200 and json.loads(body).get("public_id") == "inflight", f"SIGTERM: the in-flight upload completes ({status})")
    try:
        code = s.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        code = None
        s.proc.kill()
    check(code == 0, f"SIGTERM: the process exits 0 (got {code})")
    s.start()
    status, res = s.admin("resources/image/upload/inflight")
    check(status == 200 and res.get("width") == 300, "restart: the upload is in the catalog")
    with OPENER.open(s.url(f"/{CLOUD}/image/upload/inflight.png"), timeout=5) as r:
        check(r.read() == image, "restart: the original's bytes are intact")
    s.proc.terminate()
    s.proc.wait(timeout=10)


def hard_kill(binary, data):
    s = Server(binary, data)
    s.start()
    req = upload_request(s.port, "halfway", png(500, 400))
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(req[: len(req) * 2 // 3])
    time.sleep(0.3)
    s.proc.kill()
    s.proc.wait()
    sock.close()
    s.start()
    status, res = s.admin("resources/image/upload/halfway")
    check(status == 404, f"kill -9: no half asset is visible ({status})")
    staging = os.path.join(data, "staging")
    check(os.listdir(staging) == [], f"kill -9: staging is clean after restart ({os.listdir(staging)})")
    s.proc.terminate()
    s.proc.wait(timeout=10)


def sweeper(binary, data):
    orphan = os.path.join(data, "blobs", "originals", "zz", "orphan-from-a-crash")
    os.makedirs(os.path.dirname(orphan), exist_ok=True)
    with open(orphan, "wb") as f:
        f.write(b"bytes whose catalog row never committed")
    out = subprocess.run([binary, "sweep", "--grace-secs", "0", "--data-dir", data], capture_output=True, text=True)
    check(out.returncode == 0 and "removed 1 orphan" in out.stdout, f"sweep removes the orphan ({out.stdout.strip()})")
    check(not os.path.exists(orphan), "sweep: the orphan file is gone")
    s = Server(binary, data)
    s.start()
    with OPENER.open(s.url(f"/{CLOUD}/image/upload/inflight.png"), timeout=5) as r:
        check(r.status == 200, "sweep: referenced originals stay")
    s.proc.terminate()
    s.proc.wait(timeout=10)


def private_files(binary, data):
    os.umask(0o022)
    os.chmod(data, 0o755)
    existing = {os.path.join(r, n) for r, ds, fs in os.walk(os.path.join(data, "blobs")) for n in ds + fs}
    s = Server(binary, data)
    s.start()
    req = upload_request(s.port, "private-check", png(40, 30))
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(req)
    status, _ = read_response(sock)
    check(status == 200, f"permissions: upload ({status})")
    mode = lambda p: oct(os.stat(p).st_mode & 0o777)
    check(mode(data) == "0o700", f"permissions: the data dir is 0700 ({mode(data)})")
    for name in ("catalog.db", "catalog.db-wal"):
        path = os.path.join(data, name)
        check(os.path.exists(path) and mode(path) == "0o600", f"permissions: {name} is 0600 ({os.path.exists(path) and mode(path)})")
    # What the server wrote in this step (earlier steps made some paths by hand).
    wide = []
    for root, dirs, files in os.walk(os.path.join(data, "blobs")):
        for p in [os.path.join(root, n) for n in dirs + files]:
            if p not in existing and os.stat(p).st_mode & 0o077:
                wide.append(p)
    new_blobs = [p for r, ds, fs in os.walk(os.path.join(data, "blobs")) for p in (os.path.join(r, f) for f in fs) if p not in existing]
    check(new_blobs != [], "permissions: the upload wrote a blob")
    check(wide == [], f"permissions: no new blob or blob directory is readable by others ({wide[:3]})")
    s.proc.terminate()
    s.proc.wait(timeout=10)


def purge_killed_midway(binary, data):
    """Erasures are one transaction each and idempotent: a run killed part-way leaves every
    person either whole (still pending) or gone, and the next run finishes the rest."""
    base = os.path.join(data, "purge")
    os.makedirs(base, exist_ok=True)
    s = Server(binary, base)
    s.start()
    s.proc.terminate()
    s.proc.wait(timeout=10)
    # The grace period is a setting of every command that schedules or runs erasures.
    env = dict(os.environ, CLOUDINARY_URL=f"cloudinary://{KEY}:{SECRET}@{CLOUD}", NIMBUS_LOG="warn",
               NIMBUS_PRIVACY_DELETION_GRACE="0s")

    def cli(*args, stdin=None):
        return subprocess.run([binary, *args, "--data-dir", base], input=stdin, capture_output=True, text=True,
                              env=env, timeout=120)

    emails = [f"leaving{i:02d}@example.org" for i in range(24)]
    for e in emails:
        out = cli("admin", "user", "create", e, "--role", "editor", "--cloud", CLOUD, "--password-stdin",
                  stdin="a long enough password\n")
        if out.returncode != 0:
            raise RuntimeError(f"user create: {out.stderr[-300:]}")
    out = cli("admin", "user", "delete", *emails)
    check(out.returncode == 0, f"purge: the operator schedules the deletions ({out.stderr.strip()[-200:]!r})")

    def left():
        out = cli("admin", "user", "list")
        return sum(1 for e in emails if e in out.stdout)

    # Kill runs at growing delays until one is caught part-way (some people gone, some not).
    midway, kills, delay = False, 0, 0.05
    while not midway and delay < 5:
        run = subprocess.Popen([binary, "admin", "privacy", "run-due", "--data-dir", base], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if run.poll() is None:
            run.kill()
            kills += 1
        run.wait()
        remaining = left()
        midway = 0 < remaining < len(emails)
        if remaining == 0:
            break
        delay *= 1.5
    check(midway, f"purge: a run was killed part-way ({kills} kill(s); {left()} of {len(emails)} left)")
    out = cli("admin", "privacy", "run-due")
    check(out.returncode == 0 and left() == 0, f"purge: the next run erases the rest ({left()} left; {out.stderr.strip()[-200:]!r})")
    out = cli("admin", "privacy", "sweep", emails[0], *[a for e in emails[1:] for a in ("--also", e)])
    check(out.returncode == 0 and "nothing found" in out.stdout,
          f"purge: nothing of the {len(emails)} people is left in the catalog or the blob store ({out.stdout.strip()[-300:]!r})")
    out = cli("admin", "privacy", "run-due")
    check(out.returncode == 0, "purge: running again changes nothing and succeeds")
    s.start()
    status, _ = s.admin("usage")
    check(status == 200, f"purge: the server starts on the catalog afterwards ({status})")
    s.proc.terminate()
    s.proc.wait(timeout=10)


def request_desk(binary, data):
    s = Server(binary, data)
    s.start()
    env = dict(os.environ, CLOUDINARY_URL=f"cloudinary://{KEY}:{SECRET}@{CLOUD}", NIMBUS_LOG="warn")

    def cli(*args):
        return subprocess.run([binary, *args, "--data-dir", data], capture_output=True, text=True, env=env, timeout=60)

    def post(path, fields):
        body = urllib.parse.urlencode(fields).encode()
        req = urllib.request.Request(s.url(path), data=body, headers={"Accept": "application/json"})
        try:
            with OPENER.open(req, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, {}

    def get(path):
        try:
            with OPENER.open(s.url(path), timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    status, made = post("/privacy/requests", {"kind": "access", "email": "kim.requester@example.org"})
    check(status == 202 and made.get("id"), f"desk: a request from the public form ({status})")
    asset = f"/{CLOUD}/image/upload/private-check.png"
    status, removal = post("/privacy/removal-request",
                           {"asset_url": s.url(asset), "email": "kim.requester@example.org", "description": "me"})
    check(status == 202, f"desk: a removal request ({status})")
    out = cli("admin", "privacy", "requests", "list", "--json")
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    check(out.returncode == 0 and len(rows) == 2 and all(r["state"] == "unverified" for r in rows),
          f"desk: the operator lists both, unverified ({out.stdout.strip()[-300:]!r} {out.stderr.strip()[-200:]!r})")
    rid = made.get("id")
    out = cli("admin", "privacy", "requests", "extend", str(rid), "--reason", "the backups")
    check(out.returncode == 0 and "now due" in out.stdout, f"desk: extended ({out.stdout.strip()!r} {out.stderr.strip()[-200:]!r})")
    out = cli("admin", "privacy", "requests", "export", str(rid))
    check(out.returncode != 0 and "not verified" in out.stderr, f"desk: no archive before verification ({out.stderr.strip()[-200:]!r})")
    out = cli("admin", "privacy", "requests", "close", str(rid), "--note", "no account", "--refused")
    check(out.returncode == 0 and "refused" in out.stdout, f"desk: closed ({out.stdout.strip()!r})")
    check(get(asset) == 200, "desk: the asset is delivered before the restriction")
    out = cli("admin", "privacy", "restrict", CLOUD, "private-check", "--reason", f"request {removal.get('id')}")
    check(out.returncode == 0 and "restricted" in out.stdout, f"desk: restricted ({out.stdout.strip()!r} {out.stderr.strip()[-200:]!r})")
    time.sleep(1.2)  # the server's delivery cache lives a second
    check(get(asset) == 451, f"desk: a restricted asset answers 451 ({get(asset)})")
    out = cli("admin", "privacy", "restrict", CLOUD, "private-check", "--lift")
    time.sleep(1.2)
    check(out.returncode == 0 and get(asset) == 200, f"desk: lifted, delivered again ({get(asset)})")
    s.proc.terminate()
    s.proc.wait(timeout=10)
    with open(os.path.join(data, "server.log")) as f:
        check("kim.requester" not in f.read(), "desk: the log holds no requester's address")


def version(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True)
    import re
    ok = out.returncode == 0 and re.fullmatch(r"nimbus \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}|unknown)\)\n", out.stdout)
    check(bool(ok), f"--version names the version and the commit ({out.stdout.strip()!r})")


def clear_start(binary, data):
    """Start-up refuses clearly (and fast) what cannot work, and says what it made."""
    def serve(*args):
        env = dict(os.environ, CLOUDINARY_URL="", NIMBUS_LOG="error")
        started = time.time()
        out = subprocess.run([binary, "serve", *args], capture_output=True, text=True, timeout=60, env=env)
        return out.returncode, out.stdout + out.stderr, time.time() - started
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    code, out, _ = serve("--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(data, "start-a"))
    check(code != 0 and "cannot listen on" in out and "in use" in out, f"start: a taken port is named ({out.strip()[-120:]!r})")
    taken.close()
    blocker = os.path.join(data, "a-file")
    with open(blocker, "w") as f:
        f.write("not a directory")
    code, out, _ = serve("--listen", "127.0.0.1:0", "--data-dir", os.path.join(blocker, "data"))
    check(code != 0 and "cannot create" in out, f"start: an unusable data dir is named ({out.strip()[-120:]!r})")
    code, out, secs = serve("--listen", "127.0.0.1:0", "--data-dir", os.path.join(data, "start-b"),
                            "--database-url", "postgres://nimbus:hunter2@127.0.0.1:1/none")
    check(code != 0 and "cannot open the catalog database" in out and "hunter2" not in out and secs < 20,
          f"start: an unreachable database is named, fast, without its password ({secs:.1f} s, {out.strip()[-160:]!r})")
    code, out, _ = serve("--listen", "127.0.0.1:0", "--data-dir", os.path.join(data, "start-c"), "--database-url", "mysql://x")
    check(code != 0 and "unsupported database URL scheme" in out, f"start: an unknown database scheme is named ({out.strip()[-120:]!r})")
    # A first start says what it created, where the data lives and how to connect.
    fresh = os.path.join(data, "start-d")
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", fresh],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, CLOUDINARY_URL="", NIMBUS_LOG="error"))
    lines = []
    deadline = time.time() + 30
    while time.time() < deadline and not any(l.startswith("Nimbus listening") for l in lines):
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
    proc.terminate()
    proc.wait(timeout=10)
    text = "\n".join(lines)
    creds = os.path.join(fresh, "first-environment.txt")
    saved = open(creds).read() if os.path.exists(creds) else ""
    ok = ("Created product environment" in text and creds in text and f"Data in {fresh}" in text
          and "CLOUDINARY_URL=cloudinary://" in saved and "cloudinary.config(" in saved
          and "CLOUDINARY_URL=" not in text)
    # The credentials are a scratch environment's; shown only when the check fails.
    check(ok, "start: the first start says what it created and where; output that is not a terminal "
              "gets no secret, the credentials go to a private file" + ("" if ok else f" ({text[:400]!r})"))
    check(os.path.exists(creds) and (os.stat(creds).st_mode & 0o777) == 0o600, "start: the credentials file is 0600")
    # Nobody can sign in to the console yet: the first owner's one-time link, also kept private.
    setup = os.path.join(fresh, "console-setup-link.txt")
    link = open(setup).read() if os.path.exists(setup) else ""
    check(setup in text and "/console/setup/" in link and link.strip() not in text
          and (os.stat(setup).st_mode & 0o777) == 0o600,
          "start: the console's first-owner link goes to a private file, not to the output")


def main():
    binary = os.path.abspath(sys.argv[1])
    version(binary)
    with tempfile.TemporaryDirectory(prefix="nimbus-start-") as scratch:
        clear_start(binary, scratch)
    with tempfile.TemporaryDirectory(prefix="nimbus-lifecycle-") as data:
        for step in (graceful_shutdown, hard_kill, sweeper, private_files, purge_killed_midway, request_desk):
            try:
                step(binary, data)
            except Exception as e:  # a crashed step is a failed step
                check(False, f"{step.__name__}: {e!r}")
        if FAILED:
            with open(os.path.join(data, "server.log")) as f:
                sys.stderr.write(f.read()[-3000:])
    print(f"{'FAILED' if FAILED else 'ok'}: {len(FAILED)} failure(s)")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
