"""Which order a history's cancellation cancels (the matching rule), and what the matches look like.

A UCI cancellation invoice (``C...``) names a customer, stock codes and
units, not the invoice it cancels. The rule: each cancellation line cancels
the **latest order of the same customer, placed at or before the
cancellation, that has a line of the same SKU** (its units: at most those
the order has of it). A cancellation line matches nothing when it has no
customer id (``no_customer``) or when that customer has no such earlier
order in the history (``no_order``: the order was placed before the file
starts, or under another id). The lines of one cancellation invoice that
match one order are one cancellation of that order, at the invoice's time.

On the Online Retail II sheet 2009-2010 this matches 85 % of the 9,581
cancellation lines, in 3,503 of the 20,573 orders (17 %); the delay from
the order to its cancellation has median 224 h (p10 2.5 h, p90 1,511 h):
most come after the goods have left, as credits, which a simulation counts
as too late to cancel.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: Outcome of matching a cancellation line, in code order.
MATCH = ("matched", "no_customer", "no_order")


def match_cancellations(lines: pd.DataFrame, cancellations: pd.DataFrame) -> pd.DataFrame:
    """Match each cancellation line to the order it cancels (see the module docstring).

    Parameters
    ----------
    lines, cancellations
        :func:`omsim.history.load_history`'s ``lines`` and ``cancellations``
        (``order_id``, ``created_at``, ``sku``, ``qty``, ``customer_id`` when given).

    Returns
    -------
    pandas.DataFrame
        One row per cancellation line, in time order: ``cancel_id``, ``created_at``, ``sku``, ``qty``
        (units named), ``match`` (one of :data:`MATCH`), ``order_id`` (the matched order, or missing),
        ``ordered`` (its units of the SKU, 0 when unmatched) and ``delay_h`` (order to cancellation,
        NaN when unmatched).
    """
    ct = _ns(cancellations["created_at"])
    order = np.argsort(ct, kind="stable")
    cust = (cancellations["customer_id"].astype("string").to_numpy(dtype=object)[order]
            if "customer_id" in cancellations else np.full(len(cancellations), None, dtype=object))
    c = pd.DataFrame({"cancel_id": cancellations["order_id"].astype(str).to_numpy()[order],
                      "created_at": cancellations["created_at"].iloc[order].reset_index(drop=True),
                      "sku": cancellations["sku"].astype(str).to_numpy()[order],
                      "qty": cancellations["qty"].to_numpy(np.int64)[order]})
    out = c.assign(match="no_customer", order_id=pd.array([None] * len(c), dtype="string"), ordered=0,
                   delay_h=np.nan)
    known = np.flatnonzero(pd.notna(cust))
    if "customer_id" not in lines or not known.size or not len(lines):
        return out
    # Only the lines of customers that cancel something, of the SKUs they cancel, can match: those first.
    # Then the order's units per (order, sku) and its first time (an order's lines may repeat a SKU), keys as
    # integer codes (customer and SKU factorised over both frames), times as int64 ns.
    lc = lines["customer_id"].astype("string")
    ls = lines["sku"].astype(str)
    sel = np.flatnonzero((lc.isin(pd.unique(cust[known])) & ls.isin(pd.unique(c["sku"].to_numpy()[known]))).to_numpy())
    lcust = lc.to_numpy(dtype=object)[sel]
    cc, _ = pd.factorize(np.concatenate([lcust, cust]), use_na_sentinel=True)
    sk, _ = pd.factorize(np.concatenate([ls.to_numpy(dtype=object)[sel], c["sku"].to_numpy(dtype=object)]))
    n = sel.size
    oid, oid_names = pd.factorize(lines["order_id"].astype(str).to_numpy(dtype=object)[sel])
    ol = pd.DataFrame({"o": oid, "k": cc[:n], "s": sk[:n], "qty": lines["qty"].to_numpy(np.int64)[sel],
                       "t": _ns(lines["created_at"].iloc[sel])})
    g = ol.groupby(["o", "s"], sort=False).agg(k=("k", "first"), ordered=("qty", "sum"), t=("t", "min"))
    g = g.reset_index().sort_values("t", kind="stable")
    q = pd.DataFrame({"row": known, "k": cc[n:][known], "s": sk[n:][known], "ct": ct[order][known]})
    m = pd.merge_asof(q, g, left_on="ct", right_on="t", by=["k", "s"], direction="backward",
                      allow_exact_matches=True)
    rows = m["row"].to_numpy()
    hit = m["o"].notna().to_numpy()
    out.loc[rows, "match"] = np.where(hit, "matched", "no_order")
    o = m["o"].to_numpy()[hit].astype(np.int64)
    out.loc[rows[hit], "order_id"] = np.asarray(oid_names, dtype=object)[o]
    out.loc[rows[hit], "ordered"] = m["ordered"].to_numpy()[hit].astype(np.int64)
    out.loc[rows[hit], "delay_h"] = (m["ct"].to_numpy()[hit] - m["t"].to_numpy()[hit]) / 3.6e12
    return out


def _ns(t: pd.Series) -> np.ndarray:
    """Timestamps (timezone-aware) as int64 nanoseconds since the epoch, UTC."""
    return t.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]").to_numpy().view(np.int64)


def _line_probability(n_lines: np.ndarray, target: float) -> float:
    """The probability p of naming each line such that orders of ``n_lines`` lines, naming at least one,
    name on average the share ``target`` of their lines: E[max(Bin(L, p), 1)] / L = p + (1 - p)^L / L."""
    lo, hi = 0.0, 1.0
    for _ in range(40):
        p = 0.5 * (lo + hi)
        lo, hi = (p, hi) if float(np.mean(p + (1.0 - p) ** n_lines / n_lines)) < target else (lo, p)
    return 0.5 * (lo + hi)


def cancellation_stats(lines: pd.DataFrame, matched: pd.DataFrame) -> dict:
    """What the fit keeps of the matches: ``share`` (orders with a matched cancellation / orders),
    ``line_share`` (the probability of naming each line that gives orders drawn at random, naming at least
    one, the mean share of their lines named observed on the cancelled orders), ``delay_h`` (``[hour, count]`` rows of
    the delays in whole hours), and the counts ``lines``, ``matched``, ``no_customer``, ``no_order``."""
    hit = matched[matched["match"] == "matched"]
    n_orders = lines["order_id"].nunique()
    per_order_lines = lines.groupby("order_id", sort=False)["sku"].nunique()
    named = hit.groupby("order_id", sort=False)["sku"].nunique()
    n_lines = per_order_lines.reindex(named.index).to_numpy(np.float64)
    # The generator cancels orders drawn at random: p is solved over every order's lines, not the cancelled ones'.
    line_share = (_line_probability(per_order_lines.to_numpy(np.float64), float(np.minimum(named / n_lines, 1.0).mean()))
                  if len(named) else 1.0)
    # One delay per cancellation of an order (its invoice), not per line.
    first = hit.drop_duplicates(["cancel_id", "order_id"])
    hours, counts = np.unique(np.floor(first["delay_h"].to_numpy(np.float64)).astype(np.int64), return_counts=True)
    counts_by = matched["match"].value_counts()
    return {"share": float(named.size / n_orders) if n_orders else 0.0, "line_share": line_share,
            "delay_h": [[int(h), int(k)] for h, k in zip(hours, counts)],
            "lines": int(len(matched)), **{k: int(counts_by.get(k, 0)) for k in MATCH}}
