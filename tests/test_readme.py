"""The README's Python example runs as written, and its quick start names the real commands."""
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_python_examples_run(monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks
    monkeypatch.chdir(ROOT)
    for code in blocks:
        ns: dict = {}
        exec(compile(code, "README.md", "exec"), ns)
    assert ns["r"].length > 0 and sorted(ns["r"].sequence) == [0, 1, 2]
    assert ns["res"].kpis["orders"] > 0


def test_quick_start_commands():
    assert 'python -m pip install -e ".[dev]" && omsim simulate' in README
    assert 'python -m pip install -e ".[dev]" && python -m pytest' in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest" in ci and "omsim simulate" in ci


def test_referenced_files_exist():
    for rel in re.findall(r"\]\((docs/[^)]+)\)", README) + re.findall(r"(scenarios/[\w./-]+\.(?:yaml|csv))", README):
        assert (ROOT / rel).exists(), rel
    assert os.path.isdir(ROOT / "notebooks")
