#!/usr/bin/env python3
"""End-to-end scenario: cloudinary-cli (`cld`, from PyPI) against a running Nimbus server.

Run by tests/sdk/run.sh with the same variables as scenario.py (NIMBUS_BASE_URL,
NIMBUS_TEST_CLOUD, NIMBUS_TEST_KEY, NIMBUS_TEST_SECRET) and NIMBUS_CLD, the `cld` binary of
the test venv. `cld` is configured the way the README tells its users: separate CLOUDINARY_*
variables, because the SDK reads `secure=false` in a CLOUDINARY_URL query as true.

Every step runs even when an earlier one failed; the last line is "N passed, N failed".
"""

import filecmp
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import traceback
import urllib.request

from PIL import Image

BASE = os.environ["NIMBUS_BASE_URL"].rstrip("/")
CLD = os.environ["NIMBUS_CLD"]
HOST = BASE.split("://", 1)[1]
ENV = dict(
    os.environ,
    CLOUDINARY_CLOUD_NAME=os.environ["NIMBUS_TEST_CLOUD"],
    CLOUDINARY_API_KEY=os.environ["NIMBUS_TEST_KEY"],
    CLOUDINARY_API_SECRET=os.environ["NIMBUS_TEST_SECRET"],
    CLOUDINARY_UPLOAD_PREFIX=BASE,
    CLOUDINARY_SECURE="false",
    CLOUDINARY_CNAME=HOST,
    NO_PROXY="127.0.0.1,localhost",
)
ENV.pop("CLOUDINARY_URL", None)
RUN = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(6))
P = "cld" + RUN
TMP = tempfile.mkdtemp(prefix="nimbus-cld-")
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def cld(*args, expect_ok=True):
    """Runs `cld ARGS`; returns stdout. JSON answers are parsed by the caller."""
    out = subprocess.run([CLD, *args], env=ENV, capture_output=True, text=True, timeout=180, cwd=TMP)
    if expect_ok and out.returncode != 0:
        raise AssertionError("cld %s exited %d:\n%s%s" % (" ".join(args), out.returncode, out.stdout[-2000:],
                                                           out.stderr[-2000:]))
    return out.stdout


def cld_json(*args):
    text = cld(*args)
    start = text.index("{")
    return json.loads(text[start:])


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def image(path, size, colour, fmt=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new("RGB", size, colour).save(path, fmt)


def text(path, body):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(body)


def tree(root):
    """Relative paths of the files under root (the sync metadata file left out)."""
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.relpath(os.path.join(d, f), root) for f in files if not f.startswith(".")]
    return sorted(out)


def same_tree(a, b):
    check(tree(a) == tree(b), "names differ: %r vs %r" % (tree(a), tree(b)))
    for rel in tree(a):
        check(filecmp.cmp(os.path.join(a, rel), os.path.join(b, rel), shallow=False), "bytes differ: " + rel)


STEPS = []


def step(fn):
    STEPS.append(fn)
    return fn


@step
def config_from_the_environment():
    out = cld("config")
    check(os.environ["NIMBUS_TEST_CLOUD"] in out and BASE in out, "cld config does not show Nimbus: " + out)
    check(cld_json("admin", "ping")["status"] == "ok", "ping")


@step
def upload_admin_url_rename_destroy():
    src = os.path.join(TMP, "one", "photo.jpg")
    image(src, (40, 20), (200, 30, 30))
    up = cld_json("uploader", "upload", src, "public_id=%s/photo" % P, "tags=cli" + RUN)
    check(up["public_id"] == P + "/photo" and up["width"] == 40, "upload: %r" % up)
    listed = cld_json("admin", "resources", "prefix=%s/" % P, "type=upload")
    check([r["public_id"] for r in listed["resources"]] == [P + "/photo"], "resources: %r" % listed)
    check(cld_json("admin", "resource", P + "/photo")["bytes"] == os.path.getsize(src), "resource bytes")
    url = cld("url", P + "/photo", "c_scale,w_10").strip().splitlines()[-1]
    check(url.startswith(BASE + "/"), "cld url does not point at Nimbus: " + url)
    with OPENER.open(url, timeout=30) as r:
        body = r.read()
    check(Image.open(__import__("io").BytesIO(body)).size == (10, 5), "derived size")
    renamed = cld_json("uploader", "rename", P + "/photo", P + "/renamed")
    check(renamed["public_id"] == P + "/renamed", "rename: %r" % renamed)
    check(cld_json("uploader", "destroy", P + "/renamed")["result"] == "ok", "destroy")


@step
def search_with_aggregation_and_paging():
    for i in range(3):
        src = os.path.join(TMP, "search", "s%d.png" % i)
        image(src, (8 + i, 8), (i * 60, 0, 0))
        cld_json("uploader", "upload", src, "public_id=%s/search/s%d" % (P, i), "tags=find" + RUN)
    first = cld_json("search", "tags=find" + RUN, "-a", "format", "-n", "2", "-s", "public_id", "asc")
    check(first["total_count"] == 3 and len(first["resources"]) == 2, "page 1: %r" % first)
    check(first["aggregations"]["format"] == {"png": 3}, "aggregation: %r" % first.get("aggregations"))
    second = cld_json("search", "tags=find" + RUN, "-n", "2", "-s", "public_id", "asc", "-c", first["next_cursor"])
    ids = [r["public_id"] for r in first["resources"] + second["resources"]]
    check(ids == ["%s/search/s%d" % (P, i) for i in range(3)], "pages: %r" % ids)


@step
def presets_and_unsigned_upload():
    name = "clipre" + RUN
    cld_json("admin", "create_upload_preset", "name=" + name, "unsigned=true", "folder=%s/inbox" % P)
    src = os.path.join(TMP, "pre", "u.jpg")
    image(src, (6, 6), (0, 0, 200))
    up = cld_json("uploader", "unsigned_upload", src, name)
    check(up["public_id"].startswith(P + "/inbox/"), "unsigned upload outside the preset's folder: %r" % up)
    cld_json("admin", "delete_upload_preset", name)


@step
def upload_dir_keeps_structure_and_names():
    root = os.path.join(TMP, "tree", "album")
    image(os.path.join(root, "cover.jpg"), (12, 9), (10, 90, 10))
    image(os.path.join(root, "inner", "back.png"), (9, 12), (90, 10, 10))
    text(os.path.join(root, "inner", "credits.txt"), "photos by nimbus\n")
    cld("upload_dir", root, "-f", P + "/updir")
    found = cld_json("search", 'asset_folder:"%s/updir/*"' % P, "-n", "10")
    got = sorted((r["asset_folder"], r["display_name"]) for r in found["resources"])
    want = sorted([(P + "/updir/album", "cover"), (P + "/updir/album/inner", "back"),
                   (P + "/updir/album/inner", "credits")])
    check(got == want, "upload_dir: %r" % got)


def mixed_folder(root):
    image(os.path.join(root, "red.jpg"), (20, 10), (200, 10, 10), "JPEG")
    image(os.path.join(root, "sub", "green.png"), (8, 8), (10, 200, 10), "PNG")
    text(os.path.join(root, "notes.txt"), "hello nimbus\n")
    text(os.path.join(root, "sub", "data.csv"), "a,b\n1,2\n")


@step
def sync_round_trips_dynamic_folders():
    src, dst = os.path.join(TMP, "dyn-src"), os.path.join(TMP, "dyn-dst")
    remote = P + "/dyn"
    mixed_folder(src)
    cld("sync", "--push", src, remote, "-F")
    os.makedirs(dst)
    cld("sync", "--pull", dst, remote, "-F")
    same_tree(src, dst)
    # A deleted and an added file travel both ways.
    os.remove(os.path.join(src, "notes.txt"))
    text(os.path.join(src, "sub", "more.txt"), "later\n")
    cld("sync", "--push", src, remote, "-F")
    cld("sync", "--pull", dst, remote, "-F")
    same_tree(src, dst)


@step
def sync_round_trips_fixed_folders_with_a_modified_file():
    src, dst = os.path.join(TMP, "fix-src"), os.path.join(TMP, "fix-dst")
    remote = P + "/fix"
    mixed_folder(src)
    cld("sync", "--push", src, remote, "-F", "-fm", "fixed")
    image(os.path.join(src, "red.jpg"), (30, 12), (10, 10, 200), "JPEG")
    os.remove(os.path.join(src, "sub", "data.csv"))
    cld("sync", "--push", src, remote, "-F", "-fm", "fixed")
    os.makedirs(dst)
    cld("sync", "--pull", dst, remote, "-F", "-fm", "fixed")
    same_tree(src, dst)


def main():
    print("cloudinary-cli against %s (run id %s)" % (BASE, RUN))
    results = []
    for s in STEPS:
        print("--- " + s.__name__, flush=True)
        try:
            s()
            results.append((s.__name__, None))
            print("PASS " + s.__name__)
        except Exception as e:  # a crashed step is a failed step
            traceback.print_exc()
            results.append((s.__name__, e))
            print("FAIL %s - %s" % (s.__name__, str(e)[:300]))
    shutil.rmtree(TMP, ignore_errors=True)
    failed = [n for n, e in results if e]
    print("cld scenario: %d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
