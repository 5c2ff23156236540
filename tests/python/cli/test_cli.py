"""The ``aigw`` command: --version, check-config, serve (signals and drain), mock."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomllib
from _util import (
    CHAT_BODY,
    STOCK_ANSWER,
    AigwProcess,
    aigw_executable,
    free_port,
    mock_config,
    wait_until,
)

import aigw


def run_aigw(*args: str | Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [aigw_executable(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(4) as ex:
        yield ex


def health(url: str) -> dict[str, Any]:
    r = httpx.get(url + "/health", timeout=2)
    body: dict[str, Any] = r.json()
    return body


def refused_or_503(url: str) -> bool:
    """True once a new connection is refused (or answered 503 'shutting down')."""
    try:
        r = httpx.get(url + "/health", timeout=1)
    except httpx.TransportError:
        return True
    return r.status_code == 503


# --------------------------------------------------------------------------- version, help


def test_version() -> None:
    out = run_aigw("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"aigw {aigw.__version__}"
    with open(Path(__file__).parents[3] / "pyproject.toml", "rb") as f:
        assert aigw.__version__ == tomllib.load(f)["project"]["version"]


def test_python_m_aigw_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "aigw", "--version"], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"aigw {aigw.__version__}"


def test_no_command_prints_help_and_fails() -> None:
    out = run_aigw()
    assert out.returncode == 2
    for cmd in ("serve", "check-config", "mock"):
        assert cmd in out.stdout


def test_unknown_option_is_a_usage_error() -> None:
    out = run_aigw("serve", "--no-such-option")
    assert out.returncode == 2
    assert "unrecognized arguments" in out.stderr


# --------------------------------------------------------------------------- check-config


@pytest.mark.parametrize("suffix", ["yaml", "json", "toml"])
def test_check_config_good(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"aigw.{suffix}"
    if suffix == "yaml":
        path.write_text(
            "providers:\n  mock: {kind: mock}\nroutes:\n"
            "  - {name: mock-gpt, provider: mock}\n  - {name: mock-embedding, provider: mock}\n"
        )
    elif suffix == "json":
        path.write_text(json.dumps(mock_config(wildcard=False)))
    else:  # TOML, with the older name of `routes`
        path.write_text(
            '[providers.mock]\nkind = "mock"\n\n[[models]]\nname = "mock-gpt"\nprovider = "mock"\n'
            '\n[[models]]\nname = "mock-embedding"\nprovider = "mock"\n'
        )
    out = run_aigw("check-config", path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{path}: OK (1 provider(s), 2 route(s): mock-gpt, mock-embedding)"
    assert out.stderr == ""


def test_check_config_bad_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "server:\n"
        "  port: 70000\n"
        "  header_timeuot: 3\n"
        "providers:\n"
        "  mock: {kind: mock, latency_ms: -5}\n"
        "  other: {kind: openia}\n"
        "routes:\n"
        "  - {name: a, provider: mokc}\n"
        "  - {name: a, provider: mock}\n"
        "  - {name: b, provider: mock, model: '${AIGW_TEST_SURELY_UNSET_VAR}'}\n"
    )
    out = run_aigw("check-config", path)
    assert out.returncode == 2
    assert out.stdout == ""
    err = out.stderr
    expected = [
        "server.port",
        "server.header_timeuot: unknown key; did you mean 'header_timeout'?",
        "providers.mock.latency_ms",
        "providers.other.kind: unknown provider kind 'openia'",
        "routes[0].provider: unknown provider 'mokc'",
        "routes[1].name: duplicate route name 'a' (first defined at routes[0].name)",
        "routes[2].model: environment variable AIGW_TEST_SURELY_UNSET_VAR is not set",
    ]
    for fragment in expected:
        assert fragment in err, f"{fragment!r} missing from:\n{err}"
    assert f"{len(expected)} problem(s)" in err
    assert err.count("\n  - ") == len(expected)


def test_check_config_missing_file(tmp_path: Path) -> None:
    out = run_aigw("check-config", tmp_path / "absent.yaml")
    assert out.returncode == 2
    assert "file not found" in out.stderr


def test_check_config_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("providers:\n  mock: {kind: mock\n")
    out = run_aigw("check-config", path)
    assert out.returncode == 2
    assert f"{path}:" in out.stderr and "YAML syntax error" in out.stderr


# --------------------------------------------------------------------------- serve


def test_serve_bad_config_exits_2(
    aigw_proc: Callable[..., AigwProcess], write_config: Callable[..., Path]
) -> None:
    path = write_config({"providers": {"mock": {"kind": "mock", "chunks": 0}}})
    proc = aigw_proc(["serve", "--config", path, "--port", str(free_port())])
    assert proc.wait(30) == 2
    proc.close()
    assert "providers.mock.chunks" in proc.stderr


def test_serve_port_0_prints_the_real_port(aigw_proc: Callable[..., AigwProcess]) -> None:
    proc = aigw_proc(["serve", "--port", "0", "--workers", "1"])
    url = proc.wait_ready()
    assert proc.port > 0
    assert health(url)["status"] == "ok"


def test_more_workers_than_the_core_allows_is_a_config_error(
    aigw_proc: Callable[..., AigwProcess], write_config: Callable[..., Path]
) -> None:
    """The schema and the C++ core agree: no 'OK' from check-config, then a traceback."""
    path = write_config({"server": {"workers": 300}, "providers": {"mock": {"kind": "mock"}}})
    out = run_aigw("check-config", path)
    assert out.returncode == 2
    assert "server.workers" in out.stderr
    proc = aigw_proc(["serve", "--workers", "300", "--port", "0"])
    assert proc.wait(30) == 2
    assert "server.workers" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_serve_port_in_use_exits_1_with_a_clear_message(
    aigw_proc: Callable[..., AigwProcess],
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        proc = aigw_proc(["serve", "--port", str(port)])
        assert proc.wait(30) == 1
        proc.close()
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "Address already in use" in proc.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_answers_then_signal_drains_and_exits_0(
    serve: Callable[..., AigwProcess], pool: ThreadPoolExecutor, sig: signal.Signals
) -> None:
    proc = serve("--workers", "1", "--drain-timeout", "10")
    url = proc.url or ""
    assert proc.port > 0
    r = httpx.post(url + "/v1/chat/completions", content=CHAT_BODY, timeout=5)
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"]["content"] == STOCK_ANSWER
    assert health(url)["status"] == "ok"

    # A slow request in flight when the signal arrives still completes.
    slow: Future[httpx.Response] = pool.submit(
        httpx.post,
        url + "/v1/chat/completions",
        content=CHAT_BODY,
        headers={"x-mock-latency-ms": "1000", "x-mock-response": "finished anyway"},
        timeout=10,
    )
    # In flight = parsed and being answered (a connection that has sent nothing yet is idle,
    # and draining closes idle connections).
    wait_until(lambda: health(url)["requests_in_flight"] >= 2, what="the slow request in flight")
    t0 = time.monotonic()
    proc.send_signal(sig)
    proc.wait_for_line(r"aigw: draining \(up to 10s")
    wait_until(lambda: refused_or_503(url), timeout=3, what="new connections to be refused")
    assert not slow.done(), "the slow request finished before the drain could be observed"
    assert proc.wait(15) == 0
    elapsed = time.monotonic() - t0
    resp = slow.result(5)
    assert resp.status_code == 200
    assert resp.json()["choices"][0]["message"]["content"] == "finished anyway"
    assert elapsed < 5
    assert "aigw: stopped" in proc.stderr


def test_drain_timeout_bounds_the_wait(
    serve: Callable[..., AigwProcess], pool: ThreadPoolExecutor
) -> None:
    proc = serve("--workers", "1", "--drain-timeout", "0.5")
    url = proc.url or ""
    with httpx.Client(timeout=10) as http:
        with http.stream(
            "POST",
            url + "/v1/chat/completions",
            content=json.dumps(
                {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]}
            ),
            headers={"x-mock-stall-after": "2"},
        ) as stream:
            chunks = stream.iter_bytes()  # kept alive: dropping it closes the connection
            assert next(chunks).startswith(b"data: ")
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0
            elapsed = time.monotonic() - t0
            # The stalled stream was cut when the drain time ran out.
            with pytest.raises(httpx.HTTPError):
                for _ in chunks:
                    pass
    assert 0.4 <= elapsed < 3, elapsed


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (signal.SIGTERM, signal.SIGTERM),
        (signal.SIGINT, signal.SIGINT),
        (signal.SIGTERM, signal.SIGINT),
    ],
    ids=["TERM-TERM", "INT-INT", "TERM-INT"],
)
def test_second_signal_during_drain_exits_at_once(
    serve: Callable[..., AigwProcess], first: signal.Signals, second: signal.Signals
) -> None:
    proc = serve("--workers", "1", "--drain-timeout", "60")
    url = proc.url or ""
    with httpx.Client(timeout=10) as http:
        with http.stream(
            "POST",
            url + "/v1/chat/completions",
            content=json.dumps(
                {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]}
            ),
            headers={"x-mock-stall-after": "2"},
        ) as stream:
            # Keep the iterator alive: dropping it would close the connection.
            chunks = stream.iter_bytes()
            assert next(chunks).startswith(b"data: ")
            proc.send_signal(first)
            proc.wait_for_line("aigw: draining")
            # The stalled stream keeps the drain going (it may last 60 s)...
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(0.3)
            # ...until a second signal ends it at once.
            t0 = time.monotonic()
            proc.send_signal(second)
            rc = proc.wait(5)
            assert time.monotonic() - t0 < 3
    assert rc == 128 + second.value
    assert rc != 0
    assert f"{second.name} again, exiting now" in proc.stderr


def test_serve_config_file_and_overrides(
    serve: Callable[..., AigwProcess], write_config: Callable[..., Path]
) -> None:
    path = write_config(mock_config(wildcard=False, response="configured", server={"workers": 1}))
    proc = serve("--config", path, "--workers", "2")
    assert "(2 workers" in proc.stderr
    assert f"config: {path}" in proc.stderr
    url = proc.url or ""
    r = httpx.post(url + "/v1/chat/completions", content=CHAT_BODY, timeout=5)
    assert r.json()["choices"][0]["message"]["content"] == "configured"
    unknown = httpx.post(
        url + "/v1/chat/completions",
        content=CHAT_BODY.replace(b"mock-gpt", b"gpt-x"),
        timeout=5,
    )
    assert unknown.status_code == 404
    assert health(url)["workers"] == 2


def test_serve_env_substitution(aigw_proc: Callable[..., AigwProcess], tmp_path: Path) -> None:
    path = tmp_path / "env.yaml"
    path.write_text(
        "providers:\n  mock: {kind: mock, response: '${AIGW_TEST_ANSWER}'}\n"
        "routes:\n  - {name: '*', provider: mock}\n"
    )
    proc = aigw_proc(
        ["serve", "--config", path, "--port", str(free_port())],
        env={"AIGW_TEST_ANSWER": "from the environment"},
    )
    url = proc.wait_ready()
    r = httpx.post(url + "/v1/chat/completions", content=CHAT_BODY, timeout=5)
    assert r.json()["choices"][0]["message"]["content"] == "from the environment"


# --------------------------------------------------------------------------- mock


def test_mock_serves_as_an_upstream(aigw_proc: Callable[..., AigwProcess]) -> None:
    port = free_port()
    proc = aigw_proc(
        [
            "mock",
            "--port",
            str(port),
            "--workers",
            "1",
            "--response",
            "upstream says hi",
            "--chunks",
            "2",
        ]
    )
    url = proc.wait_ready()
    assert url == f"http://127.0.0.1:{port}"
    assert "mock upstream serving" in proc.stderr
    with httpx.Client(base_url=url, timeout=5) as http:
        r = http.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]},
            headers={"authorization": "Bearer sk-anything"},
        )
        assert r.status_code == 200
        body = r.json()
        assert body["model"] == "gpt-4o"
        assert body["choices"][0]["message"]["content"] == "upstream says hi"
        assert r.headers["x-aigw-request-id"].startswith("req_")

        with http.stream(
            "POST",
            "/v1/chat/completions",
            json={
                "model": "gpt-4o",
                "stream": True,
                "messages": [{"role": "user", "content": "x"}],
            },
        ) as s:
            events = [line for line in s.iter_lines() if line.startswith("data: ")]
        assert events[-1] == "data: [DONE]"
        deltas = [json.loads(e[6:])["choices"][0]["delta"].get("content") for e in events[1:-2]]
        assert "".join(deltas) == "upstream says hi"

        e = http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
        assert len(e.json()["data"][0]["embedding"]) == 8

        # Knobs from headers; a reset is a real connection reset in mock mode.
        assert (
            http.post(
                "/v1/chat/completions",
                json={"model": "m", "messages": [{"role": "user", "content": "x"}]},
                headers={"x-mock-status": "429", "x-mock-retry-after": "2"},
            ).headers["retry-after"]
            == "2"
        )
    with pytest.raises(httpx.TransportError):
        httpx.post(
            url + "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "x"}]},
            headers={"x-mock-reset-after": "0"},
            timeout=5,
        )
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 0


def test_mock_no_header_knobs(aigw_proc: Callable[..., AigwProcess]) -> None:
    proc = aigw_proc(["mock", "--port", str(free_port()), "--workers", "1", "--no-header-knobs"])
    url = proc.wait_ready()
    r = httpx.post(
        url + "/v1/chat/completions",
        content=CHAT_BODY,
        headers={"x-mock-status": "500", "x-mock-whatever": "1"},
        timeout=5,
    )
    assert r.status_code == 200


def test_mock_status_flag(aigw_proc: Callable[..., AigwProcess]) -> None:
    proc = aigw_proc(["mock", "--port", str(free_port()), "--workers", "1", "--status", "503"])
    url = proc.wait_ready()
    r = httpx.post(url + "/v1/chat/completions", content=CHAT_BODY, timeout=5)
    assert r.status_code == 503
    assert r.json()["error"]["type"] == "service_unavailable_error"
