"""The TypedDicts of the public surface say exactly what real documents hold: request records
(aigw.request_log.records), gw.stats() and gw.usage() (aigw.reports). Each document is walked
against its type: every required key is there, no key is unknown, values have the declared
types; and across the documents every key of every TypedDict is seen at least once, so a
type cannot keep a key the data plane no longer sends."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

import httpx
import pytest
from _util import mock_config
from upstreams import Certs, tls_certs_fixture  # noqa: F401  (a fixture: pytest finds it by name)

import aigw
from aigw.reports import Certificate, GatewayStats, UsageReport
from aigw.request_log.records import LogSink, RequestRecord


class Walk:
    """Checks documents against TypedDicts and remembers which keys each TypedDict showed."""

    def __init__(self) -> None:
        self.seen: dict[type, set[str]] = {}
        self.reachable: set[type] = set()

    def check(self, tp: Any, value: Any, path: str) -> None:
        origin, args = get_origin(tp), get_args(tp)
        if is_typeddict(tp):
            self._typed_dict(tp, value, path)
        elif origin is list:
            assert isinstance(value, list), f"{path}: {value!r} is not a list"
            self._reach(args[0])
            for i, item in enumerate(value):
                self.check(args[0], item, f"{path}[{i}]")
        elif origin is dict:
            assert isinstance(value, dict), f"{path}: {value!r} is not a dict"
            self._reach(args[1])
            for key, item in value.items():
                assert isinstance(key, args[0]), f"{path}: key {key!r}"
                self.check(args[1], item, f"{path}[{key!r}]")
        elif origin in (Union, types.UnionType):
            if value is None:
                assert type(None) in args, f"{path}: None is not a {tp}"
                return
            (inner,) = [a for a in args if a is not type(None)]
            self.check(inner, value, path)
        elif origin is Literal:
            assert value in args, f"{path}: {value!r} is not one of {args}"
        elif tp is float:  # JSON writes 2.0 as 2: an int is a float too (PEP 484)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            assert ok, f"{path}: {value!r} is not a number"
        elif tp is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
            assert ok, f"{path}: {value!r} is not an int"
        else:
            assert isinstance(value, tp), f"{path}: {value!r} is not a {tp.__name__}"

    def _typed_dict(self, tp: Any, value: Any, path: str) -> None:
        assert isinstance(value, dict), f"{path}: {value!r} is not a dict"
        self._reach(tp)
        keys = set(value)
        missing = tp.__required_keys__ - keys
        unknown = keys - tp.__required_keys__ - tp.__optional_keys__
        assert not missing, f"{path}: {tp.__name__} lacks {sorted(missing)}"
        assert not unknown, f"{path}: {tp.__name__} does not declare {sorted(unknown)}"
        self.seen.setdefault(tp, set()).update(keys)
        hints = get_type_hints(tp)
        for key in keys:
            self.check(hints[key], value[key], f"{path}.{key}")

    def _reach(self, tp: Any) -> None:
        """Notes every TypedDict that `tp` contains, documents or not."""
        if is_typeddict(tp):
            if tp in self.reachable:
                return
            self.reachable.add(tp)
            for hint in get_type_hints(tp).values():
                self._reach(hint)
        for arg in get_args(tp):
            self._reach(arg)

    def assert_every_key_seen(self) -> None:
        for tp in sorted(self.reachable, key=lambda t: t.__name__):
            declared = tp.__required_keys__ | tp.__optional_keys__
            never = declared - self.seen.get(tp, set())
            assert not never, f"{tp.__name__}: no document had {sorted(never)}"


class Collect:
    """A log sink object, typed as the LogSink protocol asks."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def write(self, records: list[RequestRecord]) -> None:
        self.records.extend(records)


def per_request_fee(ctx: aigw.CostContext) -> float:
    return 0.01


@aigw.guardrail(name="no_bar")
def no_bar(request: aigw.Request) -> aigw.Verdict:  # sync: it runs in the hook pool
    return aigw.block("no bar") if "bar" in request.text else aigw.allow()


@pytest.fixture
def busy(
    tmp_path: Path, make_gateway: Callable[..., aigw.Gateway]
) -> Iterator[tuple[aigw.Gateway, Collect]]:
    """A gateway with every optional part a record or stats() can show but TLS, after a request
    that passed, one that a guardrail blocked and one for an unknown path."""
    config = mock_config()
    config["log"] = {
        "dir": str(tmp_path / "journal"),
        "sinks": [{"kind": "jsonl", "path": str(tmp_path / "log.jsonl")}],
        "bodies": True,
    }
    sink = Collect()
    gw = make_gateway(config, guardrails=[no_bar], log_sinks=[sink], cost_hook=per_request_fee)
    for content in ("hello", "foo bar"):
        body = {"model": "mock-gpt", "messages": [{"role": "user", "content": content}]}
        httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10)
    httpx.get(gw.url + "/nowhere", timeout=10)
    assert gw.flush_logs()
    yield gw, sink


def test_records_have_exactly_the_keys_of_request_record(
    busy: tuple[aigw.Gateway, Collect],
) -> None:
    gw, sink = busy
    walk = Walk()
    records = gw.logs()
    assert len(records) == 3 and len(sink.records) == 3
    for i, record in enumerate([*records, *sink.records]):
        walk.check(RequestRecord, record, f"record {i}")
    walk.assert_every_key_seen()


def test_stats_and_usage_have_exactly_the_keys_of_their_types(
    busy: tuple[aigw.Gateway, Collect],
    tls_certs: Certs,
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    gw, _ = busy
    walk = Walk()
    walk.check(GatewayStats, gw.stats(), "stats()")
    walk.check(UsageReport, gw.usage(), "usage()")
    tls = make_gateway(
        mock_config(server={"tls": {"cert": str(tls_certs.cert), "key": str(tls_certs.key)}})
    )
    walk.check(GatewayStats, tls.stats(), "stats() with TLS")
    walk.check(Certificate, tls.reload_tls(), "reload_tls()")
    gw.stop()
    walk.check(GatewayStats, gw.stats(), "stats() stopped")
    walk.check(GatewayStats, aigw.Gateway().stats(), "stats() never started")
    walk.check(UsageReport, aigw.Gateway().usage(), "usage() never started")
    walk.assert_every_key_seen()


def test_an_object_with_write_is_a_log_sink() -> None:
    assert isinstance(Collect(), LogSink)
    assert not isinstance(object(), LogSink)


# What a user's type checker sees: the public names, a sink as LogSink, typed documents. An
# ignore that stops being needed is an error too (--strict warns about unused ignores).
USER_CODE = """
import aigw


class Collect:
    def __init__(self) -> None:
        self.records: list[aigw.RequestRecord] = []

    def write(self, records: list[aigw.RequestRecord]) -> None:
        self.records.extend(records)


class Wrong:
    def write(self, records: int) -> None: ...


sink: aigw.LogSink = Collect()
wrong: aigw.LogSink = Wrong()  # type: ignore[assignment]
gw = aigw.Gateway(log_sinks=[sink], on_completed=lambda record: record["latency_ms"])
stats: aigw.GatewayStats = gw.stats()
requests: int = stats["requests"]
blocks: int = stats["guardrails"]["g"]["blocks"]
usage: aigw.UsageReport = gw.usage()
cost: float = usage["total"]["cost_usd"]
model: str = usage["rows"][0]["model"]
record: aigw.RequestRecord = gw.logs()[0]
status: int | None = record["status"]
providers: list[str] = [a["provider"] for a in record["attempts"]]
nope = record["no_such_field"]  # type: ignore[typeddict-item]
"""


def test_the_public_types_check_in_user_code(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    (tmp_path / "user_code.py").write_text(USER_CODE, encoding="utf-8")
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent"]
        + ["--cache-dir", os.devnull, "user_code.py"],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(root / "python")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
