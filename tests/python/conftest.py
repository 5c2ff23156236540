"""Fixtures: in-process gateways on port 0 and ``aigw serve`` in a subprocess on a free port."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from _util import AigwProcess, free_port

import aigw


@pytest.fixture
def make_gateway() -> Iterator[Callable[..., aigw.Gateway]]:
    """Factory: ``make_gateway(config, **kwargs)`` starts a gateway, stopped at teardown."""
    started: list[aigw.Gateway] = []

    def make(config: Any = None, **kwargs: Any) -> aigw.Gateway:
        kwargs.setdefault("workers", 1)
        gw = aigw.Gateway(config, **kwargs)
        started.append(gw)
        return gw.start()

    yield make
    for gw in started:
        gw.stop(drain_timeout=0)


@pytest.fixture
def gateway(make_gateway: Callable[..., aigw.Gateway]) -> aigw.Gateway:
    """A running in-process gateway with the embedded default config (one worker)."""
    return make_gateway()


@pytest.fixture(scope="module")
def module_gateway() -> Iterator[aigw.Gateway]:
    """One default gateway (two workers) shared by a module's read-only tests."""
    with aigw.Gateway(workers=2) as gw:
        yield gw


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[dict[str, Any], str], Path]:
    """Writes a config dict to a YAML (or JSON) file in tmp_path and returns its path."""

    def write(doc: dict[str, Any], name: str = "aigw.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def aigw_proc() -> Iterator[Callable[..., AigwProcess]]:
    """Factory: ``aigw_proc(args)`` runs ``aigw ARGS`` (no readiness wait); killed at teardown."""
    procs: list[AigwProcess] = []

    def run(args: Sequence[str], env: dict[str, str] | None = None) -> AigwProcess:
        proc = AigwProcess([str(a) for a in args], env=env)
        procs.append(proc)
        return proc

    yield run
    for proc in procs:
        proc.close()


@pytest.fixture
def serve(aigw_proc: Callable[..., AigwProcess]) -> Callable[..., AigwProcess]:
    """Factory: ``serve(*extra_args)`` runs ``aigw serve --port FREE ...`` and waits until it
    prints its URL on stderr (it only does so once it listens)."""

    def start(*extra: str | Path) -> AigwProcess:
        proc = aigw_proc(["serve", "--port", str(free_port()), *map(str, extra)])
        proc.wait_ready()
        return proc

    return start
