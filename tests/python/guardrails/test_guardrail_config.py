"""The guardrails' config (docs/guardrails.md, docs/configuration.md): errors reported with
their paths and suggestions, the stages each kind may run at, Python hooks that cannot load,
and the core document the data plane gets."""

from __future__ import annotations

from typing import Any

import pytest
from _util import mock_config

import aigw
from aigw.config import ConfigError, load_config


def test_config_errors_are_reported_with_paths() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(
            {
                "providers": {"mock": {"kind": "mock"}},
                "routes": [{"name": "a", "provider": "mock", "guardrails": ["banedd", "x"]}],
                "guardrails": [
                    {"name": "baned", "kind": "regex", "patterns": ["ok", "(?<=no)x", "a("]},
                    {"name": "baned", "kind": "phrases", "phrases": ["p"], "presets": ["email"]},
                    {"name": "lim", "kind": "limits", "stage": "output", "max_messages": 1},
                    {"name": "bad", "kind": "regex", "presets": ["ssn"], "stage": "sideways"},
                    {"name": "l2", "kind": "limits"},
                ],
            }
        )
    problems = "\n".join(info.value.problems)
    assert "guardrails[0].patterns[1]: invalid RE2 pattern" in problems
    assert "guardrails[0].patterns[2]: invalid RE2 pattern" in problems
    assert "guardrails[1].name: duplicate guardrail 'baned'" in problems
    assert "guardrails[1].presets: only for kind 'regex'" in problems
    assert "guardrails[2].stage: limits run at the input stage only" in problems
    assert "guardrails[3].presets[0]" in problems
    assert "guardrails[3].stage" in problems
    assert "guardrails[4]: a limits guardrail needs" in problems
    assert "routes[0].guardrails[0]: unknown guardrail 'banedd'" in problems
    assert "did you mean 'baned'?" in problems
    assert "routes[0].guardrails[1]: unknown guardrail 'x'" in problems


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"kind": "regex"}, "guardrails[0]: a regex guardrail needs patterns or presets"),
        ({"kind": "phrases", "phrases": ["x"], "stage": []}, "guardrails[0].stage: must name"),
        (
            {"kind": "phrases", "phrases": ["x"], "block": {"status": 302}},
            "guardrails[0].block.status: input should be greater than or equal to 400",
        ),
        (
            {"kind": "regex", "presets": ["email"], "window": 2_000_000},
            "guardrails[0].window: input should be less than or equal to 1048576",
        ),
        (
            {"kind": "limits", "max_messages": 0},
            "guardrails[0].max_messages: input should be greater than or equal to 1",
        ),
    ],
)
def test_ranges_the_core_takes_as_given_are_refused_here(
    entry: dict[str, Any], problem: str
) -> None:
    # The C++ core reads these as given (docs/architecture.md, "Config: one source of truth").
    with pytest.raises(ConfigError) as info:
        load_config(
            {"providers": {"mock": {"kind": "mock"}}, "guardrails": [{"name": "g", **entry}]}
        )
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


def test_unknown_guardrail_keys_get_a_suggestion() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(
            {
                "providers": {"mock": {"kind": "mock"}},
                "guardrails": [
                    {"name": "g", "kind": "phrases", "phrase": ["x"], "block": {"stauts": 400}}
                ],
            }
        )
    problems = "\n".join(info.value.problems)
    assert "guardrails[0].phrase: unknown key; did you mean 'phrases'?" in problems
    assert "guardrails[0].block.stauts: unknown key; did you mean 'status'?" in problems


@pytest.mark.parametrize(
    ("kind", "keys"),
    [("moderation", {"provider": "mock"}), ("python", {"hook": "guardrail_hooks:no_bar"})],
)
def test_a_boolean_timeout_is_a_config_error(kind: str, keys: dict[str, Any]) -> None:
    # Pydantic's lax mode would read `timeout: true` as 1.0 seconds.
    with pytest.raises(ConfigError) as info:
        load_config(
            {
                "providers": {"mock": {"kind": "mock"}},
                "guardrails": [{"name": "g", "kind": kind, "timeout": True, **keys}],
            }
        )
    problems = "\n".join(info.value.problems)
    assert "guardrails[0].timeout: input should be a valid number, not a boolean" in problems


def test_the_config_takes_during_and_refuses_what_cannot_run_there() -> None:
    core = load_config(
        {
            "providers": {"up": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1"}},
            "guardrails": [
                {"name": "m", "kind": "moderation", "provider": "up", "stage": ["input", "during"]},
                {"name": "p", "kind": "phrases", "phrases": ["x"], "stage": "during"},
            ],
        }
    ).to_core_dict()
    assert [g["stages"] for g in core["guardrails"]] == [["input", "during"], ["during"]]
    with pytest.raises(ConfigError) as err:
        load_config(
            {
                "guardrails": [
                    {
                        "name": "r",
                        "kind": "regex",
                        "presets": ["email"],
                        "action": "redact",
                        "stage": "during",
                    },
                    {"name": "l", "kind": "limits", "max_messages": 2, "stage": "during"},
                    {"name": "mod", "kind": "moderation", "provider": "up", "stage": "stream"},
                ]
            }
        )
    problems = str(err.value)
    assert "guardrails[0].action: a during guardrail can only block" in problems
    assert "guardrails[1].stage: limits run at the input stage only" in problems
    assert "guardrails[2].stage: moderation runs at the input, during and output stages" in problems


def test_python_guardrail_config_errors() -> None:
    config = mock_config()
    config["guardrails"] = [{"name": "g", "kind": "python", "hook": "guardrail_hooks:missing"}]
    with pytest.raises(ValueError, match="cannot load it"):
        aigw.Gateway(config)
    config["guardrails"] = [
        {"name": "g", "kind": "python", "hook": "guardrail_hooks:no_bar", "window": -1},
        {"name": "p", "kind": "phrases", "phrases": ["x"], "stage": "stream", "window": 9},
    ]
    with pytest.raises(aigw.ConfigError) as err:
        aigw.Gateway(config)
    assert "guardrails[0].window" in str(err.value)
    assert "guardrails[1].window: only for kinds regex and python" in str(err.value)
    config["guardrails"] = [{"name": "g", "kind": "python", "default": True}]
    with pytest.raises(aigw.ConfigError, match="needs hook"):
        aigw.Gateway(config)
