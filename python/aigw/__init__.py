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
    from aigw.cost import CostContext
    from aigw.guardrails import (
        Guardrail,
        Request,
        Response,
        StreamWindow,
        Verdict,
        allow,
        block,
        guardrail,
        hold,
        redact,
        rewrite,
    )
    from aigw.reports import GatewayStats, UsageReport
    from aigw.request_log.records import LogSink, RequestRecord

__all__ = [
    "Config",
    "ConfigError",
    "CostContext",
    "Gateway",
    "GatewayStats",
    "Guardrail",
    "LogSink",
    "Request",
    "RequestRecord",
    "Response",
    "StreamWindow",
    "UsageReport",
    "Verdict",
    "__version__",
    "allow",
    "block",
    "guardrail",
    "hold",
    "load_config",
    "redact",
    "rewrite",
]

_LAZY = {
    "Config": "aigw.config",
    "ConfigError": "aigw.config",
    "load_config": "aigw.config",
    "CostContext": "aigw.cost",
    "Guardrail": "aigw.guardrails",
    "Request": "aigw.guardrails",
    "Response": "aigw.guardrails",
    "StreamWindow": "aigw.guardrails",
    "Verdict": "aigw.guardrails",
    "allow": "aigw.guardrails",
    "block": "aigw.guardrails",
    "guardrail": "aigw.guardrails",
    "hold": "aigw.guardrails",
    "redact": "aigw.guardrails",
    "rewrite": "aigw.guardrails",
    "GatewayStats": "aigw.reports",
    "UsageReport": "aigw.reports",
    "LogSink": "aigw.request_log.records",
    "RequestRecord": "aigw.request_log.records",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        import importlib

        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'aigw' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
