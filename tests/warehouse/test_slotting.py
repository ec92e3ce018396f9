import numpy as np
import pandas as pd
import pytest

from omsim.errors import OmsimError
from omsim.warehouse import Layout, slot
from omsim.warehouse.slotting import locations_by_distance


def _dist(layout, a, c):
    return layout.depot_distances(np.column_stack([a, c]))


def test_random_slotting_uses_distinct_locations_and_is_reproducible():
    lay = Layout(aisles=4, cells_per_aisle=6, sides=2)
    a, c, s = slot(lay, 40, "random", rng=np.random.default_rng(7))
    assert len(set(zip(a, c, s))) == 40
    assert a.max() < 4 and c.max() < 6 and s.max() < 2 and min(a.min(), c.min(), s.min()) >= 0
    again = slot(lay, 40, "random", rng=np.random.default_rng(7))
    for x, y in zip((a, c, s), again):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(OmsimError, match="do not fit"):
        slot(lay, 49, "random", rng=np.random.default_rng(0))


def test_class_based_single_class_orders_by_popularity_from_the_depot():
    lay = Layout(aisles=5, cells_per_aisle=8, depot_aisle=2, depot="back")
    rng = np.random.default_rng(3)
    pop = rng.random(50)
    a, c, s = slot(lay, 50, "class", popularity=pop, classes=(1.0,))
    d = _dist(lay, a, c)
    order = np.argsort(-pop)
    assert np.all(np.diff(d[order]) >= 0), "more popular SKUs never farther from the depot"
    # They fill exactly the 50 nearest locations.
    nearest = np.sort(locations_by_distance(lay)[3][:50])
    np.testing.assert_array_equal(np.sort(d), nearest)


def test_class_based_abc_zones_with_random_placement_inside_each_zone():
    lay = Layout(aisles=6, cells_per_aisle=10, depot_aisle=0)
    n = 100
    pop = 1.0 / np.arange(1, n + 1)  # SKU 0 most popular
    a, c, s = slot(lay, n, "class", popularity=pop, rng=np.random.default_rng(1))
    d = _dist(lay, a, c)
    A, B, C = d[:20], d[20:50], d[50:]
    assert A.max() <= B.min() and B.max() <= C.min()
    assert len(set(zip(a, c, s))) == n
    # Random within the A zone: not the strict popularity order every time.
    assert not np.all(np.diff(A) >= 0)
    with pytest.raises(OmsimError, match="popularity"):
        slot(lay, n, "class")
    with pytest.raises(OmsimError, match="classes"):
        slot(lay, n, "class", popularity=pop, classes=(0.5, 0.2))


def test_explicit_from_csv(tmp_path):
    lay = Layout(aisles=3, cells_per_aisle=5, sides=2)
    f = tmp_path / "slots.csv"
    f.write_text("sku,aisle,cell,side\nB,2,4,1\nA,0,0,0\nC,1,3,\n")
    a, c, s = slot(lay, 3, "explicit", table=f, sku_ids=["A", "B", "C"])
    np.testing.assert_array_equal(np.column_stack([a, c, s]), [[0, 0, 0], [2, 4, 1], [1, 3, 0]])
    # Integer SKU indices and other table forms.
    f2 = tmp_path / "idx.csv"
    f2.write_text("sku,aisle,cell\n1,2,4\n0,0,0\n")
    np.testing.assert_array_equal(slot(lay, 2, "explicit", table=f2)[0], [0, 2])
    df = pd.DataFrame({"sku": ["A", "B"], "aisle": [1, 2], "cell": [2, 3]})
    np.testing.assert_array_equal(slot(lay, 2, "explicit", table=df, sku_ids=["A", "B"])[1], [2, 3])
    np.testing.assert_array_equal(slot(lay, 2, "explicit", table={1: (0, 1, 1), 0: (2, 2)})[2], [0, 1])


@pytest.mark.parametrize("row, column", [
    ("Z,0,0,0", "sku"), ("A,x,0,0", "aisle"), ("A,0,5,0", "cell"), ("A,3,0,0", "aisle"),
    ("A,0,0,2", "side"), ("A,0,-1,0", "cell"), ("A,0,1.5,0", "cell"),
])
def test_explicit_bad_rows_name_file_row_and_column(tmp_path, row, column):
    lay = Layout(aisles=3, cells_per_aisle=5, sides=2)
    f = tmp_path / "slots.csv"
    f.write_text(f"sku,aisle,cell,side\nB,1,1,0\n{row}\n")
    with pytest.raises(OmsimError, match=f"slots.csv: row 3, column {column}") as exc:
        slot(lay, 2, "explicit", table=f, sku_ids=["A", "B"])
    assert exc.value.file == str(f)


def test_explicit_missing_columns_duplicates_and_absent_skus(tmp_path):
    lay = Layout(aisles=3, cells_per_aisle=5)
    f = tmp_path / "s.csv"
    f.write_text("sku,aisle\nA,1\n")
    with pytest.raises(OmsimError, match="missing column 'cell'"):
        slot(lay, 1, "explicit", table=f, sku_ids=["A"])
    f.write_text("sku,aisle,cell\nA,1,1\nA,2,2\n")
    with pytest.raises(OmsimError, match="row 3, column sku: SKU 'A' listed twice"):
        slot(lay, 1, "explicit", table=f, sku_ids=["A"])
    f.write_text("sku,aisle,cell\nA,1,1\n")
    with pytest.raises(OmsimError, match="no location"):
        slot(lay, 2, "explicit", table=f, sku_ids=["A", "B"])
    a, c, s = slot(lay, 2, "explicit", table=f, sku_ids=["A", "B"], missing="random", rng=np.random.default_rng(0))
    assert (a[0], c[0], s[0]) == (1, 1, 0) and (a[1], c[1], s[1]) != (1, 1, 0)
    with pytest.raises(OmsimError, match="cannot read"):
        slot(lay, 1, "explicit", table=tmp_path / "nope.csv", sku_ids=["A"])


def test_unknown_policy():
    with pytest.raises(OmsimError, match="policy"):
        slot(Layout(), 3, "alphabetical")
