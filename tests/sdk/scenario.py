#!/usr/bin/env python3
"""End-to-end scenario: the official Cloudinary Python SDK against a running Nimbus server.

Normally started by tests/sdk/run.sh, which boots the server and exports the variables below.
It can also be pointed at a server that is already running:

  NIMBUS_BASE_URL            http://127.0.0.1:PORT (required)
  NIMBUS_TEST_CLOUD          cloud name of the main product environment (required)
  NIMBUS_TEST_KEY            its API key (required)
  NIMBUS_TEST_SECRET         its API secret (required)
  NIMBUS_TEST_OTHER_CLOUD    a second environment (cloud/key/secret), for isolation checks
  NIMBUS_TEST_OTHER_KEY
  NIMBUS_TEST_OTHER_SECRET
  NIMBUS_TEST_REVOKED_KEY    a key of the main cloud that has been revoked, and its secret
  NIMBUS_TEST_REVOKED_SECRET
  NIMBUS_TEST_MAX_FILE_BYTES the server's NIMBUS_MAX_FILE_BYTES (default 104857600)
  NIMBUS_TEST_REMOTE_TIMEOUT the server's NIMBUS_REMOTE_TIMEOUT_SECS (default 20)
  NIMBUS_TEST_PRIVATE_URL    a remote URL the server must refuse as a private address
                             (default http://0.0.0.0:9/x, which never leaves this machine)

Every step runs even when an earlier one failed; each prints PASS or FAIL, and the last line
is "N passed, N failed". The exit code is 1 when any step failed.

Usage: scenario.py [--list] [STEP_NAME ...]
"""

import base64
import hashlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import io
import json
import os
import random
import re
import shutil
import socket
import string
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

import cloudinary
import cloudinary.api
import cloudinary.exceptions as cex
import cloudinary.uploader
import cloudinary.utils
from PIL import Image

# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------

BASE = os.environ.get("NIMBUS_BASE_URL", "").rstrip("/")
CLOUD = os.environ.get("NIMBUS_TEST_CLOUD", "")
KEY = os.environ.get("NIMBUS_TEST_KEY", "")
SECRET = os.environ.get("NIMBUS_TEST_SECRET", "")
OTHER_CLOUD = os.environ.get("NIMBUS_TEST_OTHER_CLOUD", "")
OTHER_KEY = os.environ.get("NIMBUS_TEST_OTHER_KEY", "")
OTHER_SECRET = os.environ.get("NIMBUS_TEST_OTHER_SECRET", "")
REVOKED_KEY = os.environ.get("NIMBUS_TEST_REVOKED_KEY", "")
REVOKED_SECRET = os.environ.get("NIMBUS_TEST_REVOKED_SECRET", "")
MAX_FILE_BYTES = int(os.environ.get("NIMBUS_TEST_MAX_FILE_BYTES", str(100 * 1024 * 1024)))
REMOTE_TIMEOUT = int(os.environ.get("NIMBUS_TEST_REMOTE_TIMEOUT", "20"))
PRIVATE_URL = os.environ.get("NIMBUS_TEST_PRIVATE_URL", "http://0.0.0.0:9/x")

# Unique per run, so the scenario can be repeated against one server / database.
RUN = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(6))
P = "sdk" + RUN  # public_id prefix of everything this run creates

# Any SDK call that hangs (server bug) fails the step instead of the whole run.
# urllib3, used by the SDK, falls back to the socket default timeout.
socket.setdefaulttimeout(120)

TMP = tempfile.mkdtemp(prefix="nimbus-sdk-")


def configure(**extra):
    cloudinary.reset_config()
    cloudinary.config(
        cloud_name=CLOUD,
        api_key=KEY,
        api_secret=SECRET,
        upload_prefix=BASE,
        secure=False,
        cname=BASE.split("://", 1)[1],
        **extra,
    )


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HttpResult:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # email.message.Message, case-insensitive get()
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        body = self.body[:300]
        return "HTTP %s %r" % (self.status, body)


def call_http(method, url, body=None, headers=None, timeout=30):
    """Plain HTTP request with no proxy; never raises on 4xx/5xx."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _NO_PROXY_OPENER.open(req, timeout=timeout) as r:
            return HttpResult(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return HttpResult(e.code, e.headers, e.read())


def encode_multipart(fields, files=(), boundary=None):
    """fields: list of (name, str); files: list of (name, filename, bytes, content_type)."""
    boundary = boundary or "nimbusTestBoundary" + RUN
    out = io.BytesIO()
    for name, value in fields:
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n" % (boundary, name)).encode())
        out.write(value.encode("utf-8") + b"\r\n")
    for name, filename, data, ctype in files:
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                   "Content-Type: %s\r\n\r\n" % (boundary, name, filename, ctype)).encode())
        out.write(data + b"\r\n")
    out.write(("--%s--\r\n" % boundary).encode())
    return out.getvalue(), "multipart/form-data; boundary=%s" % boundary


def make_image(fmt="JPEG", size=(64, 48), seed=None):
    """A small real image with some structure, different for each seed."""
    rnd = random.Random(seed if seed is not None else random.random())
    w, h = size
    img = Image.new("RGB", size, (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    px = img.load()
    for _ in range(w * h // 8):
        px[rnd.randrange(w), rnd.randrange(h)] = (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def write_tmp(name, data):
    d = tempfile.mkdtemp(dir=TMP)
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def jpeg_upload(public_id, seed=None, **opts):
    data = make_image("JPEG", seed=seed)
    r = cloudinary.uploader.upload(write_tmp("img.jpg", data), public_id=public_id, **opts)
    return r, data


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError("%s: expected %r, got %r" % (what, expected, actual))


def expect_error(exc_cls, fn, *args, contains=(), startswith=None, **kwargs):
    """Call fn and require it to raise exc_cls whose message has the given substrings.

    Admin API messages come as "Error NNN - <message>"; startswith is checked against
    <message> with that prefix removed.
    """
    try:
        result = fn(*args, **kwargs)
    except cex.Error as e:
        msg = str(e)
        if type(e) is not exc_cls:
            raise AssertionError("expected %s, got %s: %s" % (exc_cls.__name__, type(e).__name__, msg))
        bare = re.sub(r"^Error \d+ - ", "", msg)
        if startswith is not None and not bare.startswith(startswith):
            raise AssertionError("message %r does not start with %r" % (msg, startswith))
        for s in contains:
            if s.lower() not in msg.lower():
                raise AssertionError("message %r does not contain %r" % (msg, s))
        print("    got expected %s: %s" % (exc_cls.__name__, msg))
        return msg
    except Exception as e:  # plain Exception from the Admin API for unmapped statuses, socket errors...
        raise AssertionError("expected %s, got %s: %s" % (exc_cls.__name__, type(e).__name__, e))
    raise AssertionError("expected %s, but the call succeeded: %r" % (exc_cls.__name__, result))


def result_of(r):
    """The `result` of destroy (the Python SDK adds request_id from X-Request-Id to the dict)."""
    check(isinstance(r, dict) and "error" not in r, "unexpected destroy answer %r" % (r,))
    return r.get("result")


def delivery_url(rt, typ, version, public_id, fmt=None, cloud=None):
    tail = public_id + ("." + fmt if fmt else "")
    return "%s/%s/%s/%s/v%s/%s" % (BASE, cloud or CLOUD, rt, typ, version, tail)


def list_all(fn, *args, **kwargs):
    """Follow next_cursor; return (list of public_ids in order, page sizes)."""
    ids, pages, cursor = [], [], None
    for _ in range(2000):
        kw = dict(kwargs)
        if cursor:
            kw["next_cursor"] = cursor
        r = fn(*args, **kw)
        page = [x["public_id"] for x in r.get("resources", [])]
        ids.extend(page)
        pages.append(len(page))
        cursor = r.get("next_cursor")
        if not cursor:
            return ids, pages
    raise AssertionError("pagination did not end after 2000 pages")


def need(*values):
    if not all(values):
        raise AssertionError("missing configuration for this step (see run.sh: the nimbus CLI "
                             "commands that create the second environment / revoked key)")


# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------

STEPS = []
STATE = {}


def step(fn):
    STEPS.append(fn)
    return fn


@step
def health_endpoints():
    eq(call_http("GET", BASE + "/healthz").status, 200, "/healthz status")
    eq(call_http("GET", BASE + "/readyz").status, 200, "/readyz status")


@step
def ping():
    r = cloudinary.api.ping()
    eq(r.get("status"), "ok", "ping status")


@step
def upload_file_with_public_id_tags_context():
    data = make_image("JPEG", size=(80, 60), seed=1)
    path = write_tmp("sunset_photo.jpg", data)
    pid = P + "/file_jpeg"
    r = cloudinary.uploader.upload(path, public_id=pid, tags=["sdk", "jpeg"],
                                   context={"caption": "a=b|c", "alt": "x"})
    eq(r.get("public_id"), pid, "public_id")
    check(isinstance(r.get("version"), int), "version must be an integer, got %r" % r.get("version"))
    eq(r.get("resource_type"), "image", "resource_type")
    eq(r.get("type"), "upload", "type")
    eq(r.get("format"), "jpg", "format")
    eq((r.get("width"), r.get("height")), (80, 60), "width/height")
    eq(r.get("bytes"), len(data), "bytes")
    eq(sorted(r.get("tags") or []), ["jpeg", "sdk"], "tags")
    eq(r.get("context"), {"custom": {"caption": "a=b|c", "alt": "x"}}, "context")
    eq(r.get("original_filename"), "sunset_photo", "original_filename")
    check(re.fullmatch(r"[0-9a-f]{32}", r.get("asset_id") or ""), "asset_id not 32 hex: %r" % r.get("asset_id"))
    check(re.fullmatch(r"[0-9a-f]{32}", r.get("version_id") or ""), "version_id not 32 hex: %r" % r.get("version_id"))
    check(re.fullmatch(r"[0-9a-f]{32}", r.get("etag") or ""), "etag not 32 hex: %r" % r.get("etag"))
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r.get("created_at") or ""),
          "created_at not ISO-8601 UTC: %r" % r.get("created_at"))
    eq(r.get("api_key"), KEY, "api_key")
    check("error" not in r, "success body has an error key")
    expected_url = delivery_url("image", "upload", r["version"], pid, "jpg")
    eq(r.get("url"), expected_url, "url")
    eq(r.get("secure_url"), expected_url, "secure_url")
    eq(cloudinary.CloudinaryImage(pid).build_url(version=r["version"], format="jpg"), expected_url,
       "SDK-built URL vs server url")
    check(cloudinary.utils.verify_api_response_signature(pid, r["version"], r.get("signature")),
          "response signature %r is not the v1 digest of public_id+version" % r.get("signature"))
    STATE["jpeg"] = (r, data)


@step
def upload_png_file_object():
    data = make_image("PNG", size=(33, 21), seed=2)
    f = io.BytesIO(data)
    f.name = "object.png"
    r = cloudinary.uploader.upload(f, public_id=P + "/png_obj")
    eq(r.get("format"), "png", "format")
    eq((r.get("width"), r.get("height")), (33, 21), "width/height")
    eq(r.get("bytes"), len(data), "bytes")
    got = call_http("GET", r["url"])
    eq(got.status, 200, "download status")
    check(got.body == data, "downloaded bytes differ from upload")


@step
def upload_base64_data_uri():
    data = make_image("PNG", size=(20, 10), seed=3)
    uri = "data:image/png;base64," + base64.b64encode(data).decode()
    r = cloudinary.uploader.upload(uri, public_id=P + "/datauri")
    eq(r.get("public_id"), P + "/datauri", "public_id")
    eq(r.get("format"), "png", "format")
    eq((r.get("width"), r.get("height")), (20, 10), "width/height")
    eq(r.get("bytes"), len(data), "bytes")
    got = call_http("GET", r["url"])
    eq(got.status, 200, "download status")
    check(got.body == data, "downloaded bytes differ from the decoded data URI")


@step
def upload_folder_use_filename_unique_filename():
    folder = P + "/fold/sub"
    path = write_tmp("my_photo.jpg", make_image(seed=4))
    r1 = cloudinary.uploader.upload(path, folder=folder, use_filename=True, unique_filename=False)
    eq(r1.get("public_id"), folder + "/my_photo", "public_id with use_filename, unique_filename=False")
    r2 = cloudinary.uploader.upload(path, folder=folder, use_filename=True, unique_filename=True)
    pid2 = r2.get("public_id") or ""
    check(pid2.startswith(folder + "/my_photo") and pid2 != folder + "/my_photo",
          "unique_filename=True should add a suffix to my_photo, got %r" % pid2)
    r3 = cloudinary.uploader.upload(path, folder=folder)
    pid3 = r3.get("public_id") or ""
    check(pid3.startswith(folder + "/") and "my_photo" not in pid3,
          "without use_filename the id should be random inside the folder, got %r" % pid3)


@step
def upload_raw_file():
    data = b"plain text notes\n" * 20
    pid = P + "/notes.txt"
    r = cloudinary.uploader.upload(write_tmp("notes.txt", data), resource_type="raw", public_id=pid)
    eq(r.get("resource_type"), "raw", "resource_type")
    eq(r.get("public_id"), pid, "public_id (raw ids keep their extension)")
    eq(r.get("bytes"), len(data), "bytes")
    check("width" not in r, "raw upload should have no width, got %r" % r.get("width"))
    eq(r.get("url"), delivery_url("raw", "upload", r["version"], pid), "url")
    got = call_http("GET", r["url"])
    eq(got.status, 200, "download status")
    check(got.body == data, "downloaded raw bytes differ")
    built = cloudinary.utils.cloudinary_url(pid, resource_type="raw", version=r["version"])[0]
    eq(built, r["url"], "SDK-built raw URL")
    STATE["raw"] = (r, data)


@step
def upload_resource_type_auto():
    r = cloudinary.uploader.upload(write_tmp("a.jpg", make_image(seed=5)), resource_type="auto",
                                   public_id=P + "/auto_img")
    eq(r.get("resource_type"), "image", "auto + JPEG resolves to")
    eq(r.get("format"), "jpg", "format")
    r2 = cloudinary.uploader.upload(write_tmp("b.txt", b"hello auto"), resource_type="auto",
                                    public_id=P + "/auto_txt.txt")
    eq(r2.get("resource_type"), "raw", "auto + text resolves to")


@step
def upload_with_basic_auth():
    data = make_image(seed=6)
    body, ctype = encode_multipart([("public_id", P + "/basic")], [("file", "b.jpg", data, "image/jpeg")])
    auth = base64.b64encode(("%s:%s" % (KEY, SECRET)).encode()).decode()
    res = call_http("POST", "%s/v1_1/%s/image/upload" % (BASE, CLOUD), body,
               {"Content-Type": ctype, "Authorization": "Basic " + auth})
    eq(res.status, 200, "status (%r)" % res)
    eq(res.json().get("public_id"), P + "/basic", "public_id")


@step
def get_resource_and_by_asset_id():
    up, data = jpeg_upload(P + "/getme", seed=7, tags=["g1"], context={"k": "v"})
    r = cloudinary.api.resource(up["public_id"])
    for k in ("public_id", "asset_id", "version", "format", "bytes", "width", "height", "type",
              "resource_type", "url", "secure_url"):
        eq(r.get(k), up.get(k), "resource()[%r]" % k)
    eq(r.get("tags"), ["g1"], "tags")
    eq(r.get("context"), {"custom": {"k": "v"}}, "context")
    for k in ("signature", "api_key"):
        check(k not in r, "resource() should not contain %r" % k)
    r2 = cloudinary.api.resource_by_asset_id(up["asset_id"])
    eq(r2.get("public_id"), up["public_id"], "resource_by_asset_id public_id")
    eq(r2.get("asset_id"), up["asset_id"], "resource_by_asset_id asset_id")


@step
def list_resources_pagination():
    prefix = P + "/page/"
    want = []
    for i in range(5):
        r, _ = jpeg_upload(prefix + "p%d" % i, seed=100 + i)
        want.append(r["public_id"])
    ids, pages = list_all(cloudinary.api.resources, type="upload", prefix=prefix, max_results=2)
    eq(sorted(ids), sorted(want), "ids listed with prefix")
    eq(len(ids), len(set(ids)), "no duplicates with prefix")
    check(all(n <= 2 for n in pages), "a page exceeded max_results=2: %r" % pages)
    while len(pages) > 1 and pages[-1] == 0:
        pages.pop()
        print("    note: the last page was empty (next_cursor given although nothing was left)")
    eq(pages, [2, 2, 1], "page sizes")
    # Same through the path without a type segment (GET resources/image).
    ids2, _ = list_all(cloudinary.api.resources, prefix=prefix, max_results=2)
    eq(sorted(ids2), sorted(want), "ids listed without type")
    # Whole cloud, two at a time: every asset exactly once.
    all_ids, all_pages = list_all(cloudinary.api.resources, type="upload", max_results=2)
    dup = sorted({x for x in all_ids if all_ids.count(x) > 1})
    check(not dup, "duplicates across pages of the full listing: %r" % dup)
    missing = set(want) - set(all_ids)
    check(not missing, "full listing misses %r" % missing)
    check(all(n <= 2 for n in all_pages), "full listing page exceeded 2: %r" % all_pages)
    # The listing includes tags/context only when asked for.
    r = cloudinary.api.resources(type="upload", prefix=prefix, max_results=10, tags=True)
    check(all("tags" in x for x in r["resources"]), "tags=true should include tags per resource")
    STATE["page_ids"] = want


@step
def resources_by_tag_and_ids():
    tag = "bytag" + RUN
    ids = []
    for i in range(3):
        r, _ = jpeg_upload(P + "/bytag/t%d" % i, seed=200 + i, tags=[tag] if i < 2 else ["other" + RUN])
        ids.append(r["public_id"])
    got, _ = list_all(cloudinary.api.resources_by_tag, tag, max_results=1)
    eq(sorted(got), sorted(ids[:2]), "resources_by_tag")
    r = cloudinary.api.resources_by_ids([ids[0], ids[2], P + "/does-not-exist"])
    eq(sorted(x["public_id"] for x in r["resources"]), sorted([ids[0], ids[2]]), "resources_by_ids")


@step
def tag_commands():
    a, _ = jpeg_upload(P + "/tags/a", seed=300)
    b, _ = jpeg_upload(P + "/tags/b", seed=301)
    ta, tb = "ta" + RUN, "tb" + RUN
    r = cloudinary.uploader.add_tag(ta, [a["public_id"], b["public_id"]])
    eq(sorted(r.get("public_ids") or []), sorted([a["public_id"], b["public_id"]]), "add_tag public_ids")
    eq(cloudinary.api.resource(a["public_id"]).get("tags"), [ta], "tags after add_tag")
    cloudinary.uploader.add_tag(tb, [a["public_id"]])
    eq(sorted(cloudinary.api.resource(a["public_id"]).get("tags")), sorted([ta, tb]), "tags after 2nd add")
    tags = cloudinary.api.tags(max_results=500).get("tags") or []
    check(ta in tags and tb in tags, "api.tags() should list %r and %r, got %r" % (ta, tb, tags))
    tags_p = cloudinary.api.tags(prefix="tb" + RUN).get("tags") or []
    eq(tags_p, [tb], "api.tags(prefix=tb...)")
    r = cloudinary.uploader.remove_tag(ta, [a["public_id"]])
    eq(r.get("public_ids"), [a["public_id"]], "remove_tag public_ids")
    eq(cloudinary.api.resource(a["public_id"]).get("tags"), [tb], "tags after remove_tag")
    eq(cloudinary.api.resource(b["public_id"]).get("tags"), [ta], "other asset untouched by remove_tag")
    r = cloudinary.uploader.replace_tag("only" + RUN, [b["public_id"]])
    eq(r.get("public_ids"), [b["public_id"]], "replace_tag public_ids")
    eq(cloudinary.api.resource(b["public_id"]).get("tags"), ["only" + RUN], "tags after replace_tag")
    r = cloudinary.uploader.remove_all_tags([a["public_id"], b["public_id"]])
    eq(sorted(r.get("public_ids") or []), sorted([a["public_id"], b["public_id"]]), "remove_all_tags ids")
    eq(cloudinary.api.resource(a["public_id"]).get("tags", []), [], "tags after remove_all_tags")
    eq(cloudinary.api.resource(b["public_id"]).get("tags", []), [], "tags after remove_all_tags (b)")


@step
def context_commands():
    a, _ = jpeg_upload(P + "/ctx/a", seed=400)
    r = cloudinary.uploader.add_context({"k1": "v1", "k2": "x=y|z"}, [a["public_id"]])
    eq(r.get("public_ids"), [a["public_id"]], "add_context public_ids")
    eq(cloudinary.api.resource(a["public_id"]).get("context"), {"custom": {"k1": "v1", "k2": "x=y|z"}},
       "context after add_context")
    r = cloudinary.uploader.remove_all_context([a["public_id"]])
    eq(r.get("public_ids"), [a["public_id"]], "remove_all_context public_ids")
    ctx = cloudinary.api.resource(a["public_id"]).get("context")
    check(not ctx or not ctx.get("custom"), "context should be gone, got %r" % ctx)


@step
def admin_update():
    a, _ = jpeg_upload(P + "/upd", seed=500, tags=["before"])
    r = cloudinary.api.update(a["public_id"], tags=["u1", "u2"], context={"cx": "1"},
                              display_name="Nice name")
    eq(r.get("public_id"), a["public_id"], "update public_id")
    eq(sorted(r.get("tags") or []), ["u1", "u2"], "update tags")
    eq(r.get("context"), {"custom": {"cx": "1"}}, "update context")
    eq(r.get("display_name"), "Nice name", "update display_name")
    g = cloudinary.api.resource(a["public_id"])
    eq(sorted(g.get("tags") or []), ["u1", "u2"], "tags after update")
    eq(g.get("display_name"), "Nice name", "display_name after update")


@step
def rename():
    a, data = jpeg_upload(P + "/ren/old", seed=600)
    new = P + "/ren/new"
    r = cloudinary.uploader.rename(a["public_id"], new)
    eq(r.get("public_id"), new, "rename public_id")
    eq(r.get("asset_id"), a["asset_id"], "asset_id kept over rename")
    expect_error(cex.NotFound, cloudinary.api.resource, a["public_id"])
    g = cloudinary.api.resource(new)
    eq(g.get("public_id"), new, "resource(new)")
    got = call_http("GET", r["url"])
    eq(got.status, 200, "download of renamed asset")
    check(got.body == data, "renamed asset bytes differ")
    eq(call_http("GET", a["url"]).status, 404, "old URL after rename")
    # Renaming onto an existing id without overwrite must fail; rename of a missing id is a 404.
    b, _ = jpeg_upload(P + "/ren/other", seed=601)
    try:
        cloudinary.uploader.rename(new, b["public_id"])
        raise AssertionError("rename onto an existing public_id without overwrite succeeded")
    except cex.Error as e:
        print("    rename onto existing id refused: %s: %s" % (type(e).__name__, e))
    expect_error(cex.NotFound, cloudinary.uploader.rename, P + "/ren/missing", P + "/ren/x",
                 startswith="Resource not found - " + P + "/ren/missing")


@step
def explicit():
    a, _ = jpeg_upload(P + "/expl", seed=700, tags=["e1"])
    r = cloudinary.uploader.explicit(a["public_id"], type="upload")
    for k in ("public_id", "asset_id", "format", "width", "height", "bytes", "resource_type", "type", "url"):
        eq(r.get(k), a.get(k), "explicit()[%r]" % k)
    check(isinstance(r.get("version"), int), "explicit version")
    r2 = cloudinary.uploader.explicit(a["public_id"], type="upload", tags=["e2"])
    eq(r2.get("tags"), ["e2"], "explicit with tags replaces tags")
    expect_error(cex.NotFound, cloudinary.uploader.explicit, P + "/no-such-asset", type="upload")


@step
def destroy():
    a, _ = jpeg_upload(P + "/destroy", seed=800)
    eq(call_http("GET", a["url"]).status, 200, "download before destroy")
    eq(result_of(cloudinary.uploader.destroy(a["public_id"])), "ok", "destroy")
    eq(result_of(cloudinary.uploader.destroy(a["public_id"])), "not found", "destroy again")
    expect_error(cex.NotFound, cloudinary.api.resource, a["public_id"], contains=["404"])
    eq(call_http("GET", a["url"]).status, 404, "download after destroy")
    r = cloudinary.uploader.destroy(STATE["raw"][0]["public_id"], resource_type="raw") if "raw" in STATE else None
    if r is not None:
        eq(result_of(r), "ok", "destroy raw")


@step
def download_original():
    if "jpeg" not in STATE:
        raise AssertionError("depends on upload_file_with_public_id_tags_context")
    r, data = STATE["jpeg"]
    got = call_http("GET", r["url"])
    eq(got.status, 200, "GET response url")
    check(got.body == data, "bytes from response url differ from upload")
    eq((got.headers.get("Content-Type") or "").split(";")[0], "image/jpeg", "Content-Type")
    check(got.headers.get("ETag"), "no ETag header")
    url = cloudinary.CloudinaryImage(r["public_id"]).build_url(version=r["version"], format=r["format"])
    got2 = call_http("GET", url)
    eq(got2.status, 200, "GET SDK-built URL %s" % url)
    check(got2.body == data, "bytes from SDK-built URL differ from upload")
    # HEAD gives the headers without a body.
    h = call_http("HEAD", r["url"])
    eq(h.status, 200, "HEAD status")
    eq(h.headers.get("Content-Length"), str(len(data)), "HEAD Content-Length")


@step
def delivery_without_version():
    data = make_image(seed=850)
    r = cloudinary.uploader.upload(write_tmp("x.jpg", data), public_id="nover" + RUN)
    url = cloudinary.CloudinaryImage(r["public_id"]).build_url(format="jpg")
    check("/v" not in url.split("/upload/")[1], "expected no version in %s" % url)
    got = call_http("GET", url)
    eq(got.status, 200, "GET %s" % url)
    check(got.body == data, "bytes differ")
    # For ids with a folder the SDK puts v1 into the URL; the version does not select the asset.
    got = call_http("GET", delivery_url("image", "upload", 1, STATE["jpeg"][0]["public_id"], "jpg")) \
        if "jpeg" in STATE else None
    if got is not None:
        eq(got.status, 200, "GET with v1 for a nested public_id")


@step
def range_and_conditional_get():
    if "jpeg" not in STATE:
        raise AssertionError("depends on upload_file_with_public_id_tags_context")
    r, data = STATE["jpeg"]
    got = call_http("GET", r["url"], headers={"Range": "bytes=0-9"})
    eq(got.status, 206, "Range status")
    eq(len(got.body), 10, "Range body length")
    check(got.body == data[:10], "Range bytes differ")
    eq(got.headers.get("Content-Range"), "bytes 0-9/%d" % len(data), "Content-Range")
    got = call_http("GET", r["url"], headers={"Range": "bytes=-4"})
    eq((got.status, got.body), (206, data[-4:]), "suffix Range")
    etag = call_http("GET", r["url"]).headers.get("ETag")
    check(etag, "no ETag")
    got = call_http("GET", r["url"], headers={"If-None-Match": etag})
    eq(got.status, 304, "If-None-Match status")
    eq(got.body, b"", "304 body")
    got = call_http("GET", r["url"], headers={"If-None-Match": '"0000"'})
    eq(got.status, 200, "If-None-Match with another etag")


@step
def private_upload_and_signed_url():
    data = make_image(seed=900)
    pid = P + "/priv"
    r = cloudinary.uploader.upload(write_tmp("p.jpg", data), public_id=pid, type="private")
    eq(r.get("type"), "private", "type")
    unsigned = delivery_url("image", "private", r["version"], pid, "jpg")
    signed = cloudinary.CloudinaryImage(pid).build_url(type="private", sign_url=True, version=r["version"],
                                                      format="jpg")
    check("/s--" in signed, "SDK did not sign the URL: %s" % signed)
    # The response may give the URL signed (as Cloudinary does for private assets) or not.
    check(r.get("url") in (unsigned, signed), "url %r is neither %r nor %r" % (r.get("url"), unsigned, signed))
    eq(r.get("secure_url"), r.get("url"), "secure_url")
    eq(call_http("GET", unsigned).status, 401, "unsigned private URL")
    got = call_http("GET", signed)
    eq(got.status, 200, "signed private URL %s" % signed)
    check(got.body == data, "signed private download differs")
    bad = re.sub(r"/s--[^/]+--/", "/s--AAAAAAAA--/", signed)
    eq(call_http("GET", bad).status, 401, "private URL with a wrong signature")
    # The asset is not reachable as type upload.
    eq(call_http("GET", delivery_url("image", "upload", r["version"], pid, "jpg")).status, 404,
       "private asset as /upload/")
    g = cloudinary.api.resource(pid, type="private")
    eq(g.get("type"), "private", "resource(type=private)")
    expect_error(cex.NotFound, cloudinary.api.resource, pid)
    # type=authenticated behaves the same for delivery.
    apid = P + "/authd"
    a = cloudinary.uploader.upload(write_tmp("a.jpg", data), public_id=apid, type="authenticated")
    eq(a.get("type"), "authenticated", "type")
    eq(call_http("GET", delivery_url("image", "authenticated", a["version"], apid, "jpg")).status, 401,
       "unsigned authenticated URL")
    asigned = cloudinary.CloudinaryImage(apid).build_url(type="authenticated", sign_url=True,
                                                         version=a["version"], format="jpg")
    got = call_http("GET", asigned)
    check(got.status == 200 and got.body == data, "signed authenticated URL %s: %r" % (asigned, got))


@step
def signed_upload_sha256():
    try:
        configure(signature_algorithm="sha256")
        data = make_image(seed=950)
        r = cloudinary.uploader.upload(write_tmp("s.jpg", data), public_id=P + "/sha256", tags=["s256"])
        eq(r.get("public_id"), P + "/sha256", "public_id")
        eq(result_of(cloudinary.uploader.destroy(P + "/sha256")), "ok", "sha256-signed destroy")
        expect_error(cex.AuthorizationRequired, cloudinary.uploader.upload, ("w.jpg", data),
                     api_secret="wrong-secret", startswith="Invalid Signature")
    finally:
        configure()


@step
def upload_presets():
    name = "pre" + RUN
    folder = P + "/presetfolder"
    r = cloudinary.api.create_upload_preset(name=name, unsigned=True, folder=folder, tags=["ptag"])
    eq(r.get("message"), "created", "create_upload_preset message")
    g = cloudinary.api.upload_preset(name)
    eq(g.get("name"), name, "upload_preset name")
    eq(g.get("unsigned"), True, "upload_preset unsigned")
    eq((g.get("settings") or {}).get("folder"), folder, "upload_preset settings.folder")
    names = [p.get("name") for p in cloudinary.api.upload_presets(max_results=500).get("presets", [])]
    check(name in names, "upload_presets() does not list %r: %r" % (name, names))
    r = cloudinary.api.update_upload_preset(name, tags=["ptag", "ptag2"])
    eq(r.get("message"), "updated", "update_upload_preset message")
    g = cloudinary.api.upload_preset(name)
    eq(g.get("unsigned"), True, "unsigned kept after update")
    eq((g.get("settings") or {}).get("folder"), folder, "folder kept after update")
    data = make_image(seed=960)
    up = cloudinary.uploader.unsigned_upload(write_tmp("pre.jpg", data), name)
    pid = up.get("public_id") or ""
    in_folder = pid.startswith(folder + "/") or up.get("asset_folder") == folder
    check(in_folder, "unsigned upload did not land in the preset folder: public_id=%r asset_folder=%r"
          % (pid, up.get("asset_folder")))
    eq(sorted(up.get("tags") or []), ["ptag", "ptag2"], "tags from the preset")
    # A preset that is not unsigned cannot be used without a signature.
    signed_name = "spre" + RUN
    cloudinary.api.create_upload_preset(name=signed_name, unsigned=False, folder=folder)
    expect_error(cex.BadRequest, cloudinary.uploader.unsigned_upload, write_tmp("x.jpg", data), signed_name,
                 contains=["unsigned"])
    # ...but a signed upload may name it.
    up2 = cloudinary.uploader.upload(write_tmp("y.jpg", data), upload_preset=signed_name)
    check((up2.get("public_id") or "").startswith(folder + "/") or up2.get("asset_folder") == folder,
          "signed upload with preset ignored its folder: %r" % up2.get("public_id"))
    expect_error(cex.BadRequest, cloudinary.uploader.unsigned_upload, write_tmp("z.jpg", data),
                 "nosuchpreset" + RUN, contains=["preset", "not found"])
    eq(cloudinary.api.delete_upload_preset(name).get("message"), "deleted", "delete_upload_preset")
    cloudinary.api.delete_upload_preset(signed_name)
    expect_error(cex.NotFound, cloudinary.api.upload_preset, name)


@step
def folders():
    root = "fld" + RUN
    r = cloudinary.api.create_folder(root)
    eq(r.get("success"), True, "create_folder success")
    eq(r.get("path"), root, "create_folder path")
    r = cloudinary.api.create_folder(root + "/sub")
    eq(r.get("path"), root + "/sub", "create_folder nested path")
    eq(r.get("name"), "sub", "create_folder nested name")
    paths = [f.get("path") for f in cloudinary.api.root_folders(max_results=500).get("folders", [])]
    check(root in paths, "root_folders() lacks %r: %r" % (root, paths))
    check(root + "/sub" not in paths, "root_folders() lists a nested folder")
    sub = cloudinary.api.subfolders(root)
    eq([(f.get("name"), f.get("path")) for f in sub.get("folders", [])], [("sub", root + "/sub")], "subfolders")
    r = cloudinary.api.delete_folder(root + "/sub")
    eq(r.get("deleted"), [root + "/sub"], "delete_folder")
    eq(cloudinary.api.subfolders(root).get("folders"), [], "subfolders after delete")
    cloudinary.api.delete_folder(root)
    paths = [f.get("path") for f in cloudinary.api.root_folders(max_results=500).get("folders", [])]
    check(root not in paths, "root folder still listed after delete")
    expect_error(cex.NotFound, cloudinary.api.subfolders, root + "/nope")


@step
def usage():
    r = cloudinary.api.usage()
    check(isinstance(r, dict) and r, "usage() empty")
    check(any(k in r for k in ("resources", "objects", "storage")),
          "usage() lacks resources/objects/storage: %r" % sorted(r))
    print("    usage keys: %s" % ", ".join(sorted(r)))


@step
def delete_resources_by_ids():
    ids = [jpeg_upload(P + "/delids/d%d" % i, seed=1000 + i)[0]["public_id"] for i in range(3)]
    missing = P + "/delids/missing"
    r = cloudinary.api.delete_resources([ids[0], ids[1], missing])
    eq(r.get("deleted"), {ids[0]: "deleted", ids[1]: "deleted", missing: "not_found"}, "deleted")
    expect_error(cex.NotFound, cloudinary.api.resource, ids[0])
    eq(cloudinary.api.resource(ids[2]).get("public_id"), ids[2], "untouched asset")


@step
def delete_resources_by_prefix():
    prefix = P + "/delpre/"
    ids = [jpeg_upload(prefix + "d%d" % i, seed=1100 + i)[0]["public_id"] for i in range(3)]
    keep = jpeg_upload(P + "/delprekeep", seed=1110)[0]["public_id"]
    r = cloudinary.api.delete_resources_by_prefix(prefix)
    eq(r.get("deleted"), {i: "deleted" for i in ids}, "deleted")
    eq(cloudinary.api.resources(type="upload", prefix=prefix).get("resources"), [], "listing after delete")
    eq(cloudinary.api.resource(keep).get("public_id"), keep, "asset outside the prefix")


@step
def delete_resources_by_tag():
    tag = "deltag" + RUN
    ids = [jpeg_upload(P + "/deltag/d%d" % i, seed=1200 + i, tags=[tag])[0]["public_id"] for i in range(2)]
    keep = jpeg_upload(P + "/deltag/keep", seed=1210, tags=["keep" + RUN])[0]["public_id"]
    r = cloudinary.api.delete_resources_by_tag(tag)
    eq(r.get("deleted"), {i: "deleted" for i in ids}, "deleted")
    eq(cloudinary.api.resources_by_tag(tag).get("resources"), [], "resources_by_tag after delete")
    eq(cloudinary.api.resource(keep).get("public_id"), keep, "asset without the tag")


# --- transformations from SDK-built URLs ------------------------------------------------------

def _photo(size=(800, 600)):
    """A real photo-like JPEG: gradients and detail, so resizing and cropping are visible."""
    w, h = size
    img = Image.new("RGB", size)
    px = img.load()
    for y in range(h):
        for x in range(w):
            px[x, y] = ((x * 255) // w, (y * 255) // h, ((x ^ y) & 0xFF))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _render(public_id, accept=None, **options):
    url = cloudinary.CloudinaryImage(public_id).build_url(**options)
    got = call_http("GET", url, headers={"Accept": accept} if accept else None)
    if got.status != 200:
        raise AssertionError("GET %s -> %s %s" % (url, got.status, got.headers.get("X-Cld-Error")))
    img = Image.open(io.BytesIO(got.body))
    return (img.width, img.height, img.format.lower().replace("jpeg", "jpg")), got, url


@step
def transformations_from_sdk_urls():
    pid = P + "/tx/photo"
    cloudinary.uploader.upload(write_tmp("photo.jpg", _photo()), public_id=pid)
    cases = [
        (dict(width=200), (200, 150, "jpg")),
        (dict(width=200, height=100, crop="scale"), (200, 100, "jpg")),
        (dict(width=0.25, crop="scale"), (200, 150, "jpg")),
        (dict(width=300, height=300, crop="fit"), (300, 225, "jpg")),
        (dict(width=2000, crop="limit"), (800, 600, "jpg")),
        (dict(width=2000, height=2000, crop="mfit"), (2000, 1500, "jpg")),
        (dict(width=150, height=150, crop="fill", gravity="auto"), (150, 150, "jpg")),
        (dict(width=150, height=100, crop="lfill", gravity="north_east"), (150, 100, "jpg")),
        (dict(width=300, height=300, crop="pad", background="black"), (300, 300, "jpg")),
        (dict(width=1000, height=1000, crop="lpad"), (1000, 1000, "jpg")),
        (dict(width=100, height=100, crop="mpad"), (800, 600, "jpg")),
        (dict(width=120, height=80, crop="crop", gravity="south_west", x=10, y=10), (120, 80, "jpg")),
        (dict(width=100, height=100, crop="thumb", gravity="face"), (100, 100, "jpg")),
        (dict(aspect_ratio="16:9", width=320, crop="fill"), (320, 180, "jpg")),
        (dict(width=100, dpr=2.0), (200, 150, "jpg")),
        (dict(width=100, quality="auto:eco"), (100, 75, "jpg")),
        (dict(width=100, quality=50, flags="progressive"), (100, 75, "jpg")),
        (dict(width=100, format="png"), (100, 75, "png")),
        (dict(width=100, fetch_format="webp"), (100, 75, "webp")),
        (dict(width=100, format="gif"), (100, 75, "gif")),
        (dict(width=100, effect="grayscale"), (100, 75, "jpg")),
        (dict(width=100, effect="sepia:50"), (100, 75, "jpg")),
        (dict(width=100, effect="blur:300"), (100, 75, "jpg")),
        (dict(width=100, effect="sharpen"), (100, 75, "jpg")),
        (dict(width=100, effect="brightness:30"), (100, 75, "jpg")),
        (dict(width=100, effect="contrast:40"), (100, 75, "jpg")),
        (dict(width=100, effect="saturation:-50"), (100, 75, "jpg")),
        (dict(width=100, effect="negate"), (100, 75, "jpg")),
        (dict(width=100, effect="pixelate:8"), (100, 75, "jpg")),
        (dict(width=100, effect="vignette"), (100, 75, "jpg")),
        (dict(width=100, effect="blur_faces"), (100, 75, "jpg")),
        (dict(width=100, effect="pixelate_faces:8"), (100, 75, "jpg")),
        (dict(width=100, angle=90), (75, 100, "jpg")),
        (dict(width=100, angle="hflip"), (100, 75, "jpg")),
        (dict(width=100, angle=45, background="black", format="png"), (124, 124, "png")),
        (dict(width=100, radius="max", format="png"), (100, 75, "png")),
        (dict(width=100, radius=10), (100, 75, "jpg")),
        (dict(width=100, border={"width": 5, "color": "#ff0000"}), (110, 85, "jpg")),
        (dict(width=100, opacity=50, format="png"), (100, 75, "png")),
        (dict(width=100, flags="attachment"), (100, 75, "jpg")),
        (dict(transformation=[dict(width=400, crop="scale"), dict(width=100, height=100, crop="fill"),
                              dict(effect="grayscale")]), (100, 100, "jpg")),
    ]
    for options, want in cases:
        got, _, url = _render(pid, **options)
        eq(got, want, "size and format of %s" % url)
    # Image overlays: one component, and a layer block closed by fl_layer_apply.
    logo = P + "/tx/logo"
    cloudinary.uploader.upload(write_tmp("logo.png", make_image("PNG", size=(80, 40), seed=77)), public_id=logo)
    eq(_render(pid, overlay=logo.replace("/", ":"), width=60, gravity="south_east", x=10, y=10)[0], (800, 600, "jpg"),
       "overlay keeps the base size")
    eq(_render(pid, transformation=[{"width": 400, "crop": "scale"},
                                    {"overlay": logo.replace("/", ":"), "width": 100, "crop": "scale"},
                                    {"flags": "layer_apply", "gravity": "north_west", "x": 5, "y": 5}])[0],
       (400, 300, "jpg"), "layer block")
    # Text overlays, as the SDK encodes them (commas and spaces escaped).
    got, _, url = _render(pid, overlay={"font_family": "Arial", "font_size": 40, "font_weight": "bold",
                                         "text": "Hello, World / 100%"}, color="#ffffff", gravity="south")
    eq(got, (800, 600, "jpg"), "text overlay %s" % url)
    # f_auto negotiates by Accept.
    got, resp, _ = _render(pid, accept="image/webp,*/*", width=64, fetch_format="auto")
    eq(got[2], "webp", "f_auto with WebP accepted")
    eq(resp.headers.get("Vary"), "Accept", "Vary on f_auto")
    eq(_render(pid, accept="*/*", width=64, fetch_format="auto")[0][2], "jpg", "f_auto without WebP")
    # An unknown parameter value: 400 with X-Cld-Error, never a 500.
    bad = call_http("GET", cloudinary.CloudinaryImage(pid).build_url(width="abc"))
    eq(bad.status, 400, "invalid width")
    check("w_abc" in (bad.headers.get("X-Cld-Error") or ""), "X-Cld-Error names the parameter: %r" % bad.headers.get("X-Cld-Error"))
    # Signed URLs with transformations (sign_url=True) render; a tampered one does not.
    signed = cloudinary.CloudinaryImage(pid).build_url(width=90, sign_url=True)
    eq(call_http("GET", signed).status, 200, "signed transformation URL")


@step
def named_and_eager_transformations():
    name = "thumb" + RUN
    r = cloudinary.api.create_transformation(name, "c_fill,g_auto,h_120,w_160/e_sepia")
    eq(r.get("message"), "created", "create_transformation")
    got = cloudinary.api.transformation(name)
    eq((got.get("name"), got.get("named")), ("t_" + name, True), "transformation()")
    names = [t["name"] for t in cloudinary.api.transformations(named=True)["transformations"]]
    check("t_" + name in names, "transformations(named=True) lists it: %r" % names)
    pid = P + "/tx/named"
    up = cloudinary.uploader.upload(write_tmp("n.jpg", _photo((600, 400))), public_id=pid,
                                    eager=[{"width": 100, "crop": "scale"}, "c_fill,w_50,h_50/png"])
    eager = up.get("eager") or []
    eq([(e.get("width"), e.get("height"), e.get("format")) for e in eager], [(100, 67, "jpg"), (50, 50, "png")],
       "eager derivatives in the upload response")
    eq(_render(pid, transformation=name)[0], (160, 120, "jpg"), "t_<name> from build_url(transformation=name)")
    eq(_render(pid, transformation=[name, {"width": 80, "crop": "scale"}])[0], (80, 60, "jpg"), "named then chained")
    cloudinary.api.update_transformation(name, allowed_for_strict=True, unsafe_update="w_90")
    eq(_render(pid, transformation=name, format="png")[0], (90, 60, "png"), "updated named transformation")
    cloudinary.api.delete_transformation(name)
    expect_error(cex.NotFound, cloudinary.api.transformation, name)


# --- structured metadata and conditional rules -------------------------------------------------

def _ds(*ids):
    return {"values": [{"external_id": i, "value": i.capitalize()} for i in ids]}


@step
def metadata_fields_and_datasource():
    fid = "sku" + RUN
    f = cloudinary.api.add_metadata_field({"external_id": fid, "label": "SKU " + RUN, "type": "string",
                                           "validation": {"type": "strlen", "min": 1, "max": 12}})
    eq((f.get("external_id"), f.get("type"), f.get("mandatory")), (fid, "string", False), "string field")
    n = cloudinary.api.add_metadata_field({"external_id": "qty" + RUN, "label": "Qty " + RUN, "type": "integer",
                                           "default_value": 5,
                                           "validation": {"type": "less_than", "equals": True, "value": 5}})
    eq(n.get("default_value"), 5, "integer default")
    expect_error(cex.BadRequest, cloudinary.api.add_metadata_field,
                 {"external_id": "bad" + RUN, "label": "Bad " + RUN, "type": "integer", "default_value": 6,
                  "validation": {"type": "less_than", "equals": True, "value": 5}}, contains=("less than",))
    cloudinary.api.add_metadata_field({"external_id": "day" + RUN, "label": "Day " + RUN, "type": "date"})
    colors = "colors" + RUN
    cloudinary.api.add_metadata_field({"external_id": colors, "label": "Colors " + RUN, "type": "set",
                                       "datasource": {"values": [{"external_id": "red", "value": "Red"},
                                                                 {"value": "Green"}, {"value": "Blue"}]}})
    expect_error(cex.AlreadyExists, cloudinary.api.add_metadata_field,
                 {"external_id": fid, "label": "Again " + RUN, "type": "string"})
    got = cloudinary.api.metadata_field_by_field_id(colors)
    eq(len(got["datasource"]["values"]), 3, "datasource size")
    ids = [f["external_id"] for f in cloudinary.api.list_metadata_fields()["metadata_fields"]]
    check(fid in ids and colors in ids, "list_metadata_fields lists the new fields: %r" % ids)
    u = cloudinary.api.update_metadata_field(fid, {"label": "Stock unit " + RUN, "type": "integer"})
    eq((u.get("label"), u.get("type")), ("Stock unit " + RUN, "string"), "update (type is immutable)")
    ds = cloudinary.api.update_metadata_field_datasource(colors, [{"external_id": "red", "value": "Crimson"}])
    check({"external_id": "red", "value": "Crimson"} in ds["values"], "datasource upsert: %r" % ds)
    ds = cloudinary.api.delete_datasource_entries(colors, ["red"])
    eq(len(ds["values"]), 2, "active values after a soft delete")
    ds = cloudinary.api.restore_metadata_field_datasource(colors, ["red"])
    eq(len(ds["values"]), 3, "values after restore")
    ds = cloudinary.api.reorder_metadata_field_datasource(colors, "value", "desc")
    eq(ds["values"][0]["value"], "Green", "datasource ordered by value, descending")
    expect_error(cex.NotFound, cloudinary.api.metadata_field_by_field_id, "nope" + RUN)
    cloudinary.api.delete_metadata_field("day" + RUN)
    expect_error(cex.NotFound, cloudinary.api.metadata_field_by_field_id, "day" + RUN)
    STATE["md_sku"], STATE["md_colors"] = fid, colors


def _seed_rules():
    """The seed's cascade: category -> team -> role -> name (external ids carry RUN)."""
    if "md_rules" in STATE:
        return STATE["md_rules"]
    k = {n: n + RUN for n in ("category", "team", "role", "name")}
    cloudinary.api.add_metadata_field({"external_id": k["category"], "label": "Category " + RUN, "type": "enum",
                                       "datasource": _ds("employee", "culture")})
    for name, t, vals in (("team", "enum", ("rnd", "sales")), ("role", "enum", ("qa", "devops")),
                          ("name", "set", ("john", "jane", "paul", "mary"))):
        cloudinary.api.add_metadata_field({"external_id": k[name], "label": name.capitalize() + " " + RUN,
                                           "type": t, "default_disabled": True, "datasource": _ds(*vals)})
    rules = [
        ("team", "Category employee shows Team", {"metadata_field_id": k["category"], "equals": "employee"},
         {"enable": True, "activate_values": "all"}),
        ("name", "QA names", {"metadata_field_id": k["role"], "equals": "qa"},
         {"enable": True, "activate_values": {"external_ids": ["john", "jane"]}}),
        ("role", "R&D shows Role", {"metadata_field_id": k["team"], "equals": "rnd"}, {"enable": True}),
        ("name", "DevOps names", {"metadata_field_id": k["role"], "equals": "devops"},
         {"enable": True, "activate_values": {"external_ids": ["paul", "mary"]}}),
    ]
    ids = {}
    for target, name, cond, result in rules:
        r = cloudinary.api.add_metadata_rule({"external_id": "rule-%s-%s" % (name.split()[0].lower(), RUN),
                                              "metadata_field_id": k[target], "condition": cond,
                                              "result": result, "name": name})
        eq((r.get("name"), r.get("state"), r.get("metadata_field_id")), (name, "active", k[target]), "rule")
        ids[name] = r["external_id"]
    STATE["md_rules"] = (k, ids)
    return k, ids


@step
def metadata_rules_list_order_deactivate_delete():
    k, ids = _seed_rules()
    listed = [r for r in cloudinary.api.list_metadata_rules()["metadata_rules"]
              if r["metadata_field_id"] in k.values()]
    # Ordered by the dependent field's id, then by creation order.
    eq([r["name"] for r in listed],
       ["QA names", "DevOps names", "R&D shows Role", "Category employee shows Team"],
       "list_metadata_rules order")
    expect_error(cex.BadRequest, cloudinary.api.add_metadata_rule,
                 {"metadata_field_id": k["category"], "name": "loop",
                  "condition": {"metadata_field_id": k["role"], "populated": True}, "result": {"enable": True}},
                 contains=("cycle", k["category"], k["team"], k["role"]))
    extra = cloudinary.api.add_metadata_rule({"metadata_field_id": k["team"], "name": "temp " + RUN,
                                              "condition": {"metadata_field_id": k["category"], "populated": True},
                                              "result": {"set_mandatory": True}})
    off = cloudinary.api.update_metadata_rule(extra["external_id"], {"name": "temp off " + RUN, "condition": {},
                                                                     "result": {}, "state": "inactive"})
    eq((off.get("name"), off.get("state")), ("temp off " + RUN, "inactive"), "deactivated rule")
    states = {r["external_id"]: r["state"] for r in cloudinary.api.list_metadata_rules()["metadata_rules"]}
    eq(states.get(extra["external_id"]), "inactive", "inactive rules are listed")
    cloudinary.api.delete_metadata_rule(extra["external_id"])
    check(extra["external_id"] not in [r["external_id"] for r in cloudinary.api.list_metadata_rules()["metadata_rules"]],
          "deleted rule is gone")
    expect_error(cex.NotFound, cloudinary.api.delete_metadata_rule, extra["external_id"])
    expect_error(cex.NotFound, cloudinary.api.update_metadata_rule, "ghost" + RUN, {"state": "active"})


@step
def metadata_uploads_pass_and_fail_the_rules():
    k, _ = _seed_rules()
    md = {k["category"]: "employee", k["team"]: "rnd", k["role"]: "qa", k["name"]: ["john"]}
    r, _ = jpeg_upload(P + "/md/ok", seed=1400, metadata=md)
    got = r.get("metadata") or {}
    eq({f: got.get(f) for f in md}, md, "upload response metadata")
    if "md_sku" in STATE:
        eq(got.get("qty" + RUN), 5, "the integer field's default applied on upload")
    eq(cloudinary.api.resource(P + "/md/ok").get("metadata"), got, "stored metadata")
    bad = dict(md)
    bad[k["name"]] = ["paul"]
    expect_error(cex.BadRequest, jpeg_upload, P + "/md/bad", seed=1401, metadata=bad,
                 contains=("'paul' is not allowed", "allowed: john, jane"))
    expect_error(cex.BadRequest, jpeg_upload, P + "/md/bad2", seed=1402,
                 metadata={k["category"]: "culture", k["team"]: "rnd"},
                 contains=("disabled for this asset", "Category employee shows Team"))
    expect_error(cex.BadRequest, jpeg_upload, P + "/md/bad3", seed=1403, metadata={"brand_name" + RUN: "x"},
                 startswith="Metadata field 'brand_name%s' does not exist" % RUN)
    expect_error(cex.NotFound, cloudinary.api.resource, P + "/md/bad")
    # Changing the controller invalidates the dependent value, unless it is cleared or replaced.
    expect_error(cex.BadRequest, cloudinary.api.update, P + "/md/ok", metadata={k["role"]: "devops"},
                 contains=("no longer allowed",))
    u = cloudinary.api.update(P + "/md/ok", metadata={k["role"]: "devops", k["name"]: ["mary"]})
    eq(u["metadata"][k["name"]], ["mary"], "update with a new allowed value")
    r2, _ = jpeg_upload(P + "/md/two", seed=1404, metadata={k["category"]: "employee", k["team"]: "sales"})
    sku = STATE.get("md_sku")
    if sku:
        res = cloudinary.uploader.update_metadata({sku: "A-1"}, [P + "/md/ok", P + "/md/two"])
        eq(sorted(res.get("public_ids", [])), sorted([P + "/md/ok", P + "/md/two"]), "update_metadata ids")
        eq(cloudinary.api.resource(P + "/md/two")["metadata"].get(sku), "A-1", "bulk value stored")
        expect_error(cex.BadRequest, cloudinary.uploader.update_metadata, {sku: "far-too-long-for-the-field"},
                     [P + "/md/ok", P + "/md/two"], contains=("length",))
        eq(cloudinary.api.resource(P + "/md/ok")["metadata"].get(sku), "A-1", "failed bulk update changed nothing")
    e = cloudinary.uploader.explicit(P + "/md/two", type="upload", metadata={k["team"]: "rnd", k["role"]: "qa"})
    eq(e["metadata"].get(k["role"]), "qa", "explicit metadata")


# --- remote URLs ------------------------------------------------------------------------------

class _Files(BaseHTTPRequestHandler):
    files = {}

    def do_GET(self):
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", PRIVATE_URL)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = self.files.get(self.path)
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


def _file_server():
    if "file_server" not in STATE:
        srv = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        STATE["file_server"] = srv
    return STATE["file_server"]


@step
def remote_url_upload_from_loopback():
    srv = _file_server()
    data = make_image(seed=1300)
    _Files.files["/remote.jpg"] = data
    url = "http://127.0.0.1:%d/remote.jpg" % srv.server_address[1]
    r = cloudinary.uploader.upload(url, public_id=P + "/remote", timeout=60)
    eq(r.get("bytes"), len(data), "bytes")
    eq(r.get("format"), "jpg", "format")
    got = call_http("GET", r["url"])
    check(got.status == 200 and got.body == data, "download differs from the remote file (%r)" % got)
    # A missing remote file is a loading error.
    expect_error(cex.BadRequest, cloudinary.uploader.upload, "http://127.0.0.1:%d/missing.jpg"
                 % srv.server_address[1], timeout=60, startswith="Error in loading")


@step
def remote_url_private_address_refused():
    expect_error(cex.BadRequest, cloudinary.uploader.upload, PRIVATE_URL, public_id=P + "/ssrf", timeout=60,
                 startswith="Error in loading", contains=["not allowed"])
    # Loopback addresses other than the allowlisted 127.0.0.1 (run.sh sets
    # NIMBUS_REMOTE_ALLOWLIST=127.0.0.1), also in disguise. All stay on this machine.
    srv = _file_server()
    _Files.files["/ok.jpg"] = make_image(seed=1350)
    port = srv.server_address[1]
    for host in ("127.0.0.2", "[::1]", "2130706434", "0x7f000002", "[::ffff:127.0.0.2]"):
        expect_error(cex.BadRequest, cloudinary.uploader.upload, "http://%s:%d/ok.jpg" % (host, port),
                     timeout=60, startswith="Error in loading", contains=["not allowed"])
    # An allowed host that redirects to a refused address must not be followed there.
    srv = _file_server()
    expect_error(cex.BadRequest, cloudinary.uploader.upload,
                 "http://127.0.0.1:%d/redirect" % srv.server_address[1], public_id=P + "/ssrf2", timeout=60,
                 startswith="Error in loading")


@step
def remote_url_timeout():
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    held = []
    stop = threading.Event()

    def hold():
        lsock.settimeout(0.5)
        while not stop.is_set():
            try:
                conn, _ = lsock.accept()
                held.append(conn)  # accept, read nothing, answer nothing
            except socket.timeout:
                pass
            except OSError:
                return

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    try:
        t0 = time.time()
        expect_error(cex.BadRequest, cloudinary.uploader.upload, "http://127.0.0.1:%d/slow.jpg"
                     % lsock.getsockname()[1], timeout=REMOTE_TIMEOUT + 60,
                     startswith="Error in loading", contains=["timed out"])
        took = time.time() - t0
        print("    refused after %.1f s (server timeout %d s)" % (took, REMOTE_TIMEOUT))
        check(took < REMOTE_TIMEOUT + 15, "took %.1f s for a %d s timeout" % (took, REMOTE_TIMEOUT))
    finally:
        stop.set()
        t.join(2)
        for c in held:
            c.close()
        lsock.close()


# --- error cases ------------------------------------------------------------------------------

@step
def error_missing_file():
    expect_error(cex.BadRequest, cloudinary.uploader.upload, None, startswith="Missing required parameter - file")


@step
def error_empty_file():
    expect_error(cex.BadRequest, cloudinary.uploader.upload, ("empty.jpg", b""), startswith="Empty file")


@step
def error_file_too_large():
    big = os.urandom(MAX_FILE_BYTES + 1)
    expect_error(cex.BadRequest, cloudinary.uploader.upload, ("big.bin", big), resource_type="raw",
                 public_id=P + "/big.bin", timeout=120, startswith="File size too large")


@step
def upload_at_size_limit():
    data = os.urandom(MAX_FILE_BYTES)
    r = cloudinary.uploader.upload(("limit.bin", data), resource_type="raw", public_id=P + "/limit.bin",
                                   timeout=120)
    eq(r.get("bytes"), MAX_FILE_BYTES, "bytes of a file exactly at the limit")
    cloudinary.uploader.destroy(P + "/limit.bin", resource_type="raw")


@step
def error_corrupt_image():
    expect_error(cex.BadRequest, cloudinary.uploader.upload, ("bad.jpg", b"this is not an image at all" * 4),
                 public_id=P + "/corrupt", startswith="Invalid image file")
    # A JPEG header followed by garbage is cut short: also refused or accepted, but never a 500.
    try:
        cloudinary.uploader.upload(("trunc.jpg", make_image(seed=1400)[:20]), public_id=P + "/trunc")
    except cex.BadRequest as e:
        print("    truncated JPEG refused: %s" % e)


@step
def error_unknown_resource_type():
    expect_error(cex.BadRequest, cloudinary.uploader.upload, ("a.jpg", make_image(seed=1500)),
                 resource_type="foo", contains=["resource type"])
    expect_error(cex.BadRequest, cloudinary.uploader.upload, ("a.jpg", make_image(seed=1500)),
                 resource_type="foo", startswith="Invalid resource type - foo")


@step
def error_invalid_public_id():
    img = make_image(seed=1600)
    expect_error(cex.BadRequest, cloudinary.uploader.upload, ("a.jpg", img), public_id="a/../b",
                 startswith="Invalid public_id")
    expect_error(cex.BadRequest, cloudinary.uploader.upload, ("a.jpg", img), public_id="../escape",
                 startswith="Invalid public_id")
    expect_error(cex.BadRequest, cloudinary.uploader.upload, ("a.jpg", img), public_id="/abs",
                 startswith="Invalid public_id")


@step
def error_bad_signature():
    expect_error(cex.AuthorizationRequired, cloudinary.uploader.upload, ("a.jpg", make_image(seed=1700)),
                 api_secret="wrong-secret", startswith="Invalid Signature")
    expect_error(cex.AuthorizationRequired, cloudinary.uploader.destroy, P + "/file_jpeg",
                 api_secret="wrong-secret", startswith="Invalid Signature")
    # Admin API with a wrong secret
    expect_error(cex.AuthorizationRequired, cloudinary.api.ping, api_secret="wrong-secret")


@step
def error_stale_timestamp():
    img = make_image(seed=1800)

    def hand_signed(ts, pid):
        params = {"timestamp": str(ts), "public_id": pid}
        params["signature"] = cloudinary.utils.api_sign_request(params, SECRET)
        params["api_key"] = KEY
        # unsigned=True: the SDK sends our params as they are, without signing again.
        return cloudinary.uploader.call_api("upload", params, unsigned=True, file=("s.jpg", img))

    ok = hand_signed(int(time.time()), P + "/handsigned")
    eq(ok.get("public_id"), P + "/handsigned", "hand-signed upload with a current timestamp")
    expect_error(cex.BadRequest, hand_signed, int(time.time()) - 7200, P + "/stale",
                 startswith="Stale request")
    # A signature dated ahead would stay valid until then: refused beyond the same window.
    expect_error(cex.BadRequest, hand_signed, int(time.time()) + 7200, P + "/ahead", contains=["ahead"])
    expect_error(cex.BadRequest, hand_signed, int(time.time()) + 365 * 86400, P + "/year", contains=["ahead"])


@step
def wire_details_the_clients_read():
    from cloudinary.search import Search
    folder = P + "/wire"
    r, _ = jpeg_upload(folder + "/a", seed=2300, asset_folder=folder + "-shelf",
                       eager=[{"crop": "scale", "width": 2.0}])
    eq(r["eager"][0]["transformation"], "c_scale,w_2.0", "eager transformation as given")
    eq(call_http("GET", r["eager"][0]["secure_url"]).status, 200, "eager URL as given")
    # Eager URLs speak the server's public URL, with the scheme and host of the original's.
    for key in ("url", "secure_url"):
        check(r["eager"][0][key].startswith(BASE + "/"), "eager %s not under %s: %r" % (key, BASE, r["eager"][0][key]))
        eq(r["eager"][0][key].split("/image/")[0], r[key].split("/image/")[0], "eager %s base" % key)
    jpeg_upload(folder + "/b", seed=2301, asset_folder=folder + "-shelf")
    listed = cloudinary.api.resources(prefix=folder + "/", type="upload", fields=["width", "tags"])
    eq(sorted(listed["resources"][0].keys()), ["asset_id", "folder", "public_id", "tags", "width"], "fields=")
    hits = Search().expression("folder=%s" % folder).fields(["width"]).execute()["resources"]
    for key in ("created_at", "status", "folder", "public_id", "asset_id", "width"):
        check(key in hits[0], "search hit with fields lacks %s: %r" % (key, sorted(hits[0])))
    by_folder = cloudinary.api.resources_by_asset_folder(folder + "-shelf", max_results=1)
    eq(by_folder.get("total_count"), 2, "resources_by_asset_folder total_count")
    name = "wire" + RUN
    cloudinary.api.create_transformation(name, {"crop": "scale", "width": 102})
    eq(cloudinary.api.transformation(name)["info"], [{"crop": "scale", "width": 102}], "info in long form")
    cloudinary.api.delete_transformation(name)
    # The eager transformation is listed, fetched by the text it was given, and can be allowed.
    listed = [t for t in cloudinary.api.transformations(max_results=500)["transformations"] if not t["named"]]
    check(any(t["name"] == "c_scale,w_2" and t["used"] for t in listed), "eager transformation not listed: %r" % listed)
    eq(cloudinary.api.transformation("c_scale,w_2.0")["info"], [{"crop": "scale", "width": 2}], "eager info")
    cloudinary.api.update_transformation("c_scale,w_2.0", allowed_for_strict=True)
    eq(cloudinary.api.transformation("c_scale,w_2")["allowed_for_strict"], True, "allowed_for_strict")
    expect_error(cex.NotFound, cloudinary.api.subfolders, folder + "-none", contains=["Can't find folder with path"])
    expect_error(cex.AuthorizationRequired, cloudinary.api.ping, oauth_token="not.a.token", contains=["Invalid token"])
    # What Nimbus does not do is refused by name, not answered with a 200.
    expect_error(cex.BadRequest, cloudinary.uploader.upload, write_tmp("n.jpg", make_image(seed=2302)),
                 moderation="manual", contains=["moderation"])
    expect_error(cex.BadRequest, cloudinary.api.delete_derived_by_transformation, [folder + "/a"], "c_scale,w_2.0",
                 contains=["transformations"])
    expect_error(cex.NotFound, cloudinary.api.restore, [folder + "/a"], contains=["Unknown API endpoint"])


class _Hooks(BaseHTTPRequestHandler):
    """A webhook receiver: keeps every POST (headers and raw body)."""
    got = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.lock:
            self.got.append(({k.lower(): v for k, v in self.headers.items()}, body, self.path))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def _hooks_for(path, count, timeout=30):
    """The notifications received at `path`, once there are `count` (or the time is up)."""
    deadline = time.time() + timeout
    while True:
        with _Hooks.lock:
            got = [(h, b) for (h, b, p) in _Hooks.got if p == path]
        if len(got) >= count or time.time() > deadline:
            return got
        time.sleep(0.1)


@step
def webhooks_signed_as_the_sdk_verifies():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hooks)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    try:
        hook = base + "/req" + RUN
        a = P + "/hook_a"
        up = cloudinary.uploader.upload(write_tmp("h.jpg", make_image(seed=2400)), public_id=a, notification_url=hook)
        cloudinary.uploader.add_tag("hooked", [a], notification_url=hook)
        cloudinary.uploader.rename(a, a + "_b", notification_url=hook)
        cloudinary.uploader.destroy(a + "_b", notification_url=hook)
        got = _hooks_for("/req" + RUN, 4)
        kinds = sorted(json.loads(b)["notification_type"] for _, b in got)
        eq(kinds, ["delete", "rename", "resource_tags_changed", "upload"], "notification types")
        for headers, body in got:
            text = body.decode()
            ok = cloudinary.utils.verify_notification_signature(
                text, headers["x-cld-timestamp"], headers["x-cld-signature"])
            check(ok, "signature refused by the SDK: %r" % text[:200])
            check(not cloudinary.utils.verify_notification_signature(
                text + " ", headers["x-cld-timestamp"], headers["x-cld-signature"]), "a changed body still verifies")
        upload = [json.loads(b) for _, b in got if json.loads(b)["notification_type"] == "upload"][0]
        eq(upload["asset_id"], up["asset_id"], "upload notification asset_id")

        # Triggers: every upload of the environment, with no notification_url on the call.
        trig = base + "/trig" + RUN
        t = cloudinary.api.create_trigger(trig, "upload")
        eq((t["uri"], t["event_type"], t["uri_type"]), (trig, "upload", "webhook"), "created trigger")
        check(any(x["id"] == t["id"] for x in cloudinary.api.triggers()["triggers"]), "trigger listed")
        expect_error(cex.BadRequest, cloudinary.api.create_trigger, "http://10.0.0.1/x", "upload")
        cloudinary.uploader.upload(write_tmp("t.jpg", make_image(seed=2401)), public_id=P + "/hook_t",
                                   eager="c_scale,w_10", eager_async=True, eager_notification_url=hook + "/eager")
        got = _hooks_for("/trig" + RUN, 1)
        eq(len(got), 1, "trigger notifications")
        check(cloudinary.utils.verify_notification_signature(
            got[0][1].decode(), got[0][0]["x-cld-timestamp"], got[0][0]["x-cld-signature"]), "trigger signature")
        eager = _hooks_for("/req%s/eager" % RUN, 1)
        eq(len(eager), 1, "eager notifications")
        e = json.loads(eager[0][1])
        eq((e["notification_type"], e["eager"][0]["width"]), ("eager", 10), "eager notification")
        cloudinary.api.update_trigger(t["id"], trig + "/moved")
        cloudinary.api.delete_trigger(t["id"])
        check(all(x["id"] != t["id"] for x in cloudinary.api.triggers()["triggers"]), "trigger deleted")
    finally:
        srv.shutdown()


@step
def security_unsigned_uploads_are_bounded():
    """A stranger with only the unsigned preset name of a site's upload widget."""
    name = "widget" + RUN
    folder = P + "/widget"
    cloudinary.api.create_upload_preset(name=name, unsigned=True, folder=folder)
    logo = make_image(seed=2100)
    r = cloudinary.uploader.upload(write_tmp("logo.jpg", logo), public_id=folder + "/logo")
    etag, version = r.get("etag"), r.get("version")
    evil = make_image(seed=2101)
    # Overwrite, a type, eager work and incoming transformations are not the stranger's to ask.
    for opts, named in (({"overwrite": True}, "Overwrite"), ({"type": "private"}, "Type"),
                        ({"eager": [{"width": 4000, "height": 4000, "crop": "scale"}]}, "Eager"),
                        ({"transformation": {"width": 4000, "crop": "scale"}}, "Transformation")):
        expect_error(cex.BadRequest, cloudinary.uploader.unsigned_upload, write_tmp("e.jpg", evil), name,
                     public_id="logo", startswith=named + " parameter is not allowed when using unsigned upload",
                     **opts)
    # The same id without asking: the existing asset is answered, and stays as it was.
    up = cloudinary.uploader.unsigned_upload(write_tmp("e.jpg", evil), name, public_id="logo", folder="elsewhere")
    eq(up.get("public_id"), folder + "/logo", "the preset's folder wins over the request's")
    eq(up.get("existing"), True, "existing")
    got = cloudinary.api.resource(folder + "/logo")
    eq((got.get("etag"), got.get("version")), (etag, version), "the stored asset after a stranger's upload")
    expect_error(cex.NotFound, cloudinary.api.resource, "elsewhere/logo")
    # disallow_public_id and allowed_formats in the preset bind the stranger.
    strict = "strict" + RUN
    cloudinary.api.create_upload_preset(name=strict, unsigned=True, folder=folder, disallow_public_id=True,
                                        allowed_formats="png")
    expect_error(cex.BadRequest, cloudinary.uploader.unsigned_upload, write_tmp("e.png", make_image("PNG", seed=1)),
                 strict, public_id="chosen", contains=["disallow_public_id"])
    expect_error(cex.BadRequest, cloudinary.uploader.unsigned_upload, write_tmp("e.jpg", evil), strict,
                 contains=["format jpg not allowed"])
    ok = cloudinary.uploader.unsigned_upload(write_tmp("e.png", make_image("PNG", seed=2)), strict)
    check(ok.get("public_id", "").startswith(folder + "/"), "strict preset upload: %r" % ok.get("public_id"))
    cloudinary.api.delete_upload_preset(name)
    cloudinary.api.delete_upload_preset(strict)


@step
def security_delivery_runs_no_script():
    page = b"<html><body><script>fetch('/v1_1/')</script></body></html>"
    r = cloudinary.uploader.upload(write_tmp("page.html", page), resource_type="raw", public_id=P + "/page.html")
    got = call_http("GET", r["secure_url"])
    eq(got.status, 200, "raw html delivery status")
    eq(got.headers.get("Content-Type"), "application/octet-stream", "raw html content type")
    check((got.headers.get("Content-Disposition") or "").startswith("attachment;"),
          "raw html is not an attachment: %r" % got.headers.get("Content-Disposition"))
    eq(got.headers.get("X-Content-Type-Options"), "nosniff", "nosniff")
    check("sandbox" in (got.headers.get("Content-Security-Policy") or ""), "no sandboxing CSP")
    eq(got.body, page, "raw bytes")
    img, _ = jpeg_upload(P + "/inline", seed=2200)
    got = call_http("GET", img["secure_url"])
    eq((got.headers.get("Content-Type"), got.headers.get("Content-Disposition")), ("image/jpeg", None),
       "images stay inline")
    eq(got.headers.get("X-Content-Type-Options"), "nosniff", "nosniff on images")
    # An upload asking for restricted access is refused, never stored public.
    expect_error(cex.BadRequest, cloudinary.uploader.upload, write_tmp("a.jpg", make_image(seed=2201)),
                 public_id=P + "/restricted", access_control=[{"access_type": "anonymous", "start": "2030-01-01T00:00:00Z"}],
                 contains=["access_control"])
    expect_error(cex.NotFound, cloudinary.api.resource, P + "/restricted")


@step
def error_unknown_api_key():
    expect_error(cex.AuthorizationRequired, cloudinary.uploader.upload, ("a.jpg", make_image(seed=1900)),
                 api_key="999999999999999", startswith="Unknown API key 999999999999999")
    expect_error(cex.AuthorizationRequired, cloudinary.api.ping, api_key="999999999999999")


@step
def error_revoked_key():
    need(REVOKED_KEY, REVOKED_SECRET)
    expect_error(cex.AuthorizationRequired, cloudinary.uploader.upload, ("a.jpg", make_image(seed=2000)),
                 api_key=REVOKED_KEY, api_secret=REVOKED_SECRET, contains=["revoked"])
    expect_error(cex.AuthorizationRequired, cloudinary.api.resources, api_key=REVOKED_KEY,
                 api_secret=REVOKED_SECRET)


@step
def error_unknown_cloud_name():
    expect_error(cex.AuthorizationRequired, cloudinary.uploader.upload, ("a.jpg", make_image(seed=2100)),
                 cloud_name="nosuchcloud" + RUN, startswith="Invalid cloud_name nosuchcloud" + RUN)
    expect_error(cex.AuthorizationRequired, cloudinary.api.ping, cloud_name="nosuchcloud" + RUN,
                 contains=["Invalid cloud_name"])


@step
def environment_isolation():
    need(OTHER_CLOUD, OTHER_KEY, OTHER_SECRET)
    mine, data = jpeg_upload(P + "/isolated", seed=2200)
    pid = mine["public_id"]
    other = dict(cloud_name=OTHER_CLOUD, api_key=OTHER_KEY, api_secret=OTHER_SECRET)
    other_key_here = dict(cloud_name=CLOUD, api_key=OTHER_KEY, api_secret=OTHER_SECRET)
    my_key_there = dict(cloud_name=OTHER_CLOUD, api_key=KEY, api_secret=SECRET)

    # The other environment works with its own credentials and sees nothing of ours.
    eq(cloudinary.api.ping(**other).get("status"), "ok", "ping of the other environment")
    theirs = cloudinary.uploader.upload(("t.jpg", make_image(seed=2201)), public_id=P + "/theirs", **other)
    eq(theirs.get("url"), delivery_url("image", "upload", theirs["version"], P + "/theirs", "jpg",
                                       cloud=OTHER_CLOUD), "url of an asset of the other environment")
    ids, _ = list_all(cloudinary.api.resources, type="upload", prefix=P, max_results=100, **other)
    eq(ids, [P + "/theirs"], "other environment's listing of our prefix")
    expect_error(cex.NotFound, cloudinary.api.resource, pid, **other)
    eq(result_of(cloudinary.uploader.destroy(pid, **other)), "not found", "destroy of our asset from there")
    eq(call_http("GET", delivery_url("image", "upload", mine["version"], pid, "jpg", cloud=OTHER_CLOUD)).status,
       404, "our asset under the other cloud's delivery path")

    # Its key cannot act on our cloud.
    expect_error(cex.AuthorizationRequired, cloudinary.api.resource, pid, **other_key_here)
    expect_error(cex.AuthorizationRequired, cloudinary.api.resources, **other_key_here)
    expect_error(cex.AuthorizationRequired, cloudinary.api.delete_resources, [pid], **other_key_here)
    expect_error(cex.AuthorizationRequired, cloudinary.uploader.destroy, pid,
                 startswith="Unknown API key " + OTHER_KEY, **other_key_here)
    expect_error(cex.AuthorizationRequired, cloudinary.uploader.upload, ("a.jpg", data),
                 startswith="Unknown API key " + OTHER_KEY, **other_key_here)

    # Our key cannot act on the other cloud.
    expect_error(cex.AuthorizationRequired, cloudinary.api.resources, **my_key_there)
    expect_error(cex.AuthorizationRequired, cloudinary.api.resource, P + "/theirs", **my_key_there)
    expect_error(cex.AuthorizationRequired, cloudinary.uploader.upload, ("a.jpg", data),
                 startswith="Unknown API key " + KEY, **my_key_there)
    expect_error(cex.AuthorizationRequired, cloudinary.uploader.destroy, P + "/theirs",
                 startswith="Unknown API key " + KEY, **my_key_there)

    # Nothing was lost on either side.
    eq(cloudinary.api.resource(pid).get("public_id"), pid, "our asset still there")
    got = call_http("GET", mine["url"])
    check(got.status == 200 and got.body == data, "our asset still downloads")
    eq(cloudinary.api.resource(P + "/theirs", **other).get("public_id"), P + "/theirs", "theirs still there")
    eq(result_of(cloudinary.uploader.destroy(P + "/theirs", **other)), "ok", "cleanup in the other cloud")


@step
def error_malformed_multipart():
    url = "%s/v1_1/%s/image/upload" % (BASE, CLOUD)
    body = (b"--someOtherBoundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n"
            b"\xff\xd8\xff garbage without a closing boundary")
    for ctype in ("multipart/form-data; boundary=nimbusBogusBoundary", "multipart/form-data"):
        res = call_http("POST", url, body, {"Content-Type": ctype})
        eq(res.status, 400, "status for %r (%r)" % (ctype, res))
        try:
            msg = res.json()["error"]["message"]
        except Exception:
            raise AssertionError("error body is not {\"error\":{\"message\":...}}: %r" % res)
        check("multipart" in msg.lower(), "message %r does not mention multipart" % msg)
        print("    %s -> 400 %s" % (ctype, msg))


@step
def error_admin_not_found():
    expect_error(cex.NotFound, cloudinary.api.resource, P + "/never-uploaded",
                 contains=["Resource not found"])
    expect_error(cex.NotFound, cloudinary.api.resource_by_asset_id, "0" * 32)


@step
def upload_large_chunked():
    data = os.urandom(30000)
    r = cloudinary.uploader.upload_large(write_tmp("big.bin", data), resource_type="raw",
                                         public_id=P + "/chunked.bin", chunk_size=12000)
    eq(r.get("public_id"), P + "/chunked.bin", "public_id")
    eq(r.get("bytes"), len(data), "bytes")
    got = call_http("GET", r["url"])
    check(got.status == 200 and got.body == data, "chunked upload download differs (%r)" % got)
    eq(r.get("original_filename"), "big", "original_filename of a chunked upload")
    # Without a public_id, a raw file keeps its extension, in several chunks as in one.
    r = cloudinary.uploader.upload_large(write_tmp("big.bin", data), resource_type="raw", chunk_size=12000)
    check(r.get("public_id", "").endswith(".bin"), "generated raw public_id without extension: %r" % r.get("public_id"))
    eq(call_http("GET", r["url"]).body, data, "generated chunked upload bytes")
    # use_filename names a chunked upload as it names a one-request upload.
    r = cloudinary.uploader.upload_large(write_tmp("named.bin", data), resource_type="raw", chunk_size=12000,
                                         use_filename=True, unique_filename=False, folder=P + "/chunks")
    eq(r.get("public_id"), P + "/chunks/named.bin", "chunked upload with use_filename")


# ---------------------------------------------------------------------------------------------

@step
def image_metadata_from_exif():
    from cloudinary.search import Search
    img = Image.new("RGB", (48, 32), (90, 140, 200))
    exif = Image.Exif()
    exif[0x010F] = "NimbusCam"   # Make
    exif[0x0110] = "Model %s" % RUN  # Model
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    pid = "%s/exif/cam" % P
    r = cloudinary.uploader.upload(write_tmp("cam.jpg", buf.getvalue()), public_id=pid, image_metadata=True,
                                   tags=["exif" + RUN])
    eq((r.get("image_metadata") or {}).get("Make"), "NimbusCam", "upload image_metadata: %r" % r.get("image_metadata"))
    check("image_metadata" not in cloudinary.uploader.upload(write_tmp("cam.jpg", buf.getvalue()),
                                                              public_id=pid + "2"), "image_metadata only when asked")
    r = cloudinary.api.resource(pid, image_metadata=True)
    eq(r["image_metadata"].get("Model"), "Model %s" % RUN, "Admin API image_metadata")
    check("image_metadata" not in cloudinary.api.resource(pid), "Admin API image_metadata only when asked")
    r = Search().expression("tags=exif%s" % RUN).with_field("image_metadata").execute()
    eq([x["image_metadata"].get("Make") for x in r["resources"]], ["NimbusCam"], "search with_field image_metadata")
    # Derived images do not carry it.
    url = cloudinary.CloudinaryImage(pid).build_url(width=20, crop="scale")
    res = call_http("GET", url)
    eq(res.status, 200, "derived image")
    check(b"NimbusCam" not in res.body, "EXIF is stripped from derived images")


@step
def search_expressions_sort_pages_aggregations():
    from cloudinary.search import Search
    tag = "srch" + RUN
    rating = "rating" + RUN
    cloudinary.api.add_metadata_field({"external_id": rating, "label": "Rating " + RUN, "type": "integer"})
    made = {}
    for i, (name, fmt, extra_tag) in enumerate((("red_shoe", "JPEG", "summer"), ("blue_shoe", "PNG", "winter"),
                                                 ("red_hat", "JPEG", "summer"), ("green_scarf", "PNG", "winter"))):
        data = make_image(fmt, size=(40 + 10 * i, 30), seed=i)
        ext = "jpg" if fmt == "JPEG" else "png"
        r = cloudinary.uploader.upload(write_tmp("s.%s" % ext, data), public_id="%s/search/%s" % (P, name),
                                       tags=[tag, extra_tag], context={"alt": name.replace("_", " ") + " photo"},
                                       metadata={rating: i + 1})
        made[name] = r
    def ids(res):
        return sorted(x["public_id"].rsplit("/", 1)[1] for x in res["resources"])
    r = Search().expression("tags=%s AND tags:summer" % tag).with_field("tags").execute()
    eq(ids(r), ["red_hat", "red_shoe"], "tags expression")
    eq(r["total_count"], 2, "total_count")
    check(all(tag in x["tags"] for x in r["resources"]), "with_field tags: %r" % r["resources"])
    check(isinstance(r.get("time"), int), "time is reported")
    r = Search().expression("tags=%s AND format:png" % tag).execute()
    eq(ids(r), ["blue_shoe", "green_scarf"], "format")
    check("tags" not in r["resources"][0], "tags only when asked")
    r = Search().expression("tags=%s AND context.alt:\"red photo\"" % tag).with_field("context").execute()
    eq(ids(r), ["red_hat", "red_shoe"], "context words")
    eq(r["resources"][0]["context"]["alt"].endswith("photo"), True, "with_field context")
    r = Search().expression("tags=%s AND metadata.%s>=3" % (tag, rating)).with_field("metadata").execute()
    eq(ids(r), ["green_scarf", "red_hat"], "metadata number")
    eq(r["resources"][0]["metadata"].get(rating) in (3, 4), True, "with_field metadata")
    r = Search().expression("tags=%s AND -shoe AND width>=60" % tag).execute()
    eq(ids(r), ["green_scarf", "red_hat"], "negated bare term and width")
    r = Search().expression("tags=%s AND (public_id:%s/search/red* OR filename:scarf) AND uploaded_at>1d" % (tag, P)).execute()
    eq(ids(r), ["green_scarf", "red_hat", "red_shoe"], "prefix, filename words, relative date")
    # Sort and pages: every asset once, in order.
    seen = []
    cursor = None
    while True:
        q = Search().expression("tags=%s" % tag).sort_by("public_id", "asc").max_results(3)
        if cursor:
            q = q.next_cursor(cursor)
        r = q.execute()
        seen += [x["public_id"].rsplit("/", 1)[1] for x in r["resources"]]
        eq(r["total_count"], 4, "total_count on every page")
        cursor = r.get("next_cursor")
        if not cursor:
            break
    eq(seen, ["blue_shoe", "green_scarf", "red_hat", "red_shoe"], "pages sorted by public_id")
    # Signed search URLs (Search.to_url): the same answer over plain GET, cacheable for the TTL.
    url = Search().expression("tags=%s" % tag).sort_by("public_id", "asc").max_results(3).to_url(ttl=120)
    check("/%s/search/" % CLOUD in url, "search URL shape: %s" % url)
    res = call_http("GET", url)
    eq(res.status, 200, "search URL answers: %r" % res)
    body = res.json()
    eq([x["public_id"].rsplit("/", 1)[1] for x in body["resources"]], ["blue_shoe", "green_scarf", "red_hat"], "search URL page")
    eq(body["total_count"], 4, "search URL total")
    check("max-age=120" in (res.headers.get("Cache-Control") or ""), "search URL cache TTL: %r" % res.headers.get("Cache-Control"))
    nxt = Search().expression("tags=%s" % tag).sort_by("public_id", "asc").max_results(3).to_url(ttl=120, next_cursor=body["next_cursor"])
    eq([x["public_id"].rsplit("/", 1)[1] for x in call_http("GET", nxt).json()["resources"]], ["red_shoe"], "search URL next page")
    forged = url.replace("/search/", "/search/0", 1)
    eq(call_http("GET", forged).status, 401, "a forged search URL signature")
    r = Search().expression("tags=%s" % tag).sort_by("bytes", "desc").sort_by("public_id").execute()
    sizes = [x["bytes"] for x in r["resources"]]
    eq(sizes, sorted(sizes, reverse=True), "sorted by bytes, descending")
    r = Search().expression("tags=%s" % tag).aggregate("format").aggregate("tags").max_results(1).execute()
    eq(r["aggregations"]["format"], {"jpg": 2, "png": 2}, "format aggregation")
    eq(r["aggregations"]["tags"].get("summer"), 2, "tags aggregation")
    r = Search().expression("tags=%s" % tag).aggregate("bytes").aggregate("duration").max_results(1).execute()
    eq(sum(r["aggregations"]["bytes"].values()), 4, "bytes ranges count every match: %r" % r["aggregations"])
    eq(sorted(r["aggregations"]["duration"]), ["long", "medium", "short"], "duration ranges (no media durations yet)")
    r = Search().expression("tags=%s" % tag).fields(["public_id", "bytes"]).execute()
    keys = set(r["resources"][0])
    check("bytes" in keys and "url" not in keys and "width" not in keys, "fields restricts: %r" % keys)
    expect_error(cex.BadRequest, Search().expression("tags:(summer").execute, contains=("missing ')'",))
    expect_error(cex.BadRequest, Search().expression("colour:red").execute, contains=("unknown field 'colour'",))
    expect_error(cex.BadRequest, Search().expression("bytes>big").execute, contains=("not a number",))
    from cloudinary.search_folders import SearchFolders
    cloudinary.api.create_folder("%s/search/sub" % P)
    r = SearchFolders().expression("path:%s/search/*" % P).max_results(5).execute()
    eq(sorted(f["path"] for f in r["folders"]), ["%s/search" % P, "%s/search/sub" % P], "folder search by path")
    eq(r["total_count"], 2, "folder total_count")
    r = SearchFolders().expression("name=sub AND path:%s/*" % P).execute()
    names = [f["name"] for f in r["folders"]]
    paths = [f["path"] for f in r["folders"]]
    check("%s/search/sub" % P in paths and set(names) == {"sub"}, "folder search by name: %r" % paths)


def main(argv):
    if "--list" in argv:
        for s in STEPS:
            print(s.__name__)
        return 0
    if not (BASE and CLOUD and KEY and SECRET):
        print("NIMBUS_BASE_URL, NIMBUS_TEST_CLOUD, NIMBUS_TEST_KEY and NIMBUS_TEST_SECRET must be set")
        return 2
    selected = [s for s in STEPS if not argv or s.__name__ in argv]
    configure()
    print("Python SDK %s against %s (cloud %s, run id %s)" % (cloudinary.VERSION, BASE, CLOUD, RUN))
    results = []
    for s in selected:
        print("--- %s" % s.__name__, flush=True)
        t0 = time.time()
        try:
            configure()
            s()
            ok, err = True, None
        except Exception as e:  # report and go on
            ok, err = False, e
            print("    %s: %s" % (type(e).__name__, e))
            tb = traceback.extract_tb(e.__traceback__)
            here = [f for f in tb if f.filename == __file__ and f.name == s.__name__]
            if here:
                print("    at scenario.py line %d: %s" % (here[-1].lineno, here[-1].line))
        print("%s %s (%.1fs)" % ("PASS" if ok else "FAIL", s.__name__, time.time() - t0), flush=True)
        results.append((s.__name__, ok, err))
    if STATE.get("file_server"):
        STATE["file_server"].shutdown()
    shutil.rmtree(TMP, ignore_errors=True)
    failed = [r for r in results if not r[1]]
    print()
    print("Python SDK scenario summary:")
    for name, ok, err in results:
        print("  %s %s%s" % ("PASS" if ok else "FAIL", name, "" if ok else " - %s" % str(err)[:300]))
    print("%d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
