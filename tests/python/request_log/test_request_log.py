"""The request log: one record per admitted request, every sink, durability across stop and
crash. Real sockets against in-process gateways and ``aigw serve`` subprocesses."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _util import CHAT_BODY, AigwProcess, RawConn, free_port, mock_config

import aigw
from aigw.config import ConfigError

CANARY = "sk-canary-key-9f8e7d6c5b4a39281706"


def log_config(tmp_path: Path, **log: Any) -> dict[str, Any]:
    doc = mock_config()
    doc["log"] = {"dir": str(tmp_path / "journal"), **log}
    return doc


def db_ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT id FROM aigw_requests")]


def db_records(path: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(path) as db:
        return {r[0]: json.loads(r[1]) for r in db.execute("SELECT id, record FROM aigw_requests")}


def chat(url: str, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    doc = {"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}], **body}
    return httpx.post(url + "/v1/chat/completions", json=doc, headers=headers or {}, timeout=10)


class CollectingSink:
    """An in-process sink: keeps every batch."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.closed = False
        self.lock = threading.Lock()

    def write(self, batch: list[dict[str, Any]]) -> None:
        with self.lock:
            self.batches.append(list(batch))

    def close(self) -> None:
        self.closed = True

    @property
    def records(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for b in self.batches for r in b]


class DownSink(CollectingSink):
    """A sink whose store is down (it refuses every batch) until the test sets `fail` False."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = True

    def write(self, batch: list[dict[str, Any]]) -> None:
        if self.fail:
            raise ConnectionError("database down")
        super().write(batch)


# Built from config by `{kind: python, class: "test_request_log:FileSink"}`.
class FileSink:
    def __init__(self, path: str) -> None:
        self.path = path

    def write(self, batch: list[dict[str, Any]]) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"n": len(batch), "ids": [r["id"] for r in batch]}) + "\n")


# --------------------------------------------------------------------------- mixed workload


def mixed_workload(gw: aigw.Gateway) -> dict[str, str]:
    """Every kind of ending; returns request id -> kind."""
    url = gw.url
    ids: dict[str, str] = {}
    r = chat(url)
    assert r.status_code == 200
    ids[r.headers["x-aigw-request-id"]] = "ok"
    r = chat(url, stream=True)
    assert r.status_code == 200
    ids[r.headers["x-aigw-request-id"]] = "stream"
    r = httpx.post(url + "/v1/chat/completions", content=b"{not json", timeout=5)
    assert r.status_code == 400
    ids[r.headers["x-aigw-request-id"]] = "400"
    r = httpx.post(url + "/v1/chat/completions", json={"model": "mock-gpt"}, timeout=5)
    assert r.status_code == 400
    ids[r.headers["x-aigw-request-id"]] = "400-fields"
    r = httpx.get(url + "/v1/models/unknown-model", timeout=5)
    assert r.status_code == 404
    ids[r.headers["x-aigw-request-id"]] = "404"
    r = chat(url, {"x-mock-status": "500"})
    assert r.status_code == 500
    ids[r.headers["x-aigw-request-id"]] = "500"
    # Stream cut by the upstream after two events: the client gets an error event.
    r = chat(url, {"x-mock-reset-after": "2"}, stream=True)
    assert r.status_code == 200
    assert "error" in r.text
    ids[r.headers["x-aigw-request-id"]] = "interrupted"
    # Client abort mid-stream.
    with httpx.Client(timeout=10) as client:
        with client.stream(
            "POST",
            url + "/v1/chat/completions",
            json={
                "model": "mock-gpt",
                "stream": True,
                "messages": [{"role": "user", "content": "x"}],
            },
            headers={"x-mock-chunk-delay-ms": "200", "x-mock-chunks": "50"},
        ) as s:
            ids[s.headers["x-aigw-request-id"]] = "abort"
            next(s.iter_bytes())
    # Client abort before any answer.
    with RawConn(gw.port or 0) as conn:
        conn.send(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"x-mock-latency-ms: 300\r\nContent-Length: "
            + str(len(CHAT_BODY)).encode()
            + b"\r\n\r\n"
            + CHAT_BODY
        )
        time.sleep(0.05)  # the request must reach the gateway before we go
    ids[f"abort-before-answer-{len(ids)}"] = "abort-early"  # id unknown to the client
    return ids


def test_mixed_workload_gives_exactly_one_record_per_request(
    tmp_path: Path, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    db = tmp_path / "logs.db"
    gw = make_gateway(log_config(tmp_path, sinks=[{"kind": "sqlite", "path": str(db)}]))
    ids = mixed_workload(gw)
    stats = gw.stats()
    requests = stats["requests"]
    gw.stop()
    rows = db_ids(db)
    assert len(rows) == len(set(rows)), "no duplicates"
    assert len(rows) == len(ids) == requests
    records = db_records(db)
    known = {i: k for i, k in ids.items() if not i.startswith("abort-before")}
    assert set(known) <= set(records)
    by_kind = {k: records[i] for i, k in known.items()}
    ok = by_kind["ok"]
    assert ok["status"] == 200 and ok["error"] is None and ok["route"] == "mock-gpt"
    assert ok["provider"] == "mock" and ok["endpoint"] == "chat.completions"
    assert ok["prompt_tokens"] is not None and ok["completion_tokens"] is not None
    assert ok["latency_ms"] >= ok["ttft_ms"] >= 0
    assert ok["attempts"][0]["status"] == 200 and ok["cost_usd"] is None
    assert by_kind["stream"]["stream"] is True and by_kind["stream"]["partial"] is False
    assert by_kind["400"]["status"] == 400 and by_kind["400"]["error"]["type"]
    assert by_kind["404"]["status"] == 404
    assert by_kind["500"]["status"] == 500 and by_kind["500"]["attempts"][0]["status"] == 500
    cut = by_kind["interrupted"]
    assert cut["status"] == 200 and cut["partial"] is True and cut["error"] is not None
    abort = by_kind["abort"]
    assert abort["client_aborted"] is True and abort["partial"] is True
    early = [r for i, r in records.items() if i not in known]
    assert len(early) == 1 and early[0]["client_aborted"] and early[0]["status"] is None
    assert stats["log"]["records_dropped"] == 0


def test_logs_returns_recent_records_newest_first_with_filters(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    gw = make_gateway()  # no log section: memory only
    first = chat(gw.url).headers["x-aigw-request-id"]
    failed = chat(gw.url, {"x-mock-status": "503"}).headers["x-aigw-request-id"]
    last = chat(gw.url).headers["x-aigw-request-id"]
    assert gw.flush_logs()
    logs = gw.logs()
    assert [r["id"] for r in logs][:3] == [last, failed, first]
    assert [r["id"] for r in gw.logs(status="error")] == [failed]
    assert [r["id"] for r in gw.logs(status=200)] == [last, first]
    assert [r["id"] for r in gw.logs(request_id=first)] == [first]
    assert gw.logs(limit=1)[0]["id"] == last
    assert gw.logs(model="nope") == []
    assert gw.logs(since=time.time() + 60) == []
    directory = gw.stats()["log"]["dir"]
    gw.stop()
    assert not os.path.exists(directory), "the default log leaves nothing behind"
    assert gw.logs(request_id=last), "records stay readable after stop"


def test_default_config_writes_nothing_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with aigw.Gateway(workers=1) as gw:
        chat(gw.url)
    assert list(tmp_path.iterdir()) == []


def test_sqlite_is_in_wal_mode_with_queryable_columns(
    tmp_path: Path, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    db = tmp_path / "l.db"
    gw = make_gateway(log_config(tmp_path, sinks=[{"kind": "sqlite", "path": str(db)}]))
    rid = chat(gw.url).headers["x-aigw-request-id"]
    assert gw.flush_logs()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        row = conn.execute(
            "SELECT status, model, provider, error_type FROM aigw_requests WHERE id = ?", (rid,)
        ).fetchone()
    assert row == (200, "mock-gpt", "mock", None)


def test_several_sinks_at_once(tmp_path: Path, make_gateway: Callable[..., aigw.Gateway]) -> None:
    db, jsonl, calls = tmp_path / "a.db", tmp_path / "out.jsonl", tmp_path / "calls.txt"
    obj = CollectingSink()
    gw = make_gateway(
        log_config(
            tmp_path,
            batch_size=7,
            sinks=[
                {"kind": "sqlite", "path": str(db)},
                {"kind": "jsonl", "path": str(jsonl)},
                {
                    "kind": "python",
                    "class": "test_request_log:FileSink",
                    "options": {"path": str(calls)},
                },
            ],
        ),
        log_sinks=[obj],
    )
    ids = {chat(gw.url).headers["x-aigw-request-id"] for _ in range(30)}
    gw.stop()
    assert set(db_ids(db)) == ids
    lines = [json.loads(x) for x in jsonl.read_text().splitlines()]
    assert sorted(r["id"] for r in lines) == sorted(ids)
    batches = [json.loads(x) for x in calls.read_text().splitlines()]
    assert sorted(i for b in batches for i in b["ids"]) == sorted(ids)
    assert all(b["n"] <= 7 for b in batches), "batches respect log.batch_size"
    assert sorted(r["id"] for r in obj.records) == sorted(ids)
    assert obj.closed
    assert not list((tmp_path / "journal").glob("*.jsonl")), "consumed journals are deleted"


def test_a_failing_sink_holds_records_until_it_recovers(
    tmp_path: Path, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    flaky = DownSink()
    gw = make_gateway(log_config(tmp_path, sinks=[]), log_sinks=[flaky])
    ids = {chat(gw.url).headers["x-aigw-request-id"] for _ in range(5)}
    assert not gw.flush_logs(timeout=0.3)
    sink_stats = {s["name"]: s for s in gw.stats()["log"]["sinks"]}
    assert any(s["errors"] > 0 for s in sink_stats.values())
    assert gw.stats()["log"]["pending_bytes"] > 0
    flaky.fail = False
    gw.stop()
    assert sorted(r["id"] for r in flaky.records) == sorted(ids)


def test_backpressure_refuses_new_requests_until_the_log_drains(
    tmp_path: Path, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    stuck = DownSink()
    gw = make_gateway(
        log_config(tmp_path, sinks=[], overflow="backpressure", max_pending=2000),
        log_sinks=[stuck],
    )
    statuses = [chat(gw.url).status_code for _ in range(20)]
    assert 503 in statuses and statuses[0] == 200
    stats = gw.stats()["log"]
    assert stats["backpressure_refusals"] == statuses.count(503)
    assert stats["records_dropped"] == 0
    stuck.fail = False
    assert gw.flush_logs(timeout=10)
    admitted = statuses.count(200)
    deadline = time.monotonic() + 5
    while chat(gw.url).status_code != 200:
        assert time.monotonic() < deadline, "requests are admitted again once the log drains"
    admitted += 1
    gw.stop()
    assert len(stuck.records) == admitted, "refused requests were not admitted: no record"


def test_spill_mode_counts_records_past_the_bound(
    tmp_path: Path, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    stuck = DownSink()
    gw = make_gateway(log_config(tmp_path, sinks=[], max_pending=1500), log_sinks=[stuck])
    ids = [chat(gw.url) for _ in range(10)]
    assert all(r.status_code == 200 for r in ids)
    assert gw.stats()["log"]["records_spilled"] > 0
    stuck.fail = False
    gw.stop()
    assert len(stuck.records) == 10


def test_bodies_are_capped_and_redacted(
    tmp_path: Path, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    doc = log_config(tmp_path, sinks=[], bodies=True, max_body_bytes=200)
    doc["providers"]["up"] = {
        "kind": "openai",
        "base_url": "http://127.0.0.1:9",
        "api_key": "canary-provider-key-5551234",
    }
    gw = make_gateway(doc)
    prompt = f"my key is {CANARY} and the provider's is canary-provider-key-5551234 " + "x" * 500
    rid = chat(gw.url, messages=[{"role": "user", "content": prompt}]).headers["x-aigw-request-id"]
    assert gw.flush_logs()
    (rec,) = gw.logs(request_id=rid)
    line = json.dumps(rec)
    assert CANARY not in line and "canary-provider-key-5551234" not in line
    assert "[REDACTED]" in rec["request_body"]
    assert len(rec["request_body"].encode()) <= 200 and rec["bodies_truncated"] is True
    assert rec["response_body"]
    journal_text = "".join(p.read_text() for p in (tmp_path / "journal").glob("*.jsonl"))
    assert CANARY not in journal_text


def test_provider_keys_never_reach_a_record_even_without_bodies(
    tmp_path: Path, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    # The key appears in the request path: it must not appear in the record's `path`.
    doc = log_config(tmp_path, sinks=[])
    doc["providers"]["up"] = {
        "kind": "openai",
        "base_url": "http://127.0.0.1:9",
        "api_key": "canary-provider-key-777888",
    }
    gw = make_gateway(doc)
    r = httpx.get(gw.url + "/v1/nothing/canary-provider-key-777888", timeout=5)
    assert gw.flush_logs()
    (rec,) = gw.logs(request_id=r.headers["x-aigw-request-id"])
    assert "canary-provider-key-777888" not in json.dumps(rec)


def test_log_config_errors_have_paths() -> None:
    with pytest.raises(ConfigError) as err:
        aigw.load_config(
            {
                "providers": {"m": {"kind": "mock"}},
                "log": {
                    "overflow": "drop",
                    "sinks": [{"kind": "sqlit"}, {"kind": "jsonl"}, {"kind": "sqlite", "pth": 1}],
                    "max_pending": "lots",
                    "rotate_bytes": 1024,  # the core takes it as given: the floor is checked here
                },
            }
        )
    text = str(err.value)
    assert "log.overflow" in text
    assert "log.sinks[0].kind: unknown sink kind 'sqlit'" in text
    assert "log.sinks[1].path" in text
    assert "log.sinks[2].pth: unknown key; did you mean 'path'?" in text
    assert "log.max_pending" in text
    assert "log.rotate_bytes: input should be greater than or equal to 4096" in text


# --------------------------------------------------------------------------- durability


def _load(url: str, stop: threading.Event, answered: list[str], errors: list[str]) -> None:
    with httpx.Client(timeout=10) as client:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if i % 3 == 0:
                    r = client.post(
                        url + "/v1/chat/completions",
                        json={
                            "model": "mock-gpt",
                            "stream": True,
                            "messages": [{"role": "user", "content": "x"}],
                        },
                        headers={"x-mock-chunk-delay-ms": "2"},
                    )
                else:
                    r = client.post(url + "/v1/chat/completions", content=CHAT_BODY)
                r.read()
            except (httpx.HTTPError, OSError) as err:
                errors.append(repr(err))
                continue
            answered.append(r.headers["x-aigw-request-id"])


@pytest.fixture
def serve_config(tmp_path: Path) -> Iterator[Callable[..., AigwProcess]]:
    procs: list[AigwProcess] = []

    def start(doc: dict[str, Any], port: int | None = None) -> AigwProcess:
        path = tmp_path / "aigw.json"
        path.write_text(json.dumps(doc))
        proc = AigwProcess(["serve", "--config", str(path), "--port", str(port or free_port())])
        procs.append(proc)
        proc.wait_ready()
        return proc

    yield start
    for p in procs:
        p.close()


def _run_load(
    url: str, seconds: float, threads: int = 4
) -> tuple[list[str], threading.Event, list[threading.Thread]]:
    stop = threading.Event()
    answered: list[str] = []
    errors: list[str] = []
    workers = [
        threading.Thread(target=_load, args=(url, stop, answered, errors), daemon=True)
        for _ in range(threads)
    ]
    for t in workers:
        t.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline or len(answered) < 50:
        time.sleep(0.05)
    return answered, stop, workers


def test_sigterm_under_load_flushes_every_record(
    tmp_path: Path, serve_config: Callable[..., AigwProcess]
) -> None:
    db = tmp_path / "logs.db"
    doc = log_config(tmp_path, sinks=[{"kind": "sqlite", "path": str(db)}])
    doc["server"]["workers"] = 2
    proc = serve_config(doc)
    answered, stop, workers = _run_load(proc.url or "", 1.0)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    stop.set()
    for t in workers:
        t.join(10)
    rows = db_ids(db)
    assert len(rows) == len(set(rows))
    missing = set(answered) - set(rows)
    assert not missing, f"{len(missing)} answered requests have no record"
    assert not list((tmp_path / "journal").glob("*.jsonl"))


def test_kill_9_under_load_then_restart_loses_and_duplicates_nothing(
    tmp_path: Path, serve_config: Callable[..., AigwProcess]
) -> None:
    db, jsonl = tmp_path / "logs.db", tmp_path / "logs.jsonl"
    doc = log_config(
        tmp_path,
        sinks=[{"kind": "sqlite", "path": str(db)}, {"kind": "jsonl", "path": str(jsonl)}],
    )
    doc["server"]["workers"] = 2
    proc = serve_config(doc)
    answered, stop, workers = _run_load(proc.url or "", 1.0)
    proc.proc.kill()
    proc.wait(10)
    stop.set()
    for t in workers:
        t.join(10)
    # Restart with the same config: the dead run's journal is replayed.
    proc2 = serve_config(doc)
    after = chat(proc2.url or "").headers["x-aigw-request-id"]
    proc2.send_signal(signal.SIGTERM)
    assert proc2.wait(30) == 0
    rows = db_ids(db)
    assert len(rows) == len(set(rows)), "no duplicates in SQLite"
    missing = (set(answered) | {after}) - set(rows)
    assert not missing, f"{len(missing)} answered requests lost"
    lines = [json.loads(x)["id"] for x in jsonl.read_text().splitlines()]
    assert len(lines) == len(set(lines)), "no duplicates in JSONL"
    assert set(lines) == set(rows)
    assert not list((tmp_path / "journal").glob("*.jsonl"))
    assert not list((tmp_path / "journal").glob("*.lock"))


def test_jsonl_sink_cuts_lines_written_after_its_last_checkpoint(
    tmp_path: Path, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    jsonl = tmp_path / "o.jsonl"
    doc = log_config(tmp_path, sinks=[{"kind": "jsonl", "path": str(jsonl)}])
    gw = make_gateway(doc)
    ids = {chat(gw.url).headers["x-aigw-request-id"] for _ in range(3)}
    gw.stop()
    # A crash between appending lines and saving the checkpoint leaves extra lines behind.
    with jsonl.open("a") as fh:
        fh.write('{"id":"half-written"}\n')
    gw2 = make_gateway(doc)
    gw2.stop()
    lines = [json.loads(x)["id"] for x in jsonl.read_text().splitlines()]
    assert sorted(lines) == sorted(ids)


def test_a_live_gateways_journal_is_not_replayed_by_another(
    tmp_path: Path, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    a_db, b_db = tmp_path / "a.db", tmp_path / "b.db"
    a = make_gateway(log_config(tmp_path, sinks=[{"kind": "sqlite", "path": str(a_db)}]))
    a_id = chat(a.url).headers["x-aigw-request-id"]
    b = make_gateway(log_config(tmp_path, sinks=[{"kind": "sqlite", "path": str(b_db)}]))
    b_id = chat(b.url).headers["x-aigw-request-id"]
    a.stop()
    b.stop()
    assert db_ids(a_db) == [a_id]
    assert db_ids(b_db) == [b_id]


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bin(name: str) -> str | None:
    import shutil

    found = shutil.which(name)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    return None


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A real PostgreSQL server in a temp dir on a free loopback port; yields its DSN.
    As root (containers), the server runs as the `postgres` (or `nobody`) user."""
    import pwd
    import shutil
    import subprocess
    import tempfile

    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'aigw[postgres]')")
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        if os.environ.get("CI"):  # scripts/test installs them: missing here is a failure
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    base = Path(tempfile.mkdtemp(prefix="aigw-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = None
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
                user = name
                break
            except KeyError:
                continue
        runuser = shutil.which("runuser")
        if user is None or runuser is None:
            pytest.skip("running as root with no unprivileged user for initdb")
        shutil.chown(base, user)
        run_as = [runuser, "-u", user, "--"]
    data = base / "data"
    port = free_port()
    try:
        subprocess.run(
            [*run_as, initdb, "-D", str(data), "-U", "aigw", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *run_as,
                pg_ctl,
                "-D",
                str(data),
                "-l",
                str(base / "log.txt"),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            ],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as err:
        shutil.rmtree(base, ignore_errors=True)
        raise AssertionError(f"could not start PostgreSQL: {err.stderr!r}") from err
    try:
        yield f"host=127.0.0.1 port={port} user=aigw dbname=postgres"
    finally:
        subprocess.run(
            [*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)


def test_postgres_sink_with_a_real_server(
    tmp_path: Path, postgres: str, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    import psycopg

    doc = log_config(
        tmp_path, sinks=[{"kind": "postgres", "dsn": postgres, "table": "logs_t", "batch_size": 4}]
    )
    gw = make_gateway(doc)
    ids = {chat(gw.url).headers["x-aigw-request-id"] for _ in range(10)}
    failed = chat(gw.url, {"x-mock-status": "500"}).headers["x-aigw-request-id"]
    gw.stop()
    # A second run replays nothing twice.
    make_gateway(doc).stop()
    with psycopg.connect(postgres) as conn:
        rows = conn.execute("SELECT id, status, record->>'model' FROM logs_t").fetchall()
    assert sorted(r[0] for r in rows) == sorted(ids | {failed})
    assert {r[0]: r[1] for r in rows}[failed] == 500
    assert all(r[2] == "mock-gpt" for r in rows)


def test_unreachable_postgres_keeps_records_in_the_journal(
    tmp_path: Path, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    pytest.importorskip("psycopg")
    port = free_port()
    doc = log_config(
        tmp_path,
        stop_timeout=0.2,
        sinks=[
            {
                "kind": "postgres",
                "dsn": f"host=127.0.0.1 port={port} user=x dbname=x",
                "connect_timeout": 1,
            }
        ],
    )
    gw = make_gateway(doc)
    assert chat(gw.url).status_code == 200
    gw.stop()
    assert gw.stats()["log"]["records_dropped"] == 0
    assert list((tmp_path / "journal").glob("*.jsonl")), "kept for the next start"


def test_the_default_log_hands_records_over_in_memory(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    gw = make_gateway(mock_config())  # no log: section: every sink is in memory
    ids = {chat(gw.url).headers["x-aigw-request-id"] for _ in range(40)}
    assert gw.flush_logs()
    stats = gw.stats()["log"]
    assert stats["handoff"] == "memory"
    assert stats["journal_files"] == 0 and stats["records_spilled"] == 0
    assert stats["records_written"] == 40 and stats["pending_bytes"] == 0
    assert {r["id"] for r in gw.logs(limit=100)} == ids
    assert not [f for f in os.listdir(stats["dir"]) if f.endswith(".jsonl")]
    seen: list[str] = []
    gw.on("completed", lambda r: seen.append(r["id"]))
    last = chat(gw.url).headers["x-aigw-request-id"]
    gw.stop()  # the stop drains the hand-off
    assert gw.logs(limit=1)[0]["id"] == last and seen == [last]


def test_a_log_sink_object_keeps_the_journal(make_gateway: Callable[..., aigw.Gateway]) -> None:
    obj = CollectingSink()  # it may refuse a batch: records wait in a file for its retry
    gw = make_gateway(mock_config(), log_sinks=[obj])
    ids = {chat(gw.url).headers["x-aigw-request-id"] for _ in range(5)}
    assert gw.flush_logs()
    assert gw.stats()["log"]["handoff"] == "journal"
    assert gw.stats()["log"]["journal_files"] >= 1
    assert {r["id"] for r in obj.records} == ids
