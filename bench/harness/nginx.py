"""nginx for the bench: installed from Debian when missing, run as a non-daemon child with
every path under the run's temp dir, in two roles: a static upstream (a fixed OpenAI-shaped
body) and the reference proxy (proxy_pass with a keep-alive upstream pool)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from .procs import BenchError

NGINX_CANDIDATES = ["nginx", "/usr/sbin/nginx"]


def find_nginx() -> str | None:
    for name in NGINX_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def ensure_nginx(log: Callable[[str], None]) -> str:
    """Returns the nginx binary, installing the Debian package if needed (idempotent)."""
    path = find_nginx()
    if path:
        return path
    if shutil.which("apt-get") is None:
        raise BenchError("nginx is not installed and apt-get is not available")
    sudo = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if sudo is None:
        raise BenchError(
            "nginx is not installed, and installing it needs root (apt-get install nginx)"
        )
    log("setup: installing nginx from Debian (apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")

    def apt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*sudo, "apt-get", *args], env=env, capture_output=True, text=True)

    install = ("install", "-y", "-qq", "--no-install-recommends", "nginx")
    done = apt(*install)  # the package index is usually there already
    if done.returncode != 0:
        apt("update", "-qq")
        done = apt(*install)
    path = find_nginx()
    if not path:
        raise BenchError(f"apt-get could not install nginx: {done.stderr.strip()[-300:]}")
    return path


def nginx_version(binary: str) -> str:
    done = subprocess.run([binary, "-v"], capture_output=True, text=True)
    return (done.stderr or done.stdout).strip().replace("nginx version: nginx/", "")


def _nginx_string(text: str) -> str:
    # nginx expands $variables and treats '\' and quotes specially inside strings.
    for bad in ("'", "\\", "$"):
        if bad in text:
            raise BenchError(f"body cannot be served by nginx verbatim (contains {bad!r})")
    return "'" + text + "'"


def _common(prefix: Path, role: str) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = prefix / "temp"
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (temp / sub).mkdir(parents=True, exist_ok=True)
    return f"""{user}daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid {prefix}/{role}.pid;
error_log {prefix}/{role}.error.log warn;
events {{ worker_connections 16384; multi_accept on; }}
"""


def _http_common(prefix: Path) -> str:
    temp = prefix / "temp"
    return f"""  access_log off;
  tcp_nodelay on;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  client_body_temp_path {temp}/client_body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
"""


def upstream_config(prefix: Path, port: int, body: str) -> Path:
    """Every path answers 200 with `body` (the same bytes the mock answers with)."""
    text = (
        _common(prefix, "nginx-upstream")
        + f"""http {{
{_http_common(prefix)}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location = /health {{ return 200 'ok'; }}
    location / {{
      default_type application/json;
      return 200 {_nginx_string(body)};
    }}
  }}
}}
"""
    )
    path = prefix / "nginx-upstream.conf"
    path.write_text(text)
    return path


def proxy_config(prefix: Path, port: int, mock_port: int, static_port: int | None) -> Path:
    """/v1/... → aigw mock; /static/v1/... → the nginx static upstream; keep-alive pools."""
    pools = f"""  upstream aigw_mock {{
    server 127.0.0.1:{mock_port};
    keepalive 512;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }}
"""
    static_location = ""
    if static_port is not None:
        pools += f"""  upstream aigw_static {{
    server 127.0.0.1:{static_port};
    keepalive 512;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }}
"""
        static_location = "    location /static/ { proxy_pass http://aigw_static/; }\n"
    text = (
        _common(prefix, "nginx-proxy")
        + f"""http {{
{_http_common(prefix)}
{pools}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    location = /health {{ return 200 'ok'; }}
{static_location}    location / {{ proxy_pass http://aigw_mock; }}
  }}
}}
"""
    )
    path = prefix / "nginx-proxy.conf"
    path.write_text(text)
    return path


def nginx_argv(binary: str, prefix: Path, conf: Path, role: str) -> list[str]:
    # -e: the error log before the config is read (else /var/log/nginx, which may not be ours)
    return [binary, "-p", str(prefix), "-e", str(prefix / f"{role}.error.log"), "-c", str(conf)]
