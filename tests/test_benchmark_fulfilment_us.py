"""The US multi-item fulfilment benchmark, small setting: policies against the fluid LP bound."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "us-network"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"US network data not found at {DATA}")


def load_benchmark():
    spec = importlib.util.spec_from_file_location("fulfilment_us", ROOT / "benchmarks" / "fulfilment_us.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def test_small_setting_policies_against_the_bound(tmp_path):
    out = tmp_path / "fus.json"
    load_benchmark().main(["--settings", "small", "--instances", "1", "--sequences", "1", "--no-batch",
                           "--seed", "7", "--json", str(out)])
    res = json.loads(out.read_text())
    ratios = res["settings"]["small"]
    best = min(ratios["cheapest"], ratios["lookahead"])
    # the bound is a lower bound on expected cost: one sequence may dip a little below it
    assert best >= 0.98
    # the published myopic policy is clearly worse than omsim's best
    assert ratios["nearest"] > best + 0.02
    # lookahead (shadow prices) improves on myopic cheapest
    assert ratios["lookahead"] < ratios["cheapest"]
