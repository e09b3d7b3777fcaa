"""Uploads N small PNGs (each different) through the Upload API with 8 clients, Basic auth."""
import base64
import concurrent.futures
import struct
import sys
import time
import urllib.request
import zlib

base, cloud, key, secret, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def png(seed: int) -> bytes:
    w, h = 64, 48
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        for x in range(w):
            raw += bytes(((x * 4 + seed) % 256, (y * 5 + seed // 7) % 256, (seed * 3) % 256))
    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")


def upload(i: int) -> None:
    boundary = "nimbus-bench-boundary"
    fields = {"public_id": f"lib/img_{i:06d}", "tags": f"t{i % 50}", "asset_folder": f"f{i % 20}"}
    body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode() for k, v in fields.items())
    body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"i.png\"\r\n\r\n".encode() + png(i) + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{base}/v1_1/{cloud}/image/upload", data=body, method="POST",
                                 headers={"Authorization": auth, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with opener.open(req, timeout=60) as r:
        r.read()


start = time.time()
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(upload, range(n)))
secs = time.time() - start
print(f"loaded {n} assets through the Upload API in {secs:.1f} s ({n / secs:.0f} uploads/s)")
