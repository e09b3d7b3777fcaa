#!/usr/bin/env python3
"""Two `nimbus serve` nodes on one PostgreSQL database and one S3 bucket, driven with the
official Python and Node SDKs round-robin, as behind a load balancer without sticky sessions:

1. Both nodes start at the same moment on an empty catalog: both come up (one migrates, the
   other waits) and one environment exists.
2. Uploads with a `notification_url` (half of them with `eager_async` derivatives) go to
   alternating nodes from several threads while the webhook receiver is down (503); one node
   is killed with SIGKILL in the middle and started again. Then the Node SDK uploads
   round-robin too.
3. Every acknowledged upload is then served by both nodes, every acknowledged upload's
   notification arrives (retried once the receiver is up) and passes the SDK's own
   `verify_notification_signature`, every eager derivative exists, and no job is left running
   or queued.
4. One derivative asked on both nodes at once is rendered once (the nodes' counters).

Usage: nodes.py PATH_TO_NIMBUS POSTGRES_URL BLOB_URL (AWS_* variables set for the bucket; the
Node SDK from tests/sdk/node/node_modules).
Run with the Python that has the `cloudinary` SDK. Exit code 0 when every check passed.
"""
import base64
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cloudinary
import cloudinary.uploader
import cloudinary.utils
from PIL import Image

KEY, SECRET, CLOUD = "987654321098765", "two-nodes-secret", "nodes"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
FAILED = []


def check(cond, what):
    print(("PASS " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILED.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Node:
    def __init__(self, binary, name, db, blobs, work):
        self.binary, self.name, self.db, self.blobs = binary, name, db, blobs
        self.port, self.proc = free_port(), None
        self.data = os.path.join(work, name)
        os.makedirs(self.data, exist_ok=True)

    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        env = dict(os.environ, CLOUDINARY_URL="cloudinary://%s:%s@%s" % (KEY, SECRET, CLOUD),
                   NIMBUS_LOG="warn", NIMBUS_REMOTE_ALLOWLIST="127.0.0.1")
        log = open(os.path.join(self.data, "server.log"), "a")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port, "--data-dir", self.data,
             "--database-url", self.db, "--blob-url", self.blobs, "--public-url", self.base()],
            env=env, stdout=log, stderr=log)

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if OPENER.open(self.base() + "/readyz", timeout=1).status == 200:
                    return True
            except OSError:
                time.sleep(0.1)
        return False

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def get(self, path):
        try:
            with OPENER.open(self.base() + path, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except OSError as e:
            return 0, str(e).encode()

    def resource(self, public_id):
        auth = base64.b64encode(("%s:%s" % (KEY, SECRET)).encode()).decode()
        req = urllib.request.Request(self.base() + "/v1_1/%s/resources/image/upload/%s" % (CLOUD, public_id),
                                     headers={"Authorization": "Basic " + auth})
        try:
            with OPENER.open(req, timeout=30) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            return {"error": e.code}

    def renders(self):
        return json.loads(self.get("/readyz")[1])["node"]["renders"]


class Hooks(BaseHTTPRequestHandler):
    status = 503
    got = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.status != 200:
            # Down and slow: a node killed now is in the middle of deliveries.
            time.sleep(1)
        with self.lock:
            self.got.append(({k.lower(): v for k, v in self.headers.items()}, body, self.status))
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def jpeg(seed):
    rnd = random.Random(seed)
    img = Image.new("RGB", (64, 48), tuple(rnd.randrange(256) for _ in range(3)))
    for _ in range(20):
        x, y = rnd.randrange(64), rnd.randrange(48)
        img.putpixel((x, y), tuple(rnd.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def upload(node, public_id, data, hook, **extra):
    """One upload through the SDK to `node`; the answer, or None if the node failed."""
    try:
        return cloudinary.uploader.upload(io.BytesIO(data), public_id=public_id, notification_url=hook,
                                          upload_prefix=node.base(), timeout=30, **extra)
    except Exception as e:  # a killed node: connection refused or reset
        print("  upload %s to %s failed: %s" % (public_id, node.name, str(e)[:120]), flush=True)
        return None


def main(argv):
    binary, db, blobs = argv[1], argv[2], argv[3]
    work = tempfile.mkdtemp(prefix="nimbus-nodes-")
    cloudinary.config(cloud_name=CLOUD, api_key=KEY, api_secret=SECRET, secure=False)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    hook = "http://127.0.0.1:%d/hook" % srv.server_address[1]

    a, b = Node(binary, "a", db, blobs, work), Node(binary, "b", db, blobs, work)
    try:
        # 1. Both at once on an empty catalog.
        a.start()
        b.start()
        check(a.wait_ready() and b.wait_ready(), "two nodes started together on an empty catalog both come up")

        # 2. Round-robin uploads from four threads; node a killed in the middle, restarted.
        acked, lock = {}, threading.Lock()
        datas = {"rr/%02d" % i: jpeg(i) for i in range(40)}

        def one(i_pid):
            i, pid = i_pid
            node = (a, b)[i % 2]
            extra = {"eager": "c_scale,w_16", "eager_async": True} if i % 4 < 2 else {}
            r = upload(node, pid, datas[pid], hook, **extra)
            if r is None and node is a:
                r = upload(b, pid, datas[pid], hook, **extra)  # the load balancer's retry
            if r is not None:
                with lock:
                    acked[pid] = r

        items = list(enumerate(sorted(datas)))
        killed = threading.Event()

        def killer():
            while True:
                with lock:
                    if len(acked) >= 10:
                        break
                time.sleep(0.01)
            a.kill()
            killed.set()

        k = threading.Thread(target=killer)
        k.start()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, items))
        k.join()
        check(killed.is_set(), "node a killed with SIGKILL in the middle of uploads and deliveries")
        a.start()
        check(a.wait_ready(), "node a started again")
        check(len(acked) >= 30, "most uploads acknowledged (%d of 40)" % len(acked))
        eager_ids = {pid for i, pid in items if i % 4 < 2 and pid in acked}

        # The Node SDK, round-robin too.
        node_dir = os.path.join(work, "node-files")
        os.makedirs(node_dir)
        node_files = []
        for i in range(6):
            f = os.path.join(node_dir, "n%02d.jpg" % i)
            datas["node/n%02d" % i] = jpeg(1000 + i)
            with open(f, "wb") as out:
                out.write(datas["node/n%02d" % i])
            node_files.append(f)
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, NODE_PATH=os.path.join(root, "sdk", "node", "node_modules"),
                   CLOUDINARY_URL="cloudinary://%s:%s@%s?upload_prefix=%s" % (KEY, SECRET, CLOUD, a.base()))
        res = subprocess.run(["node", os.path.join(root, "process", "nodes_node.js"), a.base(), b.base(), hook]
                             + node_files, capture_output=True, text=True, env=env, timeout=120)
        node_acked = json.loads(res.stdout.strip().splitlines()[-1]) if res.returncode == 0 else {}
        check(len(node_acked) == 6, "the Node SDK's round-robin uploads acknowledged (%d of 6) %s"
              % (len(node_acked), res.stderr[-300:]))
        for pid, version in node_acked.items():
            acked[pid] = {"version": version}

        # 3. Every acknowledged asset on both nodes; every notification once the receiver is up.
        Hooks.status = 200
        for pid, r in sorted(acked.items()):
            path = "/%s/image/upload/v%d/%s.jpg" % (CLOUD, r["version"], pid)
            sa, ba = a.get(path)
            sb, bb = b.get(path)
            if not (sa == 200 and sb == 200 and ba == datas[pid] and bb == datas[pid]):
                check(False, "%s served by both nodes (%s, %s)" % (pid, sa, sb))
                break
        else:
            check(True, "every acknowledged asset (%d) served by both nodes" % len(acked))
        deadline = time.time() + 120
        while time.time() < deadline:
            with Hooks.lock:
                ok = {json.loads(body)["public_id"] for (h, body, st) in Hooks.got if st == 200}
            if set(acked) <= ok:
                break
            time.sleep(0.5)
        missing = sorted(set(acked) - ok)
        check(not missing, "every acknowledged upload announced once the receiver is up (missing %s)" % missing[:5])
        with Hooks.lock:
            delivered = [(h, body) for (h, body, st) in Hooks.got if st == 200]
        verified = all(cloudinary.utils.verify_notification_signature(
            body.decode(), h["x-cld-timestamp"], h["x-cld-signature"]) for h, body in delivered)
        check(verified and delivered, "%d notifications verified with the SDK's own function" % len(delivered))
        # Jobs the killed node was running come back when their lease expires (30 s).
        deadline = time.time() + 120
        while True:
            out = subprocess.run([binary, "--database-url", db, "--blob-url", blobs, "--data-dir", a.data,
                                  "jobs", "list", "--limit", "500"], capture_output=True, text=True, timeout=60)
            jobs = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
            stuck = [j for j in jobs if j["state"] in ("running", "queued")]
            if not stuck or time.time() > deadline:
                break
            time.sleep(1)
        states = sorted({j["state"] for j in jobs})
        # Read from the catalog (a delivery would render a missing one on the fly).
        missing_eager = [pid for pid in sorted(eager_ids)
                         if not any(d["transformation"] == "c_scale,w_16" for d in b.resource(pid).get("derived", []))]
        check(eager_ids and not missing_eager, "every eager derivative made (%d; missing %s)"
              % (len(eager_ids), missing_eager[:3]))
        check(out.returncode == 0 and jobs and not stuck,
              "no job left running or queued (%d jobs: %s; stuck %s)" % (len(jobs), states, stuck[:2]))
        retried = [j for j in jobs if j["attempts"] > 1]
        print("  %d jobs needed more than one attempt" % len(retried), flush=True)

        # 4. One derivative, both nodes at once: rendered once.
        pid = sorted(acked)[0]
        path = "/%s/image/upload/c_scale,w_31/v%d/%s.jpg" % (CLOUD, acked[pid]["version"], pid)
        before = a.renders() + b.renders()
        with ThreadPoolExecutor(4) as pool:
            codes = list(pool.map(lambda n: n.get(path)[0], [a, b, a, b]))
        check(codes == [200] * 4, "the derivative served by both nodes (%s)" % codes)
        check(a.renders() + b.renders() - before == 1, "rendered once across the nodes")
    finally:
        a.stop()
        b.stop()
        srv.shutdown()
    if FAILED:
        for n in (a, b):
            print("--- %s log (tail)" % n.name)
            with open(os.path.join(n.data, "server.log")) as f:
                print("".join(f.readlines()[-20:]))
    print("%d failed" % len(FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
