"""aigw: an AI gateway with a C++ data plane and Python policies.

    import aigw
    with aigw.Gateway() as gw:                      # mock provider, port 0, offline
        client = openai.OpenAI(base_url=gw.url + "/v1", api_key="unused")

Importing this package is cheap: the config machinery (pydantic) and the native module load
when a Gateway is first built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aigw._version import __version__ as __version__
from aigw.gateway import Gateway as Gateway

# The public API: each name and the module that defines it. `__all__` is this table's keys;
# every name not imported above is imported on first access (`__getattr__`), so `import aigw`
# does not pay for pydantic or the guardrail classes until someone asks for them. Type checkers
# cannot follow `__getattr__`, so the block below repeats the imports for them;
# tests/python/package/test_public_api.py checks it says the same as this table.
_EXPORTS: dict[str, str] = {
    "__version__": "aigw._version",
    "Gateway": "aigw.gateway",
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

if TYPE_CHECKING:  # `X as X`: an explicit re-export for strict type checkers
    from aigw.config import Config as Config
    from aigw.config import ConfigError as ConfigError
    from aigw.config import load_config as load_config
    from aigw.cost import CostContext as CostContext
    from aigw.guardrails import Guardrail as Guardrail
    from aigw.guardrails import Request as Request
    from aigw.guardrails import Response as Response
    from aigw.guardrails import StreamWindow as StreamWindow
    from aigw.guardrails import Verdict as Verdict
    from aigw.guardrails import allow as allow
    from aigw.guardrails import block as block
    from aigw.guardrails import guardrail as guardrail
    from aigw.guardrails import hold as hold
    from aigw.guardrails import redact as redact
    from aigw.guardrails import rewrite as rewrite
    from aigw.reports import GatewayStats as GatewayStats
    from aigw.reports import UsageReport as UsageReport
    from aigw.request_log.records import LogSink as LogSink
    from aigw.request_log.records import RequestRecord as RequestRecord

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        import importlib

        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'aigw' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
