"""``pbk serve DOMAIN`` end to end: certificates from a real ACME server (pebble) validated over
http-01 on pbk's HTTP listener, served over HTTPS, cached as autocert caches them, renewed."""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from pbk_sdk.testing.pocketbase import pocketbase_binary
from pbk_sdk.testing.servers import LiveServer, free_port, start_live_server
from pebble_server import BLOCKED_DOMAIN, Pebble, certificate, key_pem, pem

DOMAIN = "pbk.example.test"
READY_SECONDS = 30.0
pytestmark = pytest.mark.slow


def wait_until(server: LiveServer, condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until true; fail with the server's output if it dies or time runs out."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"{server.args[0]} exited with {server.process.returncode}:\n{server.output()}")
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not in {READY_SECONDS}s: {what}\n{server.output()}")


def presented_certificate(port: int, name: str | None = DOMAIN, *, trusting: str | None = None) -> x509.Certificate | None:
    """The certificate 127.0.0.1:``port`` presents for ``name`` (None: no SNI); None when the
    handshake fails (or, ``trusting`` a root, when the certificate does not chain to it)."""
    context = ssl.create_default_context(cadata=trusting) if trusting else ssl.create_default_context()
    if not trusting:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock, \
                context.wrap_socket(sock, server_hostname=name) as tls:
            der = tls.getpeercert(binary_form=True)
    except (ssl.SSLError, OSError):
        return None
    return x509.load_der_x509_certificate(der) if der else None


class TlsServer:
    """``pbk serve DOMAIN...`` with pebble as its CA: HTTP on pebble's validation port."""

    def __init__(self, data_dir: Path, pebble: Pebble, *domains: str, workers: int = 1,
                 env: dict[str, str] | None = None) -> None:
        self.pebble = pebble
        self.https_port = free_port()
        self.http_url = f"http://127.0.0.1:{pebble.http_port}"
        command = [sys.executable, "-m", "pbk", "serve", *(domains or (DOMAIN,)), "--dir", str(data_dir),
                   "--http", f"127.0.0.1:{pebble.http_port}", "--https", f"127.0.0.1:{self.https_port}",
                   "--workers", str(workers), "--plugins", "autotls"]
        log_path = data_dir.parent / f"pbk-tls-{self.https_port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env={**os.environ, **pebble.env(), **(env or {})})
        self.server = LiveServer(process, f"https://127.0.0.1:{self.https_port}", data_dir, log_path, command)
        self.until(lambda: self._http_answers(), "the HTTP listener answers")

    def until(self, condition: Callable[[], bool], what: str) -> None:
        try:
            wait_until(self.server, condition, what)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\npebble:\n{self.pebble.log_path.read_text()}") from None

    def _http_answers(self) -> bool:
        try:
            return httpx.get(f"{self.http_url}/", headers={"Host": DOMAIN}).status_code == 302
        except httpx.TransportError:
            return False

    def served_certificate(self, name: str | None = DOMAIN, *, trusting: str | None = None) -> x509.Certificate | None:
        return presented_certificate(self.https_port, name, trusting=trusting)

    def wait_for_certificate(self, name: str = DOMAIN) -> x509.Certificate:
        """The certificate served for ``name`` once it is one pebble issued."""
        root = self.pebble.issuing_root()
        found: list[x509.Certificate] = []

        def served() -> bool:
            cert = self.served_certificate(name, trusting=root)
            found.extend([cert] if cert else [])
            return bool(found)

        self.until(served, f"a certificate for {name} from pebble")
        return found[0]

    def https(self, path: str, name: str = DOMAIN) -> httpx.Response:
        """GET ``path`` over HTTPS for ``name``, trusting only pebble's issuing root."""
        context = ssl.create_default_context(cadata=self.pebble.issuing_root())
        with httpx.Client(verify=context) as client:
            return client.get(f"https://127.0.0.1:{self.https_port}{path}", headers={"Host": name},
                              extensions={"sni_hostname": name})

    def stop(self) -> int:
        return self.server.stop()

    def output(self) -> str:
        return self.server.output()


def cache_dir(data_dir: Path) -> Path:
    return data_dir / ".autocert_cache"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "pb_data"


@pytest.fixture
def serve(data_dir: Path, pebble: Pebble):
    servers: list[TlsServer] = []

    def start(*domains: str, workers: int = 1, env: dict[str, str] | None = None) -> TlsServer:
        server = TlsServer(data_dir, pebble, *domains, workers=workers, env=env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_certificate_obtained_from_pebble_and_served(serve, data_dir, pebble):
    server = serve()
    server.wait_for_certificate()
    response = server.https("/api/health")
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "API is healthy."
    assert pebble.issued() == 1
    # autocert's cache: the key, then the chain, in a file named after the domain.
    entry = (cache_dir(data_dir) / DOMAIN).read_bytes()
    assert entry.startswith(b"-----BEGIN EC PRIVATE KEY-----\n")
    assert entry.count(b"-----BEGIN CERTIFICATE-----") >= 2
    account = (cache_dir(data_dir) / "acme_account+key").read_bytes()
    assert account.startswith(b"-----BEGIN EC PRIVATE KEY-----\n")
    assert sorted(p.name for p in cache_dir(data_dir).iterdir()) == ["acme_account+key", DOMAIN]
    assert oct(cache_dir(data_dir).stat().st_mode & 0o777) == "0o700"
    assert oct((cache_dir(data_dir) / DOMAIN).stat().st_mode & 0o777) == "0o600"


#: Requests to the HTTP listener that PocketBase and pbk must answer alike (method, path, Host).
HTTP_LISTENER_REQUESTS = [
    ("GET", "/api/health?x=1", DOMAIN),
    ("GET", "/a%20b/?q=<i>&r", DOMAIN),
    ("GET", "/", f"{DOMAIN}:8080"),
    ("GET", "/", f"www.{DOMAIN}"),
    ("HEAD", "/x", DOMAIN),
    ("POST", "/api/health", DOMAIN),
    ("DELETE", "/", "other.test"),
    ("GET", "/.well-known/acme-challenge/unknown", DOMAIN),
    ("GET", "/.well-known/acme-challenge/unknown", "other.test"),
]


def test_http_listener_answers_as_pocketbase(serve, tmp_path):
    pbk = serve()
    http_port = free_port()
    log_path = tmp_path / "pocketbase.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [pocketbase_binary(), "serve", DOMAIN, "--dir", str(tmp_path / "pocketbase_data"),
             "--http", f"127.0.0.1:{http_port}", "--https", f"127.0.0.1:{free_port()}"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    pocketbase = LiveServer(process, f"http://127.0.0.1:{http_port}", tmp_path, log_path, ["pocketbase"])

    def answers(base: str) -> list[tuple[int, str | None, str | None, str]]:
        with httpx.Client(base_url=base) as client:
            return [
                (r.status_code, r.headers.get("location"), r.headers.get("content-type"), r.text)
                for method, path, host in HTTP_LISTENER_REQUESTS
                for r in [client.request(method, path, headers={"Host": host})]
            ]

    try:
        wait_until(pocketbase, lambda: _answers_http(pocketbase.url), "PocketBase's HTTP listener")
        assert answers(pbk.http_url) == answers(pocketbase.url)
    finally:
        pocketbase.stop()
    found = httpx.get(f"{pbk.http_url}/api/health?x=1", headers={"Host": DOMAIN})
    assert (found.status_code, found.headers["location"]) == (302, f"https://{DOMAIN}/api/health?x=1")
    assert found.text == f'<a href="https://{DOMAIN}/api/health?x=1">Found</a>.\n\n'
    refused = httpx.post(f"{pbk.http_url}/api/health", headers={"Host": DOMAIN})
    assert (refused.status_code, refused.text) == (400, "Use HTTPS\n")


def _answers_http(url: str) -> bool:
    try:
        httpx.get(url)
    except httpx.TransportError:
        return False
    return True


def test_challenge_path_answered_on_http(serve, data_dir):
    server = serve()
    challenge = f"{server.http_url}/.well-known/acme-challenge/"
    missing = httpx.get(challenge + "no-such-token", headers={"Host": DOMAIN})
    assert (missing.status_code, missing.text) == (404, "acme/autocert: certificate cache miss\n")
    other = httpx.get(challenge + "token", headers={"Host": "other.test"})
    assert (other.status_code, other.text) == (
        403, 'acme/autocert: host "other.test" not configured in HostWhitelist\n'
    )
    # An answer put in the cache (as the leader does, or PocketBase) is given by every worker.
    cache_dir(data_dir).mkdir(mode=0o700, exist_ok=True)  # the order may not have made it yet
    (cache_dir(data_dir) / "tok-EN_1+http-01").write_text("tok-EN_1.thumbprint")
    answered = httpx.get(challenge + "tok-EN_1", headers={"Host": DOMAIN})
    assert (answered.status_code, answered.text) == (200, "tok-EN_1.thumbprint")
    # A file outside the cache, named as an answer would be, is not given.
    (data_dir / "outside+http-01").write_text("secret")
    outside = httpx.get(challenge + "..%2Foutside", headers={"Host": DOMAIN})
    assert (outside.status_code, outside.text) == (404, "acme/autocert: certificate cache miss\n")


def test_two_workers_obtain_one_certificate_once(serve, pebble):
    server = serve(workers=2)
    server.wait_for_certificate()
    # New connections spread over both workers; the one that did not order serves the
    # certificate as soon as it has read it from the cache.
    root = pebble.issuing_root()
    server.until(lambda: all(server.served_certificate(trusting=root) for _ in range(12)), "both workers serve it")
    for _ in range(12):
        assert server.https("/api/health").status_code == 200
    assert pebble.issued() == 1


def test_restart_serves_the_cached_certificate_without_asking_again(serve, pebble):
    first = serve()
    issued = first.wait_for_certificate()
    assert first.stop() == 0
    second = serve()
    assert second.served_certificate() == issued  # served from the cache at once
    assert second.https("/api/health").status_code == 200
    assert pebble.issued() == 1


def test_certificate_near_expiry_is_renewed_while_serving(serve, data_dir, pebble):
    now = datetime.datetime.now(datetime.UTC)
    ca = certificate("an earlier CA", [])
    leaf, key = certificate(DOMAIN, [x509.DNSName(DOMAIN)], issuer=ca,
                                 not_before=now - datetime.timedelta(days=80),
                                 not_after=now + datetime.timedelta(days=10))
    cache_dir(data_dir).mkdir(parents=True)
    (cache_dir(data_dir) / DOMAIN).write_bytes(key_pem(key) + pem(leaf) + pem(ca[0]))
    server = serve()
    renewed = server.wait_for_certificate()
    assert renewed != leaf
    assert server.https("/api/health").status_code == 200
    assert pebble.issued() == 1
    assert f"autotls: renewing a certificate for {DOMAIN}" in server.output()


def test_implicit_www_name_is_obtained_on_demand_and_redirected(serve, pebble):
    server = serve()
    server.wait_for_certificate()
    www = f"www.{DOMAIN}"
    server.wait_for_certificate(www)  # the first handshakes fail while it is obtained
    moved = server.https("/api/health?a=1", name=www)
    assert moved.status_code == 307
    assert moved.headers["location"] == f"https://{DOMAIN}/api/health?a=1"
    assert pebble.issued() == 2
    # Once obtained, it is served from the cache after a restart, from the first handshake.
    assert server.stop() == 0
    restarted = serve()
    assert restarted.served_certificate(www) is not None
    assert pebble.issued() == 2


def test_names_that_cannot_be_obtained_are_logged_and_the_others_served(serve, pebble):
    unreachable = "unreachable.example.test"
    pebble.resolve(unreachable, "127.0.0.2")  # nothing answers validation there
    server = serve(DOMAIN, BLOCKED_DOMAIN, unreachable)
    server.wait_for_certificate()
    server.until(lambda: server.output().count("cannot obtain") == 2, "both failures logged")
    failures = sorted(line.split(": ", 1)[1] for line in server.output().splitlines() if "cannot obtain" in line)
    assert failures[0].startswith(f"autotls: cannot obtain a certificate for {BLOCKED_DOMAIN}: ")
    assert "forbidden by policy" in failures[0]
    assert failures[1].startswith(f"autotls: cannot obtain a certificate for {unreachable}: ")
    assert "connection refused" in failures[1].lower()
    assert failures[0].endswith("(retrying in 60 s)")
    # Their handshakes fail, as do those naming no server or another one; the rest is served.
    for name in (BLOCKED_DOMAIN, unreachable, "other.test", None):
        assert server.served_certificate(name) is None
    assert server.https("/api/health").status_code == 200
    assert "Traceback" not in server.output()


def test_an_unreachable_ca_is_one_line_and_http_still_answers(serve):
    closed = f"https://127.0.0.1:{free_port()}/dir"
    server = serve(env={"PBK_ACME_DIRECTORY": closed})
    server.until(lambda: "cannot obtain" in server.output(), "the failure logged")
    [line] = [line for line in server.output().splitlines() if "cannot obtain" in line]
    assert f"cannot obtain a certificate for {DOMAIN}: cannot reach the CA at {closed}: " in line
    assert "Connection refused" in line
    assert httpx.get(f"{server.http_url}/", headers={"Host": DOMAIN}).status_code == 302
    assert server.served_certificate() is None


def test_pocketbase_serves_the_certificate_pbk_obtained(serve, data_dir, tmp_path):
    """The cache is autocert's: PocketBase, given it, serves the same certificate."""
    pbk = serve()
    issued = pbk.wait_for_certificate()
    assert pbk.stop() == 0
    pocketbase_dir = tmp_path / "pocketbase_data"
    pocketbase_dir.mkdir()
    shutil.copytree(cache_dir(data_dir), cache_dir(pocketbase_dir))
    https_port = free_port()
    log_path = tmp_path / "pocketbase.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [pocketbase_binary(), "serve", DOMAIN, "--dir", str(pocketbase_dir),
             "--http", f"127.0.0.1:{free_port()}", "--https", f"127.0.0.1:{https_port}"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    pocketbase = LiveServer(process, f"https://127.0.0.1:{https_port}", pocketbase_dir, log_path, ["pocketbase"])
    try:
        wait_until(pocketbase, lambda: presented_certificate(https_port) is not None, "PocketBase serves HTTPS")
        assert presented_certificate(https_port) == issued
    finally:
        pocketbase.stop()


def test_plain_http_without_domains_is_unchanged(tmp_path):
    server = start_live_server(tmp_path / "pb_data", ["--plugins", "autotls"])
    try:
        assert httpx.get(f"{server.url}/api/health").status_code == 200
        assert not cache_dir(tmp_path / "pb_data").exists()
    finally:
        assert server.stop() == 0


def client_hello(server_name: bytes) -> bytes:
    """A TLS 1.2 ClientHello naming ``server_name`` as it is, bytes no TLS library would send
    (they encode names to ASCII first), as any client on the network can."""

    def extension(kind: int, data: bytes) -> bytes:
        return struct.pack("!HH", kind, len(data)) + data

    names = b"\x00" + struct.pack("!H", len(server_name)) + server_name
    extensions = (extension(0, struct.pack("!H", len(names)) + names)
                  + extension(10, struct.pack("!HHH", 4, 0x001D, 0x0017))  # x25519, P-256
                  + extension(11, b"\x01\x00")
                  + extension(13, struct.pack("!HHH", 4, 0x0403, 0x0804)))
    body = (b"\x03\x03" + os.urandom(32) + b"\x00" + struct.pack("!HHH", 4, 0xC02B, 0xC02F) + b"\x01\x00"
            + struct.pack("!H", len(extensions)) + extensions)
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def test_https_alone_on_an_ip_address_orders_nothing_and_odd_server_names_are_quiet(tmp_path):
    https_port, http_port = free_port(), free_port()
    closed_ca = f"https://127.0.0.1:{free_port()}/dir"  # an order would be a logged failure
    command = [sys.executable, "-m", "pbk", "serve", "--dir", str(tmp_path / "pb_data"), "--plugins", "autotls",
               "--http", f"127.0.0.1:{http_port}", "--https", f"127.0.0.1:{https_port}"]
    log_path = tmp_path / "pbk.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, "PBK_ACME_DIRECTORY": closed_ca})
    server = LiveServer(process, f"https://127.0.0.1:{https_port}", tmp_path / "pb_data", log_path, command)
    try:
        wait_until(server, lambda: _answers_http(f"http://127.0.0.1:{http_port}"), "the HTTP listener answers")
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", https_port), timeout=5) as sock:
                sock.sendall(client_hello("é.example.test".encode()))
                assert sock.recv(5)[:1] in (b"", b"\x15")  # closed or an alert: no ServerHello
        assert presented_certificate(https_port, "127.0.0.1") is None
    finally:
        assert server.stop() == 0
    output = server.output()
    assert "Traceback" not in output and "Exception ignored" not in output, output
    assert "obtain" not in output, output
    assert not cache_dir(tmp_path / "pb_data").exists()
