"""The scenario library in ``scenarios/``: every file validates, says which
question it answers, changes what it claims to change, and runs."""
import csv
import math
import re
from pathlib import Path

import pytest

from omsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "scenarios"
FILES = sorted(LIB.glob("*.yaml"))
SHARED = ROOT.parent / "shared" / "data" / "us-network"

EXPECTED = {"default", "baseline", "peak-season", "fourth-warehouse", "carrier-rate-increase",
            "ship-from-store", "apparel-returns", "us-network", "small-business"}


def raw(name):
    """The scenario as a mapping after its ``extends``/``set`` are applied."""
    return load_scenario(LIB / f"{name}.yaml").raw()


def test_library_has_the_planners_scenarios():
    assert EXPECTED <= {p.stem for p in FILES}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_scenario_validates_and_names_itself(path):
    sc = load_scenario(path)
    assert sc.name == path.stem
    assert sc.demand.orders_per_day > 0 and sc.network.warehouses


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_scenario_is_headed_by_the_question_it_answers(path):
    header = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    text = " ".join(header)
    assert "Question it answers:" in text, f"{path.name}: header comment must state its question"
    question = text.split("Question it answers:", 1)[1]
    assert "?" in question, f"{path.name}: the question should end in a question mark"


def test_baseline_is_the_default_world():
    base, default = raw("baseline"), raw("default")
    for d in (base, default):
        d.pop("name")
    assert base == default


def _warehouses(d):
    return {w["id"]: w for w in d["network"]["warehouses"]}


def test_variants_change_only_what_they_claim():
    base = raw("baseline")
    common = ("catalogue", "carriers", "policies")
    four = raw("fourth-warehouse")
    assert set(_warehouses(four)) == set(_warehouses(base)) | {"DFW"}
    assert all(_warehouses(four)[k] == v for k, v in _warehouses(base).items())
    assert all(four[k] == base[k] for k in common)

    gri = raw("carrier-rate-increase")
    assert gri["network"] == base["network"] and gri["demand"] == base["demand"]
    old = {c["id"]: {s["id"]: s for s in c["services"]} for c in base["carriers"]}
    new = {c["id"]: {s["id"]: s for s in c["services"]} for c in gri["carriers"]}
    assert new["swiftpost"] == old["swiftpost"]
    for sid, s in new["parcelco"].items():
        assert s["per_package"] > old["parcelco"][sid]["per_package"]
        assert s["per_kg"] >= old["parcelco"][sid]["per_kg"]

    peak = raw("peak-season")
    assert peak["network"] == base["network"] and peak["carriers"] == base["carriers"]
    assert max(p["multiplier"] for p in peak["demand"]["promotions"]) >= 2.5

    sfs = load_scenario(LIB / "ship-from-store.yaml")
    stores = [w for w in sfs.network.warehouses if w.kind == "store"]
    assert len(stores) >= 4 and all(w.capacity_orders_per_day and w.pickers <= 3 for w in stores)

    app = load_scenario(LIB / "apparel-returns.yaml")
    assert app.post_sales.return_probability >= 0.25
    cats = {s.category for s in app.catalogue.skus}
    assert "apparel" in cats


def test_us_network_regions_are_the_published_cities():
    sc = load_scenario(LIB / "us-network.yaml")
    regions = sc.demand.regions
    assert len(regions) == 99
    assert len(sc.network.warehouses) == 10
    assert "Jasin" in (LIB / "us-network" / "README.md").read_text()
    if not SHARED.exists():
        pytest.skip(f"reference data not found at {SHARED}")
    with open(SHARED / "cities.csv", newline="") as fh:
        cities = list(csv.DictReader(fh))
    assert len(cities) == len(regions)
    for c, r in zip(cities, regions):
        assert re.sub(r"[^a-z0-9]+", "-", c["city"].lower()).strip("-") == r.id
        assert (float(c["lat"]), float(c["lon"])) == (r.lat, r.lon)
        assert math.isclose(r.weight, float(c["population"]) / 1e6, abs_tol=1e-4)
    with open(SHARED / "fulfilment_centres.csv", newline="") as fh:
        fcs = {row["code"]: (float(row["lat"]), float(row["lon"])) for row in csv.DictReader(fh)}
    assert {w.id: (w.lat, w.lon) for w in sc.network.warehouses} == fcs


def _sim():
    try:
        from omsim.sim import simulate
    except ImportError:
        pytest.skip("omsim.sim.simulate is not available yet")
    return simulate


# baseline.yaml is default.yaml under another name (tested above): run it once.
# About 2-4 s per scenario (20 s in all on an idle machine).
# large-retailer.yaml (the scale case, 100,000 orders a day) takes half a minute a day: slow.
SCALE = "large-retailer.yaml"


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow) if p.name == SCALE else p
                                  for p in FILES if p.name != "baseline.yaml"], ids=lambda p: p.name)
def test_every_scenario_runs_one_day_with_sensible_kpis(path):
    simulate = _sim()
    sc = load_scenario(path)
    res = simulate(sc, seed=1, days=1)
    k = res.kpis
    assert k["orders"] > 0.5 * sc.demand.orders_per_day
    assert k["orders_shipped"] > 0
    for name in ("fill_rate", "on_time_rate", "picker_utilisation"):
        if name in k and not math.isnan(k[name]):
            assert 0.0 <= k[name] <= 1.0, (name, k[name])
    if "cost_per_order" in k and not math.isnan(k["cost_per_order"]):
        assert 0 < k["cost_per_order"] < 200
