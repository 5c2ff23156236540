"""The ``aigw`` command: serve, check-config, mock, --version."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from aigw._version import __version__

DEFAULT_SERVE_PORT = 4000
DEFAULT_MOCK_PORT = 4001


def _eprint(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def _reload_tls(gw: Any) -> None:
    """SIGHUP: reload the HTTPS certificate from its files (new connections get it)."""
    from aigw.config import ConfigError

    try:
        cert = gw.reload_tls()
    except ConfigError as err:
        why = "; ".join(err.problems)
        _eprint(f"aigw: TLS reload failed, still serving the current certificate: {why}")
        return
    except RuntimeError as err:
        _eprint(f"aigw: TLS reload failed: {err}")
        return
    _eprint(
        f"aigw: TLS certificate reloaded: {cert['subject']} (serial {cert['serial']}, "
        f"valid until {cert['not_after']})"
    )


def _run_until_signal(gw: Any, drain_timeout: float | None, label: str, source: str) -> int:
    """Serve until SIGINT/SIGTERM; the first drains, a second exits fast: in-flight requests
    are closed at once and their records still flushed (exit code 128 + signal). A third exits
    immediately; records not yet in a sink stay in the journal for the next start. With
    ``server.tls``, SIGHUP reloads the certificate."""
    stop = threading.Event()
    forced: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if forced:
            _eprint(f"aigw: {name} again, exiting without flushing")
            os._exit(128 + signum)
        if stop.is_set():
            forced.append(signum)
            _eprint(f"aigw: {name} again, exiting now (closing in-flight requests, flushing logs)")
            gw.end_drain_now()
            return
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if gw.url.startswith("https://"):
        signal.signal(signal.SIGHUP, lambda _signum, _frame: _reload_tls(gw))
    _eprint(
        f"aigw {__version__}: {label} on {gw.url} ({gw.workers} workers, "
        f"config: {source}); Ctrl-C to stop"
    )
    while not stop.wait(3600):
        pass
    timeout = gw.drain_timeout if drain_timeout is None else drain_timeout
    _eprint(f"aigw: draining (up to {timeout:g}s; signal again to stop waiting)")
    # Stop on another thread so this one stays free to take a second signal.
    stopper = threading.Thread(target=gw.stop, kwargs={"drain_timeout": timeout}, daemon=True)
    stopper.start()
    while stopper.is_alive():
        stopper.join(0.1)
    _eprint("aigw: stopped")
    return 128 + forced[0] if forced else 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from aigw._config.sources import ConfigError
    from aigw.gateway import Gateway

    try:
        if args.config is None:
            # The embedded default: the Gateway needs no validator for it (aigw._config.defaults).
            port = DEFAULT_SERVE_PORT if args.port is None else args.port
            gw = Gateway(host=args.host, port=port, workers=args.workers).start()
            return _run_until_signal(gw, args.drain_timeout, "serving", "<default>")
        from aigw.config import load_config

        config = load_config(
            args.config,
            overrides={"host": args.host, "port": args.port, "workers": args.workers},
        )
        if config.server.port is None:
            config = load_config(config, overrides={"port": DEFAULT_SERVE_PORT})
        gw = Gateway(config).start()
    except ConfigError as err:
        _eprint(f"aigw: {err}")
        return 2
    except OSError as err:
        _eprint(f"aigw: {err}")
        return 1
    return _run_until_signal(gw, args.drain_timeout, "serving", config.source or "<dict>")


def _cmd_check_config(args: argparse.Namespace) -> int:
    from aigw.config import ConfigError, load_config

    try:
        config = load_config(args.file)
    except ConfigError as err:
        _eprint(f"aigw: {err}")
        return 2
    routes = config.all_routes
    names = ", ".join(r.name for r in routes) or "none"
    print(f"{args.file}: OK ({len(config.providers)} provider(s), {len(routes)} route(s): {names})")
    return 0


_MOCK_KNOBS: list[tuple[str, type, str]] = [
    ("latency_ms", int, "delay before a non-streamed answer and before a stream starts"),
    ("ttft_ms", int, "extra time to first token for streams"),
    ("chunk_delay_ms", int, "delay between stream chunks"),
    ("chunks", int, "content chunks per stream"),
    ("status", int, "HTTP status to answer with (non-2xx: an OpenAI-shaped error)"),
    ("error_rate", float, "fraction of requests that fail with 500"),
    ("retry_after", int, "Retry-After seconds on error answers"),
    ("stall_after", int, "stop after N stream events and hold the stream open"),
    ("reset_after", int, "reset the connection after N stream events (0: before answering)"),
    ("response", str, "fixed completion text"),
    ("embedding_dimensions", int, "embedding vector size"),
]


def _cmd_mock(args: argparse.Namespace) -> int:
    from aigw.config import ConfigError
    from aigw.gateway import Gateway

    provider: dict[str, Any] = {"kind": "mock", "header_knobs": not args.no_header_knobs}
    for name, _type, _help in _MOCK_KNOBS:
        value = getattr(args, name)
        if value is not None:
            provider[name] = value
    doc = {
        "server": {"mode": "mock", "host": args.host, "port": args.port, "workers": args.workers},
        "providers": {"mock": provider},
        # The mock answers what its knobs say: no retries, no ejection.
        "routes": [
            {
                "name": "*",
                "provider": "mock",
                "retry": {"attempts": 1},
                "circuit_breaker": {"enabled": False},
            }
        ],
    }
    try:
        gw = Gateway(doc).start()
    except ConfigError as err:
        _eprint(f"aigw: {err}")
        return 2
    except OSError as err:
        _eprint(f"aigw: {err}")
        return 1
    return _run_until_signal(gw, 0.0, "mock upstream serving", "<dict>")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aigw",
        description="AI gateway: one OpenAI-compatible endpoint in front of many LLM providers.",
    )
    parser.add_argument("--version", action="version", version=f"aigw {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the gateway (default config: the mock provider)")
    serve.add_argument("--config", "-c", help="config file (YAML, JSON or TOML)")
    serve.add_argument("--host", help="listen address (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, help=f"listen port (default: {DEFAULT_SERVE_PORT})")
    serve.add_argument("--workers", type=int, help="worker threads (default: one per core)")
    serve.add_argument("--drain-timeout", type=float, help="seconds to let requests finish on stop")
    serve.set_defaults(func=_cmd_serve)

    check = sub.add_parser("check-config", help="validate a config file and report every problem")
    check.add_argument("file")
    check.set_defaults(func=_cmd_check_config)

    mock = sub.add_parser("mock", help="run the mock provider as a standalone upstream")
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=DEFAULT_MOCK_PORT)
    mock.add_argument("--workers", type=int, default=0)
    mock.add_argument(
        "--no-header-knobs", action="store_true", help="ignore x-mock-* request headers"
    )
    for name, typ, help_text in _MOCK_KNOBS:
        mock.add_argument("--" + name.replace("_", "-"), type=typ, dest=name, help=help_text)
    mock.set_defaults(func=_cmd_mock)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    code: int = args.func(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
