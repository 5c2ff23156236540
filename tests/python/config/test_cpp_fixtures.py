"""The C++ tests read core config documents as Python emits them: each ``tests/cpp/fixtures/
<name>.json`` is the core document of the config ``<name>.yaml`` beside it. The core has no
defaults of its own (Python is the one source of truth), so its tests take complete documents
from here instead of writing fields by hand (tests/cpp/config_fixture.h).

These tests fail when a fixture is stale; run this file as a script to rewrite them:
``.venv/bin/python tests/python/config/test_cpp_fixtures.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from aigw.config import TlsConfig, load_config

FIXTURES = Path(__file__).resolve().parents[2] / "cpp" / "fixtures"
SOURCES = sorted(FIXTURES.glob("*.yaml"))


def emitted(source: Path) -> dict[str, Any]:
    """The core document of the config in ``source``, as the fixture holds it."""
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    # A fixture's certificate paths need not exist: the TLS section is built without reading
    # its files (the core only parses it; its context is made at start).
    tls = doc.get("server", {}).pop("tls", None)
    config = load_config(doc, env={})
    if tls is not None:
        server = config.server.model_copy(update={"tls": TlsConfig.model_construct(**tls)})
        config = config.model_copy(update={"server": server})
    core = config.to_core_dict()
    # Only the config's own prices: the shipped table is data the C++ tests must not depend on.
    core["pricing"] = {name: price.to_core_dict() for name, price in config.pricing.items()}
    return core


def render(core: dict[str, Any]) -> str:
    return json.dumps(core, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_the_fixture_is_what_python_emits(source: Path) -> None:
    fixture = source.with_suffix(".json")
    assert fixture.exists(), f"{fixture.name} is missing: run this file as a script"
    assert fixture.read_text(encoding="utf-8") == render(emitted(source)), (
        f"{fixture.name} is stale: run {Path(__file__).name} as a script"
    )


def test_every_fixture_has_its_config() -> None:
    assert {p.stem for p in FIXTURES.glob("*.json")} == {s.stem for s in SOURCES}


if __name__ == "__main__":
    for source in SOURCES:
        source.with_suffix(".json").write_text(render(emitted(source)), encoding="utf-8")
        print(f"wrote {source.with_suffix('.json')}")
