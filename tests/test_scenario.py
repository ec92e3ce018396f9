"""The scenario format: defaults, CSV tables, every kind of bad input, the JSON Schema."""
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from omsim.errors import OmsimError
from omsim.scenario import (Scenario, default_scenario_path, json_schema, load_scenario, scenario_from_dict,
                            set_path, stock_table)

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
DATA = Path(__file__).parent / "data" / "scenarios"

MINIMAL = {
    "demand": {"regions": [{"id": "r1", "lat": 40, "lon": -75}]},
    "network": {"warehouses": [{"id": "W1", "lat": 40.5, "lon": -75.5}]},
}


def test_bundled_default_is_the_one_in_scenarios():
    assert default_scenario_path().read_text() == (ROOT / "scenarios" / "default.yaml").read_text()


def test_default_scenario_is_realistic_and_small():
    sc = load_scenario()
    assert len(sc.node_ids) == 3 and len(sc.sku_ids) == 500
    assert len(sc.carriers) == 2 and 4 <= len(sc.services()) <= 6
    assert sc.demand.orders_per_day == 2000 and sc.horizon.days == 7


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_bundled_scenario_loads(path):
    sc = load_scenario(path)
    assert sc.sku_ids and sc.node_ids


def test_minimal_scenario_gets_documented_defaults():
    sc = scenario_from_dict(MINIMAL)
    assert sc.horizon.days == 7 and sc.policies.allocation == "cheapest"
    assert len(sc.sku_ids) == 200  # the default generator
    assert [s.id for _, s in sc.services()] == ["ground", "express", "next_day"]
    wh = sc.network.warehouses[0]
    assert wh.layout.aisles == 10 and wh.replenishment.policy == "sS"


def test_generated_catalogue_is_deterministic_and_skewed():
    a = scenario_from_dict({**MINIMAL, "seed": 5})
    b = scenario_from_dict({**MINIMAL, "seed": 5})
    c = scenario_from_dict({**MINIMAL, "seed": 6})
    assert a.catalogue.skus == b.catalogue.skus
    assert a.catalogue.skus != c.catalogue.skus
    pops = [s.popularity for s in a.catalogue.skus]
    assert pops == sorted(pops, reverse=True) and pops[0] > 10 * pops[-1]
    for s in a.catalogue.skus:
        assert s.unit_cost <= s.price


def test_csv_tables_are_read():
    sc = load_scenario(DATA / "with_tables.yaml")
    assert sc.sku_ids == ["A1", "A2", "A3"]
    assert sc.catalogue.skus[1].weight_kg == 1.5 and sc.catalogue.skus[1].category == "apparel"
    assert [r.id for r in sc.demand.regions] == ["nyc", "bos"]
    assert stock_table(sc.network.warehouses[0]) == {
        "A1": {"on_hand": 10, "safety": 1}, "A2": {"on_hand": 0, "safety": 0}, "A3": {"on_hand": 5, "safety": 0}}


def test_overrides_revalidate_and_name_the_path():
    sc = load_scenario()
    sc2 = sc.with_overrides({"network.warehouses[0].pickers": 12, "policies.allocation": "nearest"})
    assert sc2.network.warehouses[0].pickers == 12 and sc2.policies.allocation == "nearest"
    assert sc.network.warehouses[0].pickers == 2  # the original is untouched
    with pytest.raises(OmsimError, match=r"network\.warehouses\[0\]\.pickers"):
        sc.with_overrides({"network.warehouses[0].pickers": 0})
    with pytest.raises(OmsimError, match=r"no item \[9\]"):
        sc.with_overrides({"network.warehouses[9].pickers": 3})


def test_set_path_rejects_malformed_paths():
    with pytest.raises(OmsimError, match="bad field path"):
        set_path({}, "a..b[", 1)


# ------------------------------------------------------------------ bad input
def _write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _bad(tmp_path, text):
    p = _write(tmp_path, text)
    with pytest.raises(OmsimError) as ei:
        load_scenario(p)
    assert str(p) in ei.value.message
    return ei.value


def test_missing_required_field(tmp_path):
    e = _bad(tmp_path, "network:\n  warehouses:\n    - {id: W, lat: 1, lon: 1}\n")
    assert "demand: required field is missing" in e.message


def test_missing_nested_field(tmp_path):
    raw = yaml.safe_dump({**MINIMAL, "network": {"warehouses": [{"id": "W1", "lat": 1}]}})
    e = _bad(tmp_path, raw)
    assert "network.warehouses[0].lon: required field is missing" in e.message


def test_wrong_type(tmp_path):
    raw = yaml.safe_dump({**MINIMAL, "demand": {**MINIMAL["demand"], "orders_per_day": "lots"}})
    e = _bad(tmp_path, raw)
    assert "demand.orders_per_day" in e.message and "'lots'" in e.message


def test_negative_pickers_names_the_index(tmp_path):
    raw = {**MINIMAL, "network": {"warehouses": [{"id": "W1", "lat": 1, "lon": 1},
                                                 {"id": "W2", "lat": 2, "lon": 2, "pickers": -3}]}}
    e = _bad(tmp_path, yaml.safe_dump(raw))
    assert "network.warehouses[1].pickers" in e.message and "greater than or equal to 1" in e.message


def test_unknown_key_is_an_error(tmp_path):
    raw = {**MINIMAL, "policies": {"allocaton": "nearest"}}
    e = _bad(tmp_path, yaml.safe_dump(raw))
    assert "policies.allocaton: unknown key" in e.message


def test_every_error_is_reported_at_once(tmp_path):
    raw = {**MINIMAL, "seed": -1, "policies": {"routing": "teleport"}, "horizon": {"days": 0}}
    e = _bad(tmp_path, yaml.safe_dump(raw))
    assert len(e.errors) == 3
    assert {"seed", "policies.routing", "horizon.days"} <= {m.split(": ")[1] for m in e.errors}


def test_unreadable_yaml(tmp_path):
    e = _bad(tmp_path, "demand: [unclosed\nnetwork: {")
    assert "not valid YAML at line" in e.message


def test_empty_file(tmp_path):
    e = _bad(tmp_path, "   \n")
    assert "empty" in e.message


def test_not_a_mapping(tmp_path):
    e = _bad(tmp_path, "- just\n- a list\n")
    assert "must be a mapping" in e.message


def test_missing_file(tmp_path):
    with pytest.raises(OmsimError, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")


def _tables(tmp_path):
    for f in DATA.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / "with_tables.yaml"


def test_unknown_sku_in_stock_table(tmp_path):
    y = _tables(tmp_path)
    (tmp_path / "stock.csv").write_text("sku,on_hand\nA1,3\nZZ9,4\n")
    with pytest.raises(OmsimError) as ei:
        load_scenario(y)
    assert f"{tmp_path / 'stock.csv'}: row 3, column sku: unknown SKU 'ZZ9'" in ei.value.message


def test_negative_quantity_in_stock_table(tmp_path):
    y = _tables(tmp_path)
    (tmp_path / "stock.csv").write_text("sku,on_hand\nA1,-3\n")
    with pytest.raises(OmsimError, match=r"row 2, column on_hand: must be >= 0"):
        load_scenario(y)


def test_referenced_csv_missing(tmp_path):
    y = _tables(tmp_path)
    (tmp_path / "regions.csv").unlink()
    with pytest.raises(OmsimError) as ei:
        load_scenario(y)
    assert "demand.regions_file: referenced CSV" in ei.value.message and "does not exist" in ei.value.message
    assert str(y) in ei.value.message


def test_referenced_csv_lacks_a_column(tmp_path):
    y = _tables(tmp_path)
    (tmp_path / "skus.csv").write_text("weight_kg,price\n1,2\n")
    with pytest.raises(OmsimError) as ei:
        load_scenario(y)
    assert "skus.csv: (referenced by catalogue.file) missing column(s) id" in ei.value.message


def test_csv_bad_value_names_row_and_column(tmp_path):
    y = _tables(tmp_path)
    (tmp_path / "skus.csv").write_text("id,price\nA1,10\nA2,cheap\nA3,3\n")
    with pytest.raises(OmsimError, match=r"skus\.csv: row 3, column price: expected float, got 'cheap'"):
        load_scenario(y)


def test_cross_field_rules(tmp_path):
    raw = {**MINIMAL, "catalogue": {"generator": {"count": 3}, "skus": [{"id": "a"}]}}
    e = _bad(tmp_path, yaml.safe_dump(raw))
    assert "catalogue: Value error, give one of skus, file or generator" in e.message
    raw = {**MINIMAL, "network": {"warehouses": [{"id": "W", "lat": 1, "lon": 1}, {"id": "W", "lat": 2, "lon": 2}]}}
    assert "duplicate warehouse id 'W'" in _bad(tmp_path, yaml.safe_dump(raw)).message


# ------------------------------------------------------------------ JSON Schema
def _as_json(path):
    return json.loads(json.dumps(yaml.safe_load(Path(path).read_text()), default=str))


def test_json_schema_is_valid_and_accepts_every_bundled_scenario():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in SCENARIOS + [DATA / "with_tables.yaml"]:
        errors = list(validator.iter_errors(_as_json(path)))
        assert not errors, f"{path}: {errors[0].message}"


def test_json_schema_rejects_unknown_keys_and_bad_values():
    validator = jsonschema.Draft202012Validator(json_schema())
    assert not validator.is_valid({**MINIMAL, "polices": {}})
    bad = json.loads(json.dumps(MINIMAL))
    bad["network"]["warehouses"][0]["pickers"] = -1
    assert not validator.is_valid(bad)
    assert validator.is_valid(MINIMAL)


def test_model_round_trips_through_json():
    sc = load_scenario()
    again = Scenario.model_validate(json.loads(sc.model_dump_json()))
    assert again.catalogue.skus == sc.catalogue.skus


def test_layout_cells_must_split_evenly_into_blocks(tmp_path):
    raw = json.loads(json.dumps(MINIMAL))
    raw["network"]["warehouses"][0]["layout"] = {"blocks": 3, "cells_per_aisle": 40}
    e = _bad(tmp_path, yaml.safe_dump(raw))
    assert "network.warehouses[0].layout" in e.message and "divisible by blocks" in e.message


# ------------------------------------------------------------------ extends / set
def test_variant_extends_base_merging_mappings_and_replacing_lists(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump({**MINIMAL, "policies": {"allocation": "nearest", "max_packages": 2}}))
    (tmp_path / "v.yaml").write_text(
        "extends: base.yaml\nname: v\npolicies: {max_packages: 4}\n"
        "demand: {regions: [{id: a, lat: 1, lon: 2}, {id: b, lat: 3, lon: 4}]}\n")
    sc = load_scenario(tmp_path / "v.yaml")
    assert sc.name == "v"
    assert sc.policies.allocation == "nearest" and sc.policies.max_packages == 4  # merged key by key
    assert [r.id for r in sc.demand.regions] == ["a", "b"]  # a list replaces
    assert sc.node_ids == ["W1"]


def test_set_overrides_with_wildcard_append_and_lists(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(MINIMAL))
    (tmp_path / "v.yaml").write_text(
        "extends: base.yaml\nset:\n"
        "  - network.warehouses[+]: {id: W2, lat: 41, lon: -74}\n"
        "  - network.warehouses[+]: {id: W3, lat: 42, lon: -73}\n"
        "  - network.warehouses[*].pickers: 5\n"
        "    network.warehouses[0].packers: 3\n")
    sc = load_scenario(tmp_path / "v.yaml")
    assert sc.node_ids == ["W1", "W2", "W3"]
    assert [w.pickers for w in sc.network.warehouses] == [5, 5, 5]
    assert [w.packers for w in sc.network.warehouses] == [3, 4, 4]


def test_variant_chain_and_its_errors(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(MINIMAL))
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nseed: 9\n")
    (tmp_path / "c.yaml").write_text("extends: b.yaml\nset: {policies.routing: s-shape}\n")
    sc = load_scenario(tmp_path / "c.yaml")
    assert sc.seed == 9 and sc.policies.routing == "s-shape"
    (tmp_path / "loop1.yaml").write_text("extends: loop2.yaml\n")
    (tmp_path / "loop2.yaml").write_text("extends: loop1.yaml\n")
    with pytest.raises(OmsimError, match="extends itself"):
        load_scenario(tmp_path / "loop1.yaml")
    (tmp_path / "orphan.yaml").write_text("extends: nowhere.yaml\n")
    with pytest.raises(OmsimError, match=r"orphan\.yaml: extends: base scenario .*nowhere\.yaml does not exist"):
        load_scenario(tmp_path / "orphan.yaml")
    (tmp_path / "badset.yaml").write_text("extends: a.yaml\nset:\n  network.warehouses[4].pickers: 2\n")
    with pytest.raises(OmsimError, match=r"badset\.yaml: set: network\.warehouses\[4\]\.pickers: no item \[4\]"):
        load_scenario(tmp_path / "badset.yaml")
    (tmp_path / "badvalue.yaml").write_text("extends: a.yaml\nset:\n  network.warehouses[0].pickers: -1\n")
    with pytest.raises(OmsimError, match=r"badvalue\.yaml: network\.warehouses\[0\]\.pickers"):
        load_scenario(tmp_path / "badvalue.yaml")


def test_library_variants_change_only_what_they_say():
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    dflt = load_scenario()
    assert base.model_dump(exclude={"name"}) == dflt.model_dump(exclude={"name"})
    rate = load_scenario(ROOT / "scenarios" / "carrier-rate-increase.yaml")
    assert rate.network == base.network and rate.demand == base.demand
    assert rate.carriers[0].services[0].per_package == 6.14 and rate.carriers[1] == base.carriers[1]
    four = load_scenario(ROOT / "scenarios" / "fourth-warehouse.yaml")
    assert four.node_ids == base.node_ids + ["DFW"]
    assert four.network.warehouses[:3] == base.network.warehouses


def test_carrier_capacity_must_hold_one_order_of_packages(tmp_path):
    raw = json.loads(json.dumps(MINIMAL))
    raw["carriers"] = [{"id": "c", "services": [{"id": "s", "daily_capacity": 2}]}]
    raw["policies"] = {"max_packages": 3}
    e = _bad(tmp_path, yaml.safe_dump(raw))
    assert "daily_capacity (2) must be at least policies.max_packages (3)" in e.message


def test_layout_section_mirrors_the_warehouse_layout_type():
    # The scenario's layout section is passed to omsim.warehouse.Layout as keyword arguments:
    # the two must name the same fields with the same defaults.
    import dataclasses

    from omsim.scenario import LayoutSpec
    from omsim.warehouse import Layout

    spec = LayoutSpec().model_dump()
    dom = {f.name: f.default for f in dataclasses.fields(Layout) if f.init}
    assert spec == {k: dom[k] for k in spec}
    assert set(spec) == set(dom)
    Layout(**LayoutSpec(blocks=2, aisles=12, cells_per_aisle=40, depot="back").model_dump())
