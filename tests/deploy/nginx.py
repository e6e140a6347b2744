"""Start Debian's nginx (.ci/apt-packages.txt) with a server block from docker/, on free ports,
everything it writes in a temporary folder."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


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
