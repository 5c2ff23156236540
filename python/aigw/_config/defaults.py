"""The embedded default config (every model goes to the offline mock provider) and its core
document, read from ``aigw/data/default_core.json`` instead of built by the validator: with no
config, ``aigw serve`` and ``aigw.Gateway()`` never import pydantic and the config schema,
about 20 MB of resident memory that would stay for the life of the process (docs/performance.md,
figure 4). ``gw.config`` still validates the default document when asked for it.

The file is what the validator makes of :func:`default_document` with an empty ``pricing``
(the shipped price table, merged here); tests/python/config/test_default_config.py checks
they agree, for every server override the shortcut takes, and rewrites the file when run as a
script.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from typing import Any

from aigw._price_table import DATA_DIR, flat_prices

# The server overrides the shortcut takes, with the schema's bounds (aigw.config.ServerConfig);
# any other value goes through the validator, which accepts it or says what is wrong with it.
INT_OVERRIDES = {"port": (0, 65535), "workers": (0, 256)}


def default_document() -> dict[str, Any]:
    """The embedded default document: every model goes to an offline mock provider.

    The mock answers exactly what its knobs say, so its routes neither retry nor eject:
    a client testing its error handling sees the error as configured.
    """

    def mock_route(name: str) -> dict[str, Any]:
        return {
            "name": name,
            "provider": "mock",
            "retry": {"attempts": 1},
            "circuit_breaker": {"enabled": False},
        }

    return {
        "server": {},
        "providers": {"mock": {"kind": "mock"}},
        "routes": [mock_route("mock-gpt"), mock_route("mock-embedding"), mock_route("*")],
    }


@functools.lru_cache(maxsize=1)
def core_text() -> str:
    with open(os.path.join(DATA_DIR, "default_core.json"), encoding="utf-8") as f:
        return f.read()


def plain_override(key: str, value: Any) -> bool:
    """Whether the validator would take this server override exactly as it is."""
    if key == "host":
        return type(value) is str and value != ""
    bounds = INT_OVERRIDES.get(key)
    return bounds is not None and type(value) is int and bounds[0] <= value <= bounds[1]


def default_core(overrides: Mapping[str, Any]) -> dict[str, Any] | None:
    """The core document of the default config with these server overrides (``None`` values
    are ignored), a fresh copy; None when an override needs the validator."""
    server = {k: v for k, v in overrides.items() if v is not None}
    if not all(plain_override(k, v) for k, v in server.items()):
        return None
    core: dict[str, Any] = json.loads(core_text())
    core["server"].update(server)
    core["pricing"] = flat_prices()
    return core
