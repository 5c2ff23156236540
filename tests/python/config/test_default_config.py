"""With no config, the gateway's core document is data (aigw/data/default_core.json), so
``aigw serve`` and ``aigw.Gateway()`` never import the validator (pydantic and the schema,
~20 MB resident: docs/performance.md, figure 4). It must be exactly what the validator makes
of the default document, for every server override the shortcut takes.

Run this file as a script to rewrite the data file after a change to the schema's defaults:
``.venv/bin/python tests/python/config/test_default_config.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import aigw
from aigw._config.defaults import default_core
from aigw._config.log import LogConfig
from aigw._config.log_defaults import MemoryOnlyLog
from aigw._price_table import flat_prices
from aigw.config import load_config
from aigw.cost import shipped_prices

if TYPE_CHECKING:  # run as a script, tests/python is not on the path
    from _util import AigwProcess

DATA = Path(aigw.__file__).with_name("data") / "default_core.json"


def validated_core(overrides: dict[str, Any]) -> dict[str, Any]:
    """What the validator makes of the default document with these server overrides."""
    return load_config(None, overrides=overrides).to_core_dict()


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"host": None, "port": None, "workers": None},
        {"port": 0},
        {"port": 4000},
        {"host": "0.0.0.0", "port": 65535, "workers": 256},
        {"host": "::", "workers": 0},
        {"host": " ", "workers": 1},
    ],
)
def test_the_default_core_document_is_the_validators(overrides: dict[str, Any]) -> None:
    assert default_core(overrides) == validated_core(overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        {"port": 65536},
        {"port": -1},
        {"workers": 257},
        {"port": True},
        {"port": "4000"},
        {"workers": 2.0},
        {"host": ""},
        {"host": b"localhost"},
        {"log_level": "debug"},
    ],
)
def test_overrides_the_validator_must_judge_are_left_to_it(overrides: dict[str, Any]) -> None:
    assert default_core(overrides) is None


def test_the_shipped_price_table_is_read_as_its_schema_reads_it() -> None:
    assert flat_prices() == shipped_prices()


def test_the_memory_only_log_is_the_schemas_default() -> None:
    # A gateway without a `log:` section reads these instead of LogConfig(sinks=[]).
    schema, memory = LogConfig(sinks=[]), MemoryOnlyLog()
    assert memory.to_core_dict() == schema.to_core_dict()
    for field in ("memory_records", "batch_size", "flush_interval", "stop_timeout"):
        assert getattr(memory, field) == getattr(schema, field), field
    assert list(memory.sinks) == list(schema.sinks) == []


def _imports_after(code: str) -> list[str]:
    """The pydantic modules a fresh interpreter holds after running ``code``."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in sys.modules if 'pydantic' in m]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    found: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def test_a_gateway_without_a_config_never_imports_the_validator() -> None:
    served = """
import httpx, aigw
with aigw.Gateway(workers=1) as gw:
    r = httpx.post(gw.url + "/v1/chat/completions", timeout=10,
                   json={"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200, r.text
    assert gw.flush_logs() and gw.logs(1)[0]["status"] == 200
"""
    assert _imports_after(served) == []
    # gw.config still answers: it validates the default document on demand.
    asked = "import aigw\ngw = aigw.Gateway(port=4321)\nassert gw.config.server.port == 4321"
    assert "pydantic" in _imports_after(asked)


def test_aigw_serve_without_a_config_never_loads_the_validator(
    aigw_proc: Callable[..., AigwProcess],
) -> None:
    proc = aigw_proc(["serve", "--port", "0", "--workers", "1"])
    proc.wait_ready()
    maps = Path(f"/proc/{proc.proc.pid}/maps").read_text()
    assert "pydantic_core" not in maps


if __name__ == "__main__":
    core = validated_core({})
    core["pricing"] = {}  # the shipped table, merged at load
    DATA.write_text(json.dumps(core, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {DATA}")
