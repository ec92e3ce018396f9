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


def _tour_outputs() -> list[str]:
    """Every path the README's commands write: --out values and shell redirections."""
    text = re.sub(r"\\\n\s*", " ", README)  # join continued command lines
    cmds = [ln.strip() for ln in text.splitlines() if re.match(r"\s{4}(omsim|python)\b", ln)]
    outs = []
    for c in cmds:
        outs += [d.rstrip("/") + "/" for d in re.findall(r"--out\s+(\S+)", c)]   # directories
        outs += re.findall(r"\s>\s*([\w./-]+)", c)
        if c.startswith("omsim simulate") and "--out" not in c:
            outs.append("runs/default/")
    return outs


def test_the_tours_outputs_are_git_ignored():
    import shutil
    import subprocess

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        import pytest
        pytest.skip("not a git checkout")
    outs = _tour_outputs()
    assert {"runs/peak/", "plan-out/", "sweep-out/", "omsim-scenario.schema.json"} <= set(outs)
    for path in outs:
        r = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT)
        assert r.returncode == 0, f"{path} (written by the README's tour) is not in .gitignore"
