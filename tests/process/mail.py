#!/usr/bin/env python3
"""Mail to console users through a real SMTP server: Python's own `smtpd` (its debugging
server prints each message it receives). A password reset asked on the console's form must
arrive there with its one-time link, and the link must not be in the server's log.

Usage: mail.py PATH_TO_NIMBUS. Exit code 0 when every check passed.
"""
import ast
import email
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

failures = []


def check(ok, what):
    print(("PASS " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, what):
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen")


def received(debug_output):
    """The last message the debugging server printed (each line as a bytes literal)."""
    blocks = debug_output.split("---------- MESSAGE FOLLOWS ----------")
    if len(blocks) < 2:
        return None
    lines = blocks[-1].split("------------ END MESSAGE ------------")[0].strip().splitlines()
    raw = b"\r\n".join(ast.literal_eval(line) for line in lines if line.startswith("b'") or line.startswith('b"'))
    return email.message_from_bytes(raw)


def wait_ready(port, proc):
    """The port is bound before the catalog is ready: wait until the server answers /readyz."""
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("nimbus exited")
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                    f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("nimbus did not become ready")


def main():
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="nimbus-mail-") as data:
        smtp_port, port = free_port(), free_port()
        smtp_out = open(os.path.join(data, "smtp.out"), "w+")
        smtp = subprocess.Popen([sys.executable, "-W", "ignore", "-u", "-m", "smtpd", "-n", "-c", "DebuggingServer",
                                 f"127.0.0.1:{smtp_port}"], stdout=smtp_out, stderr=subprocess.STDOUT)
        log = open(os.path.join(data, "server.log"), "w+")
        env = dict(os.environ, CLOUDINARY_URL="cloudinary://123456789012345:mail-secret@mailtest", NIMBUS_LOG="info",
                   NO_PROXY="127.0.0.1")
        server = None
        try:
            wait_port(smtp_port, smtp, "the SMTP server")
            server = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data,
                                       "--smtp-url", f"smtp://127.0.0.1:{smtp_port}",
                                       "--mail-from", "Nimbus <nimbus@mail.test>"],
                                      env=env, stdout=log, stderr=log)
            wait_port(port, server, "nimbus")
            wait_ready(port, server)
            # The environment comes from the first start; the user is created once it exists.
            subprocess.run([binary, "admin", "user", "create", "ada@example.org", "--role", "owner", "--cloud", "mailtest",
                            "--password-stdin", "--data-dir", data], input="a long password\n", text=True, check=True)
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar))
            page = opener.open(f"http://127.0.0.1:{port}/console/reset", timeout=10).read().decode()
            csrf = re.search(r'name="csrf" value="([a-z0-9]+)"', page).group(1)
            body = urllib.parse.urlencode({"csrf": csrf, "email": "ada@example.org"}).encode()
            status = opener.open(f"http://127.0.0.1:{port}/console/reset", data=body, timeout=30).status
            check(status == 200, f"the reset form answers 200 ({status})")
            deadline = time.time() + 10
            text = ""
            while time.time() < deadline and "END MESSAGE" not in text:
                time.sleep(0.2)
                smtp_out.seek(0)
                text = smtp_out.read()
            message = received(text)
            decoded = message.get_payload(decode=True).decode() if message else ""
            link = re.search(r"(http://127\.0\.0\.1:\d+/console/reset/[a-z0-9]+)", decoded)
            check(link is not None, "the SMTP server received the reset link")
            check(message is not None and message["Subject"] == "Reset your Nimbus password"
                  and message["To"] == "ada@example.org" and message["From"] == "Nimbus <nimbus@mail.test>",
                  "with its subject, recipient and sender")
            log.flush()
            log.seek(0)
            server_log = log.read()
            check(link is not None and link.group(1) not in server_log, "the link is not in the server's log")
            check("ada@example.org" not in server_log, "nor the address")
            check("mail sent" in server_log, "the server logs that mail went out")
            if link:
                form = opener.open(link.group(1), timeout=10)
                check(form.status == 200, "the mailed link opens its form")
        finally:
            for p in (server, smtp):
                if p and p.poll() is None:
                    p.terminate()
                    p.wait(timeout=10)
    print(f"ok: {len(failures)} failure(s)" if not failures else f"FAILED: {len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
