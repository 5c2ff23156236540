"""Where a config document comes from: files (YAML, JSON, TOML, with duplicate keys refused)
and ``${VAR}`` / ``${VAR:-default}`` substitution, plus the error type and path formatting that
the whole config package reports with. aigw.config validates the document.

Free of pydantic: ``aigw check-config`` and the CLI import ConfigError from here."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# --------------------------------------------------------------------------- errors


class ConfigError(ValueError):
    """An invalid configuration; ``problems`` lists every problem as ``"path: message"``."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems: list[str] = list(problems)
        self.source: str | None = source
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"invalid aigw config ({self.source or '<config>'}), {n} problem(s):"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])

    def __str__(self) -> str:
        return self._render()

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems, self.source))


# --------------------------------------------------------------------------- paths

Loc = tuple[Any, ...]


def fmt_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<root>"


def problem(loc: Loc, message: str) -> str:
    return f"{fmt_path(loc)}: {message}"


# --------------------------------------------------------------------------- env substitution

REF_BODY_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)


def substitute_str(
    text: str, env: Mapping[str, str], loc: Loc, problems: list[tuple[Loc, str]]
) -> str:
    if "$" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "$":
            j = text.find("$", i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
            continue
        nxt = text[i + 1] if i + 1 < n else ""
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = text.find("}", i + 2)
            if end < 0:
                problems.append(
                    (loc, f"malformed environment reference {text[i:]!r}: missing '}}'")
                )
                return "".join(out)
            ref = text[i : end + 1]
            m = REF_BODY_RE.fullmatch(text[i + 2 : end])
            if m is None:
                problems.append(
                    (
                        loc,
                        f"malformed environment reference {ref!r} "
                        "(expected ${NAME} or ${NAME:-default}; use $$ for a literal $)",
                    )
                )
            else:
                name, default = m.group(1), m.group(2)
                value = env.get(name)
                if default is not None:
                    out.append(value if value else default)
                elif value is None:
                    problems.append((loc, f"environment variable {name} is not set"))
                else:
                    out.append(value)
            i = end + 1
        else:
            out.append("$")
            i += 1
    return "".join(out)


def substitute(
    value: Any, env: Mapping[str, str], loc: Loc, problems: list[tuple[Loc, str]]
) -> Any:
    if isinstance(value, str):
        return substitute_str(value, env, loc, problems)
    if isinstance(value, Mapping):
        return {k: substitute(v, env, (*loc, k), problems) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [substitute(v, env, (*loc, i), problems) for i, v in enumerate(value)]
    return value


# --------------------------------------------------------------------------- file loading


def refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def read_file(path: Path, label: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{label}: file not found"], label) from None
    except IsADirectoryError:
        raise ConfigError([f"{label}: is a directory, not a config file"], label) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{label}: not valid UTF-8 ({exc.reason})"], label) from None
    except OSError as exc:
        raise ConfigError([f"{label}: cannot read file: {exc.strerror or exc}"], label) from None

    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return json.loads(text, object_pairs_hook=refuse_duplicate_keys)
        except json.JSONDecodeError as exc:
            msg = f"{label}:{exc.lineno}:{exc.colno}: JSON syntax error: {exc.msg}"
            raise ConfigError([msg], label) from None
        except ValueError as exc:  # duplicate key
            raise ConfigError([f"{label}: JSON error: {exc}"], label) from None
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{label}: TOML syntax error: {exc}"], label) from None
    # PyYAML only for YAML files: it stays resident (~1 MB) once imported.
    import yaml

    from aigw._config.yaml_loader import UniqueKeyLoader

    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark is not None else label
        detail = "; ".join(p for p in (exc.problem, exc.context) if p) or str(exc)
        raise ConfigError([f"{where}: YAML syntax error: {detail}"], label) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{label}: YAML error: {exc}"], label) from None
