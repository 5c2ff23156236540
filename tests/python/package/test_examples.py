"""The examples in examples/ stay true: the config validates, the scripts and tests run."""

import subprocess
import sys
from pathlib import Path

import aigw

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_example_config_validates() -> None:
    config = aigw.load_config(EXAMPLES / "aigw.yaml", env={})
    assert {r.name for r in config.all_routes} >= {"gpt-4o-mini", "gpt-4o", "llama", "mock-gpt"}
    assert config.to_core_json()  # the core document builds
    assert config.default_provider == "openai"
    assert [g.name for g in config.guardrails if g.default] == [
        "no-secrets-out",
        "no-card-numbers-in",
    ]


def run_example(name: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result


def test_quickstart_runs() -> None:
    result = run_example("quickstart.py")
    assert "answer: Hello! This is a mock answer from aigw." in result.stdout
    assert "usage:" in result.stdout


def test_example_test_suite_passes() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(EXAMPLES / "test_with_mock_llm.py"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=EXAMPLES,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_python_guardrails_example_runs() -> None:
    result = run_example("python_guardrails.py")
    assert "blocked: private_key" in result.stdout
    assert "streamed: Your key is [KEY], keep it safe." in result.stdout
    assert "sk-" not in result.stdout


def test_both_sdks_example_falls_back_and_answers_each_sdk() -> None:
    result = run_example("both_sdks.py")
    assert "anthropic sdk: Hello from the backup provider. (end_turn" in result.stdout
    assert "openai sdk: Hello from the backup provider. (stop)" in result.stdout
