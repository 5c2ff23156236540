"""The object an import path (``"package.module:attribute"``) names: guardrail hooks, cost
hooks and log sink classes of the config. Free of the config schema (and of pydantic), so
what runs at every start can import it without the validator."""

from __future__ import annotations

import importlib
from typing import Any


def load_object(path: str, *, what: str = "import path") -> Any:
    """The object an import path ``"package.module:attribute"`` names (the attribute may be
    dotted). Raises ValueError ``"<what> '<path>': cannot load it: <why>"`` when the module
    cannot be imported or has no such attribute; what the object must be is the caller's to
    check."""
    module_name, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"{what} {path!r}: cannot load it: {exc}") from exc
    return obj
