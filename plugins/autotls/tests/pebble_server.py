"""The ACME server the autotls tests run against: a real ACME server on loopback: Let's Encrypt's pebble, from Debian's
``pebble`` package, with its ``pebble-challtestsrv`` as the DNS server that points every name
at 127.0.0.1, so pebble validates over http-01 on pbk's own HTTP listener.

The first run fetches the package into ``~/.cache/pbk/pebble`` (``PBK_PEBBLE_CACHE``) with
``apt-get download`` and unpacks it with ``dpkg-deb -x`` (no root needed; the binaries are
Go's); the tests are skipped, saying why, only when that cannot be done.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pbk_sdk.testing.caches import filled_once
from pbk_sdk.testing.servers import free_port

PEBBLE_PACKAGE = "pebble"
READY_SECONDS = 20.0
#: A name pebble refuses to issue for (its policy), as a CA refuses a name it cannot validate.
BLOCKED_DOMAIN = "blocked.example.test"


def pebble_binaries() -> Path:
    """The folder holding ``pebble`` and ``pebble-challtestsrv``, fetched on first use (by one
    process: pytest-xdist workers asking at once wait for it)."""
    cache = Path(os.environ.get("PBK_PEBBLE_CACHE", Path.home() / ".cache" / "pbk" / "pebble"))

    def complete(folder: Path) -> bool:
        return all((folder / "usr" / "bin" / name).exists() for name in ("pebble", "pebble-challtestsrv"))

    def fetch(unpacked: Path) -> None:
        if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
            pytest.skip("the pebble ACME test server is not cached and apt-get/dpkg-deb are missing to fetch it")
        with tempfile.TemporaryDirectory(dir=unpacked.parent) as work:
            fetched = subprocess.run(["apt-get", "download", PEBBLE_PACKAGE], cwd=work, capture_output=True,
                                     text=True, check=False)
            packages = list(Path(work).glob("pebble_*.deb"))
            if fetched.returncode != 0 or not packages:
                pytest.skip(f"cannot fetch Debian's pebble package: {fetched.stderr.strip() or 'no package'}")
            subprocess.run(["dpkg-deb", "-x", str(packages[0]), str(unpacked)], check=True)

    return filled_once(cache, complete, fetch) / "usr" / "bin"


def _write_pem(path: Path, *blocks: bytes) -> Path:
    path.write_bytes(b"".join(blocks))
    return path


def certificate(
    subject: str,
    names: list[x509.GeneralName],
    *,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A P-256 certificate for ``names``, self-signed (a CA) or signed by ``issuer``."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[0].subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - datetime.timedelta(minutes=5))
        .not_valid_after(not_after or now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    signer = issuer[1] if issuer else key
    return builder.sign(signer, hashes.SHA256()), key


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


@dataclass
class Pebble:
    """A running pebble whose http-01 validation requests go to ``http_port`` on 127.0.0.1."""

    directory: str
    management: str
    ca_bundle: Path  # trusts pebble's own HTTPS listeners
    http_port: int
    log_path: Path
    dns_management: str

    def resolve(self, host: str, address: str) -> None:
        """Have the DNS server answer ``address`` for ``host`` (every other name: 127.0.0.1)."""
        answer = httpx.post(f"{self.dns_management}/add-a", json={"host": f"{host}.", "addresses": [address]})
        answer.raise_for_status()

    def env(self) -> dict[str, str]:
        """What pbk needs to use this pebble instead of Let's Encrypt."""
        return {"PBK_ACME_DIRECTORY": self.directory, "PBK_ACME_CA_BUNDLE": str(self.ca_bundle)}

    def issuing_root(self) -> str:
        """The root pebble issues under (made afresh by each pebble)."""
        return httpx.get(f"{self.management}/roots/0", verify=trusting(self.ca_bundle)).text

    def issued(self) -> int:
        """How many certificates this pebble has issued."""
        return self.log_path.read_text(errors="replace").count("Issued certificate serial")


def trusting(ca_bundle: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_bundle))


def _wait_for(url: str, verify: ssl.SSLContext | bool, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            httpx.get(url, verify=verify, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {READY_SECONDS}s:\n{log_path.read_text()}")


@contextlib.contextmanager
def running_pebble(work: Path) -> Iterator[Pebble]:
    """pebble and its DNS server on free loopback ports, files in ``work``; stopped on exit.
    Started again on other ports when another process took one between its choice and pebble's
    bind (a free port is only free until someone binds it)."""
    for attempt in range(1, 4):
        folder = work if attempt == 1 else work.with_name(f"{work.name}-{attempt}")
        with contextlib.ExitStack() as stack:
            try:
                server = stack.enter_context(_pebble_once(folder))
            except RuntimeError as exc:
                if "address already in use" in str(exc) and attempt < 3:
                    continue
                raise
            yield server
            return


@contextlib.contextmanager
def _pebble_once(work: Path) -> Iterator[Pebble]:
    binaries = pebble_binaries()
    work.mkdir()
    ca = certificate("pbk test CA for pebble", [])
    listener = certificate("localhost", [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))], issuer=ca)
    ca_bundle = _write_pem(work / "ca.pem", pem(ca[0]))
    acme_port, management_port, dns_port, dns_management_port, http_port = (free_port() for _ in range(5))
    config = {
        "pebble": {
            "listenAddress": f"127.0.0.1:{acme_port}",
            "managementListenAddress": f"127.0.0.1:{management_port}",
            "certificate": str(_write_pem(work / "cert.pem", pem(listener[0]))),
            "privateKey": str(_write_pem(work / "key.pem", key_pem(listener[1]))),
            "httpPort": http_port,
            "tlsPort": free_port(),
            "domainBlocklist": [BLOCKED_DOMAIN],
        }
    }
    (work / "config.json").write_text(json.dumps(config))
    processes: list[subprocess.Popen[bytes]] = []

    def start(command: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env={**os.environ, **env})
        processes.append(process)
        return process

    dns_log = work / "challtestsrv.log"
    dns = start([str(binaries / "pebble-challtestsrv"), "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                 "-dns01", f"127.0.0.1:{dns_port}", "-http01", "", "-https01", "", "-tlsalpn01", "",
                 "-management", f"127.0.0.1:{dns_management_port}"], dns_log, {})
    log_path = work / "pebble.log"
    server = start([str(binaries / "pebble"), "-config", str(work / "config.json"), "-dnsserver",
                    f"127.0.0.1:{dns_port}"], log_path,
                   {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"})
    try:
        _wait_for(f"http://127.0.0.1:{dns_management_port}/", False, dns, dns_log)
        _wait_for(f"https://127.0.0.1:{acme_port}/dir", trusting(ca_bundle), server, log_path)
        yield Pebble(f"https://127.0.0.1:{acme_port}/dir", f"https://127.0.0.1:{management_port}",
                     ca_bundle, http_port, log_path, f"http://127.0.0.1:{dns_management_port}")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
