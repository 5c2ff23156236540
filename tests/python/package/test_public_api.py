"""The public API of ``aigw``: one table names every export and its module. ``__all__`` and the
lazy imports come from it, the imports for type checkers must agree with it, and importing the
package loads none of what the table defers."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import aigw


def test_all_is_the_table_and_every_name_comes_from_its_module() -> None:
    assert aigw.__all__ == sorted(aigw._EXPORTS)
    for name, module in aigw._EXPORTS.items():
        assert getattr(aigw, name) is getattr(importlib.import_module(module), name), name
    assert set(aigw.__all__) <= set(dir(aigw))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        aigw.nope  # noqa: B018


def _imports(tree: ast.Module) -> dict[str, tuple[str, bool]]:
    """name -> (module, re-exported as `name as name`) of the imports at the top level of the
    module and in its `if TYPE_CHECKING:` block."""
    found: dict[str, tuple[str, bool]] = {}
    statements = list(tree.body)
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            statements += node.body
    for node in statements:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aigw"):
            for alias in node.names:
                found[alias.asname or alias.name] = (node.module, alias.asname == alias.name)
    return found


def test_the_imports_for_type_checkers_say_what_the_table_says() -> None:
    source = Path(aigw.__file__).read_text(encoding="utf-8")
    imports = _imports(ast.parse(source))
    assert {name: module for name, (module, _) in imports.items()} == aigw._EXPORTS
    # `from m import X as X`: strict type checkers take only that (or __all__) as a re-export,
    # and this __all__ is computed.
    assert [name for name, (_, reexported) in imports.items() if not reexported] == []


def test_import_aigw_loads_nothing_the_table_defers() -> None:
    code = "import aigw, json, sys; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(result.stdout))
    eager = {"aigw", "aigw._version", "aigw.gateway"}
    deferred = set(aigw._EXPORTS.values()) - eager
    assert loaded & deferred == set()
    assert not any(m == "pydantic" or m.startswith(("pydantic.", "aigw._core")) for m in loaded)
