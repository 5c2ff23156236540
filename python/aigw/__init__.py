"""aigw: an AI gateway with a C++ data plane and Python policies.

    import aigw
    with aigw.Gateway() as gw:                      # mock provider, port 0, offline
        client = openai.OpenAI(base_url=gw.url + "/v1", api_key="unused")

Importing this package is cheap: the config machinery (pydantic) and the native module load
when a Gateway is first built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aigw._version import __version__
from aigw.gateway import Gateway

if TYPE_CHECKING:
    from aigw.config import Config, ConfigError, load_config

__all__ = ["Config", "ConfigError", "Gateway", "__version__", "load_config"]

_LAZY = {"Config", "ConfigError", "load_config"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from aigw import config

        return getattr(config, name)
    raise AttributeError(f"module 'aigw' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY)
