"""The model price table shipped with aigw (``aigw/data/prices.json``), read without the
config schema: the embedded default config's core document takes it flat as it is
(aigw._config.defaults), while configs that pass the validator take it through
``aigw.cost.PriceConfig`` (tests/python/config/test_default_config.py checks both give the same)."""

from __future__ import annotations

import functools
import json
import os
from typing import Any

# Next to this file, read with open(): importlib.resources costs ~1.3 MB resident for good.
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


@functools.lru_cache(maxsize=1)
def shipped_document() -> dict[str, Any]:
    """``prices.json`` as read: ``{"updated", "source", "providers": {name: {model: price}}}``."""
    with open(os.path.join(DATA_DIR, "prices.json"), encoding="utf-8") as f:
        doc: dict[str, Any] = json.load(f)
    return doc


def shipped_prices_info() -> dict[str, str]:
    """When the shipped table was last updated, and where its prices come from."""
    doc = shipped_document()
    return {"updated": str(doc["updated"]), "source": str(doc["source"])}


def flat_prices() -> dict[str, dict[str, float]]:
    """The shipped table flat, model name -> {"input", "output", "cached_input"}, with
    PriceConfig's defaults (output 0, cached_input = input) but not its checks."""
    out: dict[str, dict[str, float]] = {}
    for models in shipped_document()["providers"].values():
        for name, price in models.items():
            cached = price.get("cached_input")
            out[name] = {
                "input": float(price["input"]),
                "output": float(price.get("output", 0.0)),
                "cached_input": float(price["input"] if cached is None else cached),
            }
    return out
