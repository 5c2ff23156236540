"""The processes every figure talks to: `aigw mock` (upstream), nginx as a static upstream and
as the reference proxy, and the gateway (`aigw serve`) in front of both upstreams."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from . import nginx
from .procs import BenchError, ManagedProcess, Pinning, children, free_port, http_post, wait_ready

CHAT_PATH = "/v1/chat/completions"
STATIC_MODEL = "bench-static"  # the gateway routes this model to the nginx static upstream
# Figure 10: two routes to the same `aigw mock`, one whose provider speaks OpenAI (the request and
# its answer are relayed) and one whose provider speaks Anthropic (both are translated).
UNTRANSLATED_MODEL = "bench-openai"
TRANSLATED_MODEL = "bench-anthropic"
MESSAGES_PATH = "/v1/messages"  # the mock's Anthropic endpoint, for its own share of figure 10

# ~1 KB of completion text makes the mock's chat.completion body ~1.4 KB, like a short real
# answer. Plain words only: nginx serves the same bytes from a config string.
RESPONSE_TEXT = " ".join(
    ["The gateway relays this answer from the upstream to the client without changing it."] * 12
)


def chat_body(model: str = "bench", stream: bool = False) -> str:
    doc: dict[str, object] = {
        "model": model,
        "messages": [{"role": "user", "content": "Say hello."}],
    }
    if stream:
        doc["stream"] = True
    return json.dumps(doc, separators=(",", ":"))


BENCH_KEY = "sk-bench-3f9a1c7e5b2d4a6c8e0f1a3b5c7d9e1f"


class Stack:
    def __init__(
        self, root: Path, tmp: Path, pin: Pinning, nginx_bin: str | None, log: Callable[[str], None]
    ):
        self.root = root
        self.tmp = tmp
        self.pin = pin
        self.nginx_bin = nginx_bin
        self.log = log
        self.aigw = str(root / ".venv" / "bin" / "aigw")
        self.procs: dict[str, ManagedProcess] = {}
        self.ports: dict[str, int] = {}
        self.static_body = ""
        self.nginx_problem = "" if nginx_bin else "nginx not available"

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.ports["mock"] = free_port()
        self._spawn(
            "mock",
            "load",
            [
                self.aigw,
                "mock",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.ports["mock"]),
                "--workers",
                "1",
                "--response",
                RESPONSE_TEXT,
            ],
        )
        wait_ready(self.ports["mock"], self.procs["mock"])
        status, body = http_post(self.ports["mock"], CHAT_PATH, chat_body())
        if status != 200:
            raise BenchError(f"aigw mock answered {status} to a chat completion: {body[:200]!r}")
        self.static_body = body.decode()
        if self.nginx_bin:
            try:
                self._start_nginx()
            except BenchError as err:
                self.nginx_problem = str(err)
                self.log(f"nginx: {err}")
                for role in ("nginx-proxy", "nginx-upstream"):
                    if role in self.procs:
                        self.procs.pop(role).stop()
        self.start_gateway()

    def _start_nginx(self) -> None:
        assert self.nginx_bin is not None
        prefix = self.tmp / "nginx"
        prefix.mkdir(exist_ok=True)
        self.ports["static"] = free_port()
        conf = nginx.upstream_config(prefix, self.ports["static"], self.static_body)
        self._spawn(
            "nginx-upstream",
            "load",
            nginx.nginx_argv(self.nginx_bin, prefix, conf, "nginx-upstream"),
        )
        wait_ready(self.ports["static"], self.procs["nginx-upstream"])
        self.ports["proxy"] = free_port()
        conf = nginx.proxy_config(
            prefix, self.ports["proxy"], self.ports["mock"], self.ports["static"]
        )
        self._spawn(
            "nginx-proxy", "proxy", nginx.nginx_argv(self.nginx_bin, prefix, conf, "nginx-proxy")
        )
        wait_ready(self.ports["proxy"], self.procs["nginx-proxy"])

    def gateway_config(self, port: int) -> Path:
        # A key, as every real deployment has one: the gateway masks it in all it relays, and
        # that cost belongs in the figures.
        pool = {"max_connections": 8192, "max_pending": 8192, "api_key": BENCH_KEY}
        providers: dict[str, object] = {
            "mock": {
                "kind": "openai",
                "base_url": f"http://127.0.0.1:{self.ports['mock']}/v1",
                **pool,
            },
            "mock-anthropic": {
                "kind": "anthropic",
                "base_url": f"http://127.0.0.1:{self.ports['mock']}",
                **pool,
            },
        }
        routes: list[dict[str, str]] = [
            {"name": "*", "provider": "mock"},
            {"name": UNTRANSLATED_MODEL, "provider": "mock"},
            {"name": TRANSLATED_MODEL, "provider": "mock-anthropic"},
        ]
        if "static" in self.ports:
            providers["static"] = {
                "kind": "openai",
                "base_url": f"http://127.0.0.1:{self.ports['static']}/v1",
                **pool,
            }
            routes.append({"name": STATIC_MODEL, "provider": "static"})
        doc = {
            "server": {
                "host": "127.0.0.1",
                "port": port,
                "workers": 1 if self.pin.active else 0,
                "drain_timeout": 1,
                "max_connections": 16000,
            },
            "providers": providers,
            "routes": routes,
        }
        path = self.tmp / "gateway.json"
        path.write_text(json.dumps(doc, indent=2))
        return path

    def start_gateway(self) -> float:
        self.ports["gateway"] = free_port()
        conf = self.gateway_config(self.ports["gateway"])
        self._spawn("gateway", "proxy", [self.aigw, "serve", "--config", str(conf)])
        return wait_ready(self.ports["gateway"], self.procs["gateway"])

    def restart_gateway(self) -> float:
        self.procs.pop("gateway").stop()
        return self.start_gateway()

    def revive(self, name: str) -> None:
        """Starts a process that died again (same command, same port), so later figures run."""
        dead = self.procs.pop(name)
        if name == "gateway":
            self.start_gateway()
            return
        port = {"mock": "mock", "nginx-upstream": "static", "nginx-proxy": "proxy"}[name]
        self.procs[name] = ManagedProcess(name, dead.argv, self.tmp)
        wait_ready(self.ports[port], self.procs[name])

    def stop(self) -> None:
        for name in ("gateway", "nginx-proxy", "nginx-upstream", "mock"):
            proc = self.procs.pop(name, None)
            if proc is not None:
                proc.stop()

    def _spawn(self, name: str, role: str, argv: list[str]) -> None:
        self.procs[name] = ManagedProcess(name, [*self.pin.prefix(role), *argv], self.tmp)

    # --- addresses and pids ----------------------------------------------------------------

    def has_nginx(self) -> bool:
        return "nginx-proxy" in self.procs and "nginx-upstream" in self.procs

    def url(self, role: str, path: str = CHAT_PATH) -> str:
        """role: gateway, mock (direct), static (direct), proxy (nginx → mock),
        proxy-static (nginx → static)."""
        if role == "proxy-static":
            return f"http://127.0.0.1:{self.ports['proxy']}/static{path}"
        return f"http://127.0.0.1:{self.ports[role]}{path}"

    def gateway_pid(self) -> int:
        return self.procs["gateway"].pid

    def nginx_proxy_pids(self) -> list[int]:
        master = self.procs["nginx-proxy"].pid
        return [master, *children(master)]

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if not proc.alive():
                raise BenchError(f"{name} exited ({proc.popen.returncode}): {proc.log_tail()}")
