"""The ``guardrails:`` section of the aigw configuration, and the checks that span it.

Kept apart from :mod:`aigw.config` (which includes it) so the schema of one feature lives in
one place. Like ``config.py`` it imports nothing from the rest of ``aigw`` at import time;
RE2 syntax is checked through the native module when it is importable (the C++ core checks
it again when it compiles the config, so nothing invalid gets through either way).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, field_validator

from aigw._config_sources import Loc, _problem
from aigw._config_types import (
    NAME_PATTERN,
    Float,
    ImportPath,
    Int,
    NonEmptyStr,
    PosInt,
    _Model,
    _suggest,
)

Kind = Literal["phrases", "regex", "limits", "moderation", "python"]
Stage = Literal["input", "during", "output", "stream"]
Preset = Literal["email", "phone", "card", "secrets"]
STAGES: tuple[str, ...] = get_args(Stage)
# The keys that belong to one kind only.
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "phrases": ("phrases", "whole_words"),
    "regex": ("patterns", "presets", "case_insensitive"),
    "limits": ("max_input_tokens", "max_messages", "max_input_bytes"),
    "moderation": ("provider", "model"),
    "python": ("hook", "options"),
}
_SHARED_KIND_KEYS = {
    "replacement": ("phrases", "regex"),
    "timeout": ("moderation", "python"),
    "window": ("regex", "python"),
}


class GuardrailBlockConfig(_Model):
    """What a block answers: status, message, error type and code."""

    status: Annotated[Int, Field(ge=400, le=599)] = 400
    # None: "the request was blocked by guardrail '<name>'" (plus the rule, for built-ins).
    message: NonEmptyStr | None = None
    type: NonEmptyStr = "invalid_request_error"
    code: NonEmptyStr = "content_blocked"


class GuardrailConfig(_Model):
    """One guardrail: a built-in check, where it runs, and what it does when it matches."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    kind: Kind
    stage: Stage | list[Stage] = "input"
    priority: Annotated[Int, Field(ge=-1_000_000, le=1_000_000)] = 0
    action: Literal["block", "redact"] = "block"
    on_error: Literal["block", "allow"] = "block"
    default: bool = False
    request_selectable: bool = False
    passthrough: bool = False
    block: GuardrailBlockConfig = Field(default_factory=GuardrailBlockConfig)
    # phrases
    phrases: list[NonEmptyStr] | None = None
    whole_words: bool | None = None
    # regex
    patterns: list[NonEmptyStr] | None = None
    presets: list[Preset] | None = None
    case_insensitive: bool | None = None
    # regex and python: bytes a stream window holds back (a match split across chunks is seen whole)
    window: Annotated[Int, Field(ge=0, le=1_048_576)] | None = None
    # phrases and regex
    replacement: str | None = None
    # limits
    max_input_tokens: PosInt | None = None
    max_messages: PosInt | None = None
    max_input_bytes: PosInt | None = None
    # moderation: a provider whose /v1/moderations answers like OpenAI's
    provider: NonEmptyStr | None = None
    model: NonEmptyStr | None = None
    timeout: Annotated[Float, Field(gt=0, le=600, allow_inf_nan=False)] | None = None
    # python: "module:attribute" naming an aigw.Guardrail subclass (built with `options`), an
    # instance, or a check function; it runs on the hook thread (docs/guardrails-python.md).
    hook: ImportPath | None = None
    options: dict[str, Any] | None = None

    @field_validator("block", mode="before")
    @classmethod
    def _block_none(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def stages(self) -> list[str]:
        given = [self.stage] if isinstance(self.stage, str) else list(self.stage)
        return [s for s in STAGES if s in given]

    def to_core_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "stages": self.stages,
            "priority": self.priority,
            "action": self.action,
            "on_error": self.on_error,
            "default": self.default,
            "request_selectable": self.request_selectable,
            "passthrough": self.passthrough,
            "block": self.block.model_dump(),
        }
        if self.kind != "python":  # hook and options are the Gateway's (it loads the hook)
            for key in (*KIND_KEYS[self.kind], "replacement", "window"):
                value = getattr(self, key, None)
                if value is not None:
                    out[key] = list(value) if isinstance(value, list) else value
        if self.kind in ("moderation", "python"):
            out["timeout_ms"] = max(1, round((self.timeout or 5.0) * 1000))
        return out


def guardrails_core(guardrails: list[GuardrailConfig]) -> dict[str, Any]:
    """The core document's "guardrails" entry (absent when none is configured). A Gateway
    replaces the ``kind: python`` entries with its loaded hooks' own settings."""
    entries = [g.to_core_dict() for g in guardrails]
    return {"guardrails": entries} if entries else {}


def guardrail_model_at(loc: Loc) -> type[BaseModel] | None:
    """The model whose fields live at ``loc`` under ``guardrails`` (for "did you mean")."""
    if len(loc) == 2 and isinstance(loc[1], int):
        return GuardrailConfig
    if len(loc) == 3 and isinstance(loc[1], int) and loc[2] == "block":
        return GuardrailBlockConfig
    return None


def _re2_errors(patterns: list[str]) -> list[str] | None:
    """RE2's verdict on each pattern ("" when valid); None when the native module is absent."""
    try:
        from aigw import _core
    except ImportError:  # pragma: no cover - the package is always built with its module
        return None
    return list(_core.re2_errors(patterns))


def check_guardrails(doc: Mapping[Any, Any], route_sections: tuple[str, ...]) -> list[str]:
    """Checks that span fields of the guardrails and the routes that name them (raw data)."""
    problems: list[str] = []
    items = doc.get("guardrails")
    providers = doc.get("providers")
    known = [k for k in providers if isinstance(k, str)] if isinstance(providers, Mapping) else None
    names: list[str] = []
    seen: dict[str, int] = {}
    if isinstance(items, list):
        for i, g in enumerate(items):
            if isinstance(g, Mapping):
                _check_one(("guardrails", i), g, known, problems)
                name = g.get("name")
                if isinstance(name, str) and name:
                    if name in seen:
                        problems.append(
                            _problem(
                                ("guardrails", i, "name"),
                                f"duplicate guardrail {name!r} (first defined at "
                                f"guardrails[{seen[name]}])",
                            )
                        )
                    else:
                        seen[name] = i
                        names.append(name)
    for section in route_sections:
        routes = doc.get(section)
        if not isinstance(routes, list):
            continue
        for i, route in enumerate(routes):
            if not isinstance(route, Mapping):
                continue
            selected = route.get("guardrails")
            if not isinstance(selected, list):
                continue
            for j, name in enumerate(selected):
                if isinstance(name, str) and name and name not in names:
                    known = ", ".join(names) or "none"
                    problems.append(
                        _problem(
                            (section, i, "guardrails", j),
                            f"unknown guardrail {name!r} (known: {known}){_suggest(name, names)}",
                        )
                    )
    return problems


def _check_one(
    loc: Loc, g: Mapping[Any, Any], providers: list[str] | None, problems: list[str]
) -> None:
    kind = g.get("kind")
    if kind not in get_args(Kind):
        return  # a field error
    for other, keys in KIND_KEYS.items():
        if other == kind:
            continue
        for key in keys:
            if g.get(key) is not None:
                problems.append(
                    _problem((*loc, key), f"only for kind {other!r} (this is {kind!r})")
                )
    for key, kinds in _SHARED_KIND_KEYS.items():
        if g.get(key) is not None and kind not in kinds:
            problems.append(_problem((*loc, key), f"only for kinds {' and '.join(kinds)}"))
    stage = g.get("stage", "input")
    stages = [stage] if isinstance(stage, str) else stage if isinstance(stage, list) else []
    if isinstance(stage, list) and not stage:
        problems.append(_problem((*loc, "stage"), "must name at least one stage"))
    if "during" in stages and g.get("action") == "redact" and kind in ("phrases", "regex"):
        problems.append(
            _problem(
                (*loc, "action"),
                "a during guardrail can only block (the request is already on its way upstream)",
            )
        )
    if kind == "phrases":
        if not g.get("phrases"):
            problems.append(_problem((*loc, "phrases"), "a phrases guardrail needs phrases"))
    elif kind == "regex":
        patterns, presets = g.get("patterns"), g.get("presets")
        if not patterns and not presets:
            problems.append(_problem(loc, "a regex guardrail needs patterns or presets"))
        if isinstance(patterns, list):
            strings = [p for p in patterns if isinstance(p, str) and p]
            errors = _re2_errors(strings)
            if errors is not None:
                k = 0
                for j, p in enumerate(patterns):
                    if isinstance(p, str) and p:
                        if errors[k]:
                            problems.append(
                                _problem((*loc, "patterns", j), f"invalid RE2 pattern: {errors[k]}")
                            )
                        k += 1
    elif kind == "limits":
        if not any(g.get(k) is not None for k in KIND_KEYS["limits"]):
            problems.append(
                _problem(
                    loc,
                    "a limits guardrail needs max_input_tokens, max_messages or max_input_bytes",
                )
            )
        if any(s in ("during", "output", "stream") for s in stages):
            problems.append(_problem((*loc, "stage"), "limits run at the input stage only"))
        if g.get("action") == "redact":
            problems.append(_problem((*loc, "action"), "limits can only block"))
    elif kind == "python":
        if not g.get("hook"):
            problems.append(
                _problem((*loc, "hook"), 'a python guardrail needs hook: "module:name"')
            )
        if g.get("action") == "redact":
            problems.append(_problem((*loc, "action"), "a python guardrail decides by its verdict"))
    elif kind == "moderation":
        provider = g.get("provider")
        if provider is None:
            problems.append(_problem((*loc, "provider"), "a moderation guardrail needs a provider"))
        elif providers is not None and isinstance(provider, str) and provider not in providers:
            listing = ", ".join(sorted(providers)) or "none"
            hint = _suggest(provider, providers)
            problems.append(
                _problem(
                    (*loc, "provider"), f"unknown provider {provider!r} (known: {listing}){hint}"
                )
            )
        if "stream" in stages:
            problems.append(
                _problem(
                    (*loc, "stage"), "moderation runs at the input, during and output stages only"
                )
            )
        if g.get("action") == "redact":
            problems.append(_problem((*loc, "action"), "moderation can only block"))
