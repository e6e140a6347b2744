"""Start Debian's nginx (.ci/apt-packages.txt) with a server block from docker/, on free ports,
everything it writes in a temporary folder."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .manifests import ROOT

WEB_DOCKERFILE = ROOT / "docker" / "web.Dockerfile"

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls_cert", directory / "tls_key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx stopped: {process.stderr.read()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nginx does not listen on {port}")


@contextlib.contextmanager
def running_nginx(tmp: Path, server_conf: str, ports: list[int]) -> Iterator[None]:
    """nginx with ``server_conf`` inside its http block; ``-t`` must pass first."""
    if not Path(NGINX).exists():
        pytest.fail("nginx fehlt: `make system-packages` installiert es (.ci/apt-packages.txt)")
    (tmp / "server.conf").write_text(server_conf)
    # As root (CI), the workers would run as nobody, who cannot read pytest's private temp folder.
    user = "user root;" if os.geteuid() == 0 else ""
    (tmp / "nginx.conf").write_text(
        f"""daemon off;
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    access_log off;
    include {tmp}/server.conf;
}}
"""
    )
    args = [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf")]
    check = subprocess.run([*args, "-t"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    try:
        for port in ports:
            _wait_for_port(port, process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


UPSTREAMS = ("rasa-1", "rasa-2", "action-server-1", "action-server-2", "login", "portal-backend", "web")


def proxy_config(upstreams: dict[str, int], listen: dict[str, int], cert: Path, key: Path, access_log: Path) -> str:
    """docker/proxy-nginx.conf with the compose names at local ports and free listen ports;
    every other line as compose runs it.

    ``upstreams``: port of each compose service name; ``listen``: http, https, actions, rasa_api."""
    conf = (ROOT / "docker" / "proxy-nginx.conf").read_text()
    # `resolve` (re-resolving Docker's DNS names while running) is nginx 1.27.3 and newer, the
    # image's version; Debian 12 has 1.22. The names are fixed addresses here, so nothing is lost.
    assert conf.count(" resolve ") + conf.count(" resolve;") == 11
    conf = conf.replace(" resolve ", " ").replace(" resolve;", ";")
    for name in UPSTREAMS:
        conf = re.sub(rf"\b{re.escape(name)}:\d+", f"127.0.0.1:{upstreams[name]}", conf)
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{listen['http']};")
    conf = conf.replace("listen 8443 ssl http2;", f"listen 127.0.0.1:{listen['https']} ssl http2;")
    conf = conf.replace("listen 5055;", f"listen 127.0.0.1:{listen['actions']};")
    conf = conf.replace("listen 5005;", f"listen 127.0.0.1:{listen['rasa_api']};")
    conf = conf.replace("/run/secrets/tls_cert", str(cert)).replace("/run/secrets/tls_key", str(key))
    conf = conf.replace("/dev/stdout", str(access_log))
    assert not re.search(r"\b(rasa-\d|action-server-\d|login|portal-backend|web):\d+", conf), "a host was not replaced"
    return conf


def web_root(directory: Path) -> Path:
    """The web image's files: the widget `make webchat` built and the demo page after
    web.Dockerfile's own sed command."""
    widget = ROOT / "webchat" / "dist" / "buergerassistent-chat.js"
    if not widget.exists():
        pytest.fail("webchat/dist fehlt: `make webchat` baut das Widget (auch Teil von `make test`)")
    match = re.search(r"RUN (sed -i '[^']+') (/src/webchat/demo/index\.html)", WEB_DOCKERFILE.read_text())
    assert match, "web.Dockerfile no longer edits the demo page with sed"
    html = directory / "html"
    shutil.copytree(ROOT / "webchat" / "dist", html / "widget")
    for name in ("index.html", "demo.css"):
        shutil.copy(ROOT / "webchat" / "demo" / name, html / name)
    subprocess.run([*shlex.split(match.group(1)), str(html / "index.html")], check=True)
    return html


def web_config(html: Path, port: int) -> str:
    conf = (ROOT / "docker" / "web-nginx.conf").read_text()
    return conf.replace("listen 8080;", f"listen 127.0.0.1:{port};").replace("/usr/share/nginx/html", str(html))
