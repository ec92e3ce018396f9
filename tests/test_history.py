"""omsim.history.read: the two file forms, each drop rule, bad rows, gzip and Parquet."""
import gzip
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from omsim.cli import main
from omsim.errors import OmsimError
from omsim.history import RULES, load_history, read_history

UCI_HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
# Hand-written: one line per rule, and three kept lines in two orders.
UCI_ROWS = [
    "489434,85048,LIGHTS,12,2009-12-01 07:45:00,6.95,13085,United Kingdom",    # kept
    "489434,79323P,PINK,6,2009-12-01 07:45:00,6.75,13085,United Kingdom",      # kept
    "489434,POST,POSTAGE,1,2009-12-01 07:45:00,18.0,13085,United Kingdom",     # non_product
    "C489449,22087,PAPER,-12,2009-12-01 10:33:00,2.95,16321,Australia",         # cancellation
    "C489449,M,Manual,-1,2009-12-01 10:33:00,5.0,16321,Australia",              # cancellation (not returned)
    "A506401,B,Adjust bad debt,1,2010-04-29 13:36:00,-53594.36,,United Kingdom",  # adjustment
    "489500,21232,DAMAGED,-3,2009-12-01 11:00:00,0,,United Kingdom",           # non_positive_qty
    "489501,21233,FREE,4,2009-12-01 12:00:00,0,,United Kingdom",               # non_positive_price
    "489502,gift_0001_20,VOUCHER,1,2009-12-01 12:30:00,17.0,,United Kingdom",  # non_product (prefix)
    "489503,TEST001,TEST,5,2009-12-01 12:31:00,4.5,,United Kingdom",           # non_product (prefix)
    "489435,22041,CARD,48,2009-12-01 07:46:00,2.1,,France",                    # kept, no customer
]


def write(tmp_path, name, text, *, gz=False):
    p = tmp_path / name
    if gz:
        with gzip.open(p, "wt") as f:
            f.write(text)
    else:
        p.write_text(text)
    return p


def test_uci_form_each_rule(tmp_path):
    p = write(tmp_path, "uci.csv", UCI_HEADER + "\n".join(UCI_ROWS) + "\n")
    h = load_history(p)
    r = h.report
    assert r.form == "uci" and r.rows == len(UCI_ROWS)
    assert r.dropped == {"cancellation": 2, "adjustment": 1, "non_product": 3,
                         "non_positive_qty": 1, "non_positive_price": 1}
    assert list(r.dropped) == list(RULES)
    assert r.kept == 3 and r.orders == 2 and r.kept + sum(r.dropped.values()) == r.rows
    df = h.lines
    assert list(df.columns) == ["order_id", "created_at", "sku", "qty", "customer_id", "price", "country"]
    assert df["order_id"].tolist() == ["489434", "489434", "489435"]
    assert df["sku"].tolist() == ["85048", "79323P", "22041"]
    assert df["qty"].dtype == np.int64 and df["qty"].tolist() == [12, 6, 48]
    assert df["price"].tolist() == [6.95, 6.75, 2.1]
    assert df["customer_id"].iloc[0] == "13085" and pd.isna(df["customer_id"].iloc[2])
    # UK local time, tz-aware; December is GMT so the UTC clock reads the same
    assert str(df["created_at"].dt.tz) == "Europe/London"
    assert df["created_at"].iloc[0] == pd.Timestamp("2009-12-01 07:45", tz="UTC")
    # the product cancellation comes back separately, as units cancelled
    c = h.cancellations
    assert c["order_id"].tolist() == ["C489449"] and c["sku"].tolist() == ["22087"]
    assert c["qty"].tolist() == [12] and r.cancellations == 1


def test_read_history_attrs_and_keep_cancellations(tmp_path):
    p = write(tmp_path, "uci.csv", UCI_HEADER + "\n".join(UCI_ROWS) + "\n")
    df = read_history(p)
    assert len(df) == 3 and df.attrs["report"].kept == 3
    both = read_history(p, keep_cancellations=True)
    assert len(both) == 4 and both["cancelled"].sum() == 1
    assert both["created_at"].is_monotonic_increasing


def test_summer_time_is_local(tmp_path):
    p = write(tmp_path, "uci.csv", UCI_HEADER + "500000,85048,X,1,2010-07-01 09:00:00,1.0,1,United Kingdom\n")
    t = read_history(p)["created_at"].iloc[0]
    assert t.hour == 9 and t == pd.Timestamp("2010-07-01 08:00", tz="UTC")


GENERIC = ("order_id,created_at,sku,qty,region,service_level,customer_id\n"
           "C17,2024-03-04 09:00:00,A,2,north,standard,c1\n"
           "C17,2024-03-04 09:00:00,B,1,north,standard,c1\n"
           "o2,2024-03-04T08:30:00+01:00,A,0,south,express,\n"
           "o3,2024-03-04 07:00:00,B,5,south,express,\n")


def test_generic_form_keeps_order_ids_and_sorts_by_time(tmp_path):
    p = write(tmp_path, "g.csv", GENERIC)
    df = read_history(p)
    r = df.attrs["report"]
    assert r.form == "generic"
    assert r.dropped["cancellation"] == 0 and r.dropped["non_positive_qty"] == 1
    assert df["order_id"].tolist() == ["o3", "C17", "C17"]      # by time; C17 is an order here
    assert str(df["created_at"].dt.tz) == "UTC"
    assert df["region"].tolist() == ["south", "north", "north"]
    assert df["service_level"].tolist() == ["express", "standard", "standard"]


def test_offsets_are_exact(tmp_path):
    p = write(tmp_path, "g.csv", "order_id,created_at,sku,qty\no,2024-03-04T08:30:00+01:00,A,3\n")
    assert read_history(p)["created_at"].iloc[0] == pd.Timestamp("2024-03-04 07:30", tz="UTC")


def test_gzip_and_parquet_read_the_same(tmp_path):
    text = UCI_HEADER + "\n".join(UCI_ROWS) + "\n"
    plain = read_history(write(tmp_path, "u.csv", text))
    gz = read_history(write(tmp_path, "u.csv.gz", text, gz=True))
    pd.testing.assert_frame_equal(plain, gz)
    raw = pd.read_csv(tmp_path / "u.csv", keep_default_na=False, dtype={"Invoice": str, "StockCode": str})
    raw["Customer ID"] = pd.to_numeric(raw["Customer ID"])        # floats with NaN, as spreadsheets give
    raw.to_parquet(tmp_path / "u.parquet")
    pq = read_history(tmp_path / "u.parquet")
    pd.testing.assert_frame_equal(plain.reset_index(drop=True), pq.reset_index(drop=True), check_dtype=False)
    assert pq["customer_id"].iloc[0] == "13085"


@pytest.mark.parametrize("row, column, rowno", [
    ("o1,2024-03-04 09:00,A,two", "qty", 2),
    ("o1,2024-03-04 09:00,A,1.5", "qty", 2),
    ("o1,yesterday,A,1", "created_at", 2),
    (",2024-03-04 09:00,A,1", "order_id", 2),
    ("o1,2024-03-04 09:00,,1", "sku", 2),
])
def test_bad_rows_name_file_row_and_column(tmp_path, row, column, rowno):
    p = write(tmp_path, "bad.csv", "order_id,created_at,sku,qty\no0,2024-03-04 08:00,A,1\n" + row + "\n")
    with pytest.raises(OmsimError) as e:
        read_history(p)
    msg = e.value.message
    assert str(p) in msg and f"data row {rowno} (line {rowno + 1})" in msg and f"column {column}" in msg


def test_bad_uci_row_names_the_files_column(tmp_path):
    p = write(tmp_path, "bad.csv", UCI_HEADER + UCI_ROWS[0] + "\n" + UCI_ROWS[1].replace(",6.75,", ",cheap,") + "\n")
    with pytest.raises(OmsimError, match=r"data row 2 \(line 3\): column Price: expected a number"):
        read_history(p)


def test_unknown_header_and_missing_file(tmp_path):
    with pytest.raises(OmsimError, match="header: expected the generic columns"):
        read_history(write(tmp_path, "x.csv", "a,b\n1,2\n"))
    with pytest.raises(OmsimError, match="no such history file"):
        read_history(tmp_path / "nope.csv")


def test_cli_history_exit_2_on_a_bad_row(tmp_path):
    p = write(tmp_path, "bad.csv", "order_id,created_at,sku,qty\no0,2024-03-04 08:00,A,1\no1,2024-03-04 09:00,A,-x\n")
    r = CliRunner().invoke(main, ["history", str(p)])
    assert r.exit_code == 2, r.output
    assert "data row 2 (line 3): column qty" in r.output and "Traceback" not in r.output
    ok = write(tmp_path, "ok.csv", UCI_HEADER + "\n".join(UCI_ROWS) + "\n")
    r = CliRunner().invoke(main, ["history", str(ok)])
    assert r.exit_code == 0 and "kept 3 lines in 2 orders" in r.output


def test_full_shared_history(shared_dir):
    path = shared_dir / "data" / "online-retail-ii" / "online_retail_II_2009_2010.csv.gz"
    t0 = time.perf_counter()
    h = load_history(path)
    elapsed = time.perf_counter() - t0
    r = h.report
    assert r.rows == 525_461                                   # SOURCE.md
    assert r.dropped["cancellation"] == (pd.read_csv(path, usecols=["Invoice"], dtype=str)["Invoice"]
                                         .str.startswith("C").sum())
    # SOURCE.md: about 20,950 orders once cancellations and adjustments go, median 15 lines
    assert 20_000 <= r.orders <= 21_000
    per_order = h.lines.groupby("order_id").size()
    assert 14 <= per_order.median() <= 16
    assert (h.lines["qty"] > 0).all() and (h.lines["price"] > 0).all()
    assert elapsed < 20, f"read took {elapsed:.1f}s"


def test_omsim_demand_round_trip(tmp_path):
    from pathlib import Path
    from omsim.rng import Streams
    from omsim.scenario import load_scenario
    from omsim.sim.demand import generate_demand

    scen = Path(__file__).resolve().parents[1] / "scenarios" / "small-business.yaml"
    out = tmp_path / "demand.csv"
    r = CliRunner().invoke(main, ["demand", str(scen), "--start", "2027-03-29", "--days", "3",
                                  "--seed", "4", "--out", str(out)])
    assert r.exit_code == 0, r.output
    back = read_history(out)
    assert back.attrs["report"].form == "generic" and sum(back.attrs["report"].dropped.values()) == 0
    sc = load_scenario(scen)
    sc.horizon.start = pd.Timestamp("2027-03-29").date()      # the clocks go forward on 03-28
    dem = generate_demand(sc, Streams(4), 3)
    assert back["order_id"].nunique() == dem.n and len(back) == dem.line_ptr[-1]
    assert back["qty"].tolist() == dem.line_qty.tolist()
    assert back["sku"].tolist() == [sc.sku_ids[i] for i in dem.line_sku]
    first = back.drop_duplicates("order_id")
    hours = (first["created_at"] - pd.Timestamp("2027-03-29", tz="UTC")) / pd.Timedelta(hours=1)
    np.testing.assert_allclose(hours.to_numpy(), dem.created_h, atol=1 / 3600)
    assert first["region"].tolist() == [sc.demand.regions[i].id for i in dem.region]
    bad = CliRunner().invoke(main, ["demand", str(tmp_path / "none.yaml"), "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and not (tmp_path / "x.csv").exists()
