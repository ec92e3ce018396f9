"""Rebuild this folder's extract and catalogue from the full Online Retail II sheet.

    python scenarios/data/uk-gift-retailer/make_extract.py ../shared/data/online-retail-ii/online_retail_II_2009_2010.csv.gz

Writes ``orders-2010-11-01-to-07.csv.gz`` (every line of the invoices dated
2010-11-01 to 2010-11-07, cancellations included, in the UCI form without
Description) and ``catalogue.csv`` (every product SKU of the year: id, its
median price, unit cost = 55 % of it, an assumed 0.15 kg and 0.4 l (the
data has none), and popularity = its share of the
year's units, as read by omsim.history.read_history).
"""
import sys
from pathlib import Path

import pandas as pd

from omsim.history import read_history

here = Path(__file__).resolve().parent
src = Path(sys.argv[1])
raw = pd.read_csv(src, dtype=str, keep_default_na=False)
day = raw["InvoiceDate"].str[:10]
week = raw[(day >= "2010-11-01") & (day <= "2010-11-07")].drop(columns=["Description"])
week.to_csv(here / "orders-2010-11-01-to-07.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
lines = read_history(src)
g = lines.groupby("sku", sort=True)
cat = pd.DataFrame({"price": g["price"].median().round(2), "units": g["qty"].sum()})
cat["unit_cost"] = (cat["price"] * 0.55).round(2)
cat["popularity"] = (cat["units"] / cat["units"].sum()).round(8)
cat["category"] = "gifts"
cat["weight_kg"] = 0.15            # assumed: the data has no weights or sizes (small gift-ware)
cat["volume_l"] = 0.4
cat.index.name = "id"
cat[["price", "unit_cost", "weight_kg", "volume_l", "category", "popularity"]].to_csv(here / "catalogue.csv")
print(f"{len(week)} extract lines, {len(cat)} SKUs")
