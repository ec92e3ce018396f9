"""The HTML report of a simulation run: KPI table, figures, and their PNG files.

:func:`write_report` reads a run directory written by ``Result.write`` /
``omsim simulate --out`` (``kpis.json``, ``orders.csv``, ``events.csv``,
``ledger.csv``, ``daily.csv``), draws the figures of
:mod:`omsim.report.figures`, saves each as ``figures/<name>.png`` and writes
``report.html`` beside them. The HTML references the PNGs relatively, so the
directory can be moved, zipped or served as it is.

Only ``kpis.json`` is required; a figure whose table is missing is replaced by
a note. A missing directory or an unreadable file is an
:class:`~omsim.errors.OmsimError` naming the file.
"""
from __future__ import annotations

import datetime as _dt
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from omsim.errors import OmsimError
from omsim.report import figures as F
from omsim.kpis import is_kpi, kpi_info
from omsim.report.format import fmt_kpi, glossary_rows
from omsim.report.tables import is_number, kpi_rows
from omsim.rundir import write_text_atomic

__all__ = ["RunData", "load_run", "write_report", "report_run_directory", "FIGURES"]

#: Figure file names (without ``.png``) in report order, with captions.
FIGURES: dict[str, str] = {
    "kpis": "Service KPIs of the run (share of orders, units or picks, depending on the KPI).",
    "daily": "Orders received, packages shipped and orders still open, per day (grey: no warehouse works).",
    "cycle_time": "Time from order placement to delivery, for delivered orders.",
    "on_time_by_service": "Share of deliveries arriving no later than promised, per carrier service.",
    "utilisation": "Picker hours worked inside the shifts over picker shift hours, per warehouse and day "
                   "(closed days shaded; tours run on past closing are overtime, in hours in the legend).",
    "inventory": "Units on hand per node; red crosses mark the moments a SKU ran out there.",
    "cost_per_order": "Average cost per order by component.",
}


@dataclass
class RunData:
    """A run directory read into the tidy inputs of the figure functions."""

    run_dir: Path
    kpis: dict
    orders: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    ledger: pd.DataFrame = field(default_factory=pd.DataFrame)
    daily: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    replications: pd.DataFrame | None = None  # one row per replication, when the run has several
    scenario: dict = field(default_factory=dict)  # the run's scenario.yaml as plain data ({} when absent)

    @property
    def currency(self) -> str:
        """The scenario's currency code ('' when unknown)."""
        c = self.scenario.get("currency", self.kpis.get("currency", ""))
        if not c and self.scenario:
            from omsim.scenario import Scenario

            c = Scenario.model_fields["currency"].default      # the saved scenario left it at the default
        return c if isinstance(c, str) else ""

    @property
    def start(self) -> _dt.date | None:
        """The horizon's first date (hour 0), from the saved scenario."""
        v = (self.scenario.get("horizon") or {}).get("start") if isinstance(self.scenario.get("horizon"), dict) else None
        if isinstance(v, _dt.date):
            return v
        try:
            return _dt.date.fromisoformat(str(v)) if v else None
        except ValueError:
            return None

    def closed_days(self, days: int) -> list[int]:
        """Days (0-based) on which no warehouse has a shift, from the saved scenario's calendars."""
        from omsim.shifts import Calendar, normalise_shifts

        whs = (self.scenario.get("network") or {}).get("warehouses") or []
        if not whs or self.start is None or any(not w.get("shifts") for w in whs):
            return []       # a warehouse without shifts of its own keeps the default ones, every day
        try:
            cals = [Calendar(normalise_shifts([(s["start"], s["end"], s.get("weekdays", range(7)))
                                               for s in w["shifts"]]), self.start.weekday()) for w in whs]
        except (OmsimError, KeyError, TypeError):
            return []
        return [d for d in range(days) if all(c.open_hours(24.0 * d, 24.0 * d + 24.0) == 0 for c in cals)]

    def facts(self) -> dict:
        """Scenario name, seed, days and replications of the run (those known)."""
        manifest = _read_json(self.run_dir / "manifest.json")
        named = manifest.get("scenario")
        out = {"scenario": self.scenario.get("name") or (named.get("name") if isinstance(named, dict) else None)
               or self.kpis.get("scenario")}
        for k in ("seed", "days", "replications"):
            v = manifest.get(k, self.kpis.get(k))
            if is_number(v):
                out[k] = int(v)
        return {k: v for k, v in out.items() if v is not None}

    # -- adapters to the figure inputs ------------------------------------
    def daily_flow(self) -> pd.DataFrame:
        """``day, orders, shipments, backlog`` (whichever the run recorded)."""
        d = self.daily
        if d.empty:
            return pd.DataFrame({"day": []})
        out = pd.DataFrame({"day": _day_column(d)})
        for c in ("orders", "shipments", "backlog"):
            if c in d.columns:
                out[c] = pd.to_numeric(d[c], errors="coerce").to_numpy()
        return out

    def utilisation(self) -> pd.DataFrame:
        """Long form ``day, node, utilisation`` from the daily table.

        Accepts a long table (``node`` and ``utilisation`` columns) or one
        column per node named ``utilisation_<node>`` / ``util_<node>`` /
        ``<node>_utilisation``.
        """
        d = self.daily
        if d.empty:
            return pd.DataFrame({"day": [], "node": [], "utilisation": []})
        day = _day_column(d)
        if {"node", "utilisation"} <= set(d.columns):
            return pd.DataFrame({"day": day, "node": d["node"].astype(str).to_numpy(),
                                 "utilisation": pd.to_numeric(d["utilisation"], errors="coerce").to_numpy()})
        frames = []
        for c in d.columns:
            m = (re.fullmatch(r"(?:utilisation|utilization|util)[_:](.+)", c)
                 or re.fullmatch(r"(.+)[_:](?:utilisation|utilization|util)", c))
            if m:
                node = m.group(1)
                ot = d[f"overtime_h_{node}"] if f"overtime_h_{node}" in d.columns else np.zeros(len(d))
                frames.append(pd.DataFrame({"day": day, "node": node,
                                            "utilisation": pd.to_numeric(d[c], errors="coerce").to_numpy(),
                                            "overtime_h": pd.to_numeric(ot, errors="coerce")}))
        if not frames:
            return pd.DataFrame({"day": [], "node": [], "utilisation": []})
        return pd.concat(frames, ignore_index=True)

    def deliveries(self) -> pd.DataFrame:
        """Delivered orders with ``service``, ``promised_h``, ``delivered_h``.

        The service comes from ``orders.service`` when the run recorded it,
        else from the order's shipping events (``detail`` holding
        ``carrier/service`` or ``service=...``); an order shipped by several
        services counts under each.
        """
        o = self.orders
        if o.empty or "delivered_h" not in o.columns or "promised_h" not in o.columns:
            return pd.DataFrame({"service": [], "on_time": []})
        o = o[np.isfinite(pd.to_numeric(o["delivered_h"], errors="coerce"))]
        if "service" in o.columns:
            return o[["order_id", "service", "promised_h", "delivered_h"]].copy()
        ev = self.events
        if ev.empty or not {"order_id", "event", "detail"} <= set(ev.columns):
            return pd.DataFrame({"service": [], "on_time": []})
        ship = ev[ev["event"].astype(str).str.lower().isin(["ship", "shipped", "shipment", "handover", "handed_over"])]
        svc = ship["detail"].map(_service_of)
        pairs = pd.DataFrame({"order_id": ship["order_id"], "service": svc}).dropna().drop_duplicates()
        return pairs.merge(o[["order_id", "promised_h", "delivered_h"]], on="order_id", how="inner")

    def cost_breakdown(self) -> dict[str, float]:
        """Average cost per order by component, from the KPIs.

        KPIs named ``cost_per_order_<component>`` (or ``<component>_cost_per_order``)
        are the components; when there are none, the total ``cost_per_order``
        (or the mean of ``orders.cost``) is shown as one bar.
        """
        k = self.kpis
        comps: dict[str, float] = {}
        for name, v in k.items():
            m = (re.fullmatch(r"cost_per_order_(.+)", name) or re.fullmatch(r"(.+)_cost_per_order", name))
            if m and is_number(v):
                comps[m.group(1)] = float(v)
        if comps:
            return comps
        if is_number(k.get("cost_per_order")):
            return {"total": float(k["cost_per_order"])}
        if "cost" in self.orders.columns and len(self.orders):
            return {"total": float(pd.to_numeric(self.orders["cost"], errors="coerce").mean())}
        return {}


def _day_column(d: pd.DataFrame) -> np.ndarray:
    if "day" in d.columns:
        return pd.to_numeric(d["day"], errors="coerce").to_numpy()
    if "time_h" in d.columns:
        return pd.to_numeric(d["time_h"], errors="coerce").to_numpy() / 24.0
    return np.arange(len(d), dtype=float)


def _service_of(detail) -> str | None:
    if not isinstance(detail, str) or not detail:
        return None
    m = re.search(r"service=([A-Za-z0-9_.\-/]+)", detail)
    if m:
        return m.group(1)
    m = re.search(r"([A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+)", detail)
    return m.group(1) if m else None


def _read_csv(path: Path, notes: list[str]) -> pd.DataFrame:
    parquet = path.with_suffix(".parquet")
    if not path.exists() and parquet.exists():      # a run streamed with --format parquet
        from omsim.sim.stream import read_table
        try:
            return read_table(parquet)
        except (OSError, ValueError) as exc:
            raise OmsimError(f"{parquet}: cannot read the Parquet file ({exc})", file=str(parquet)) from None
    if not path.exists():
        notes.append(f"{path.name} not found: its figures are left out")
        return pd.DataFrame()
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise OmsimError(f"{path}: cannot read the CSV ({exc})", file=str(path)) from None


def load_run(run_dir: str | Path) -> RunData:
    """Read a run directory.

    Parameters
    ----------
    run_dir
        A directory written by ``omsim simulate --out`` (``Result.write``).

    Returns
    -------
    RunData

    Raises
    ------
    OmsimError
        If the directory or its ``kpis.json`` is missing or unreadable, or a
        CSV cannot be parsed (the message names the file).
    """
    d = Path(run_dir)
    if not d.is_dir():
        raise OmsimError(f"{d}: no such run directory (expected the --out directory of omsim simulate)", file=str(d))
    kp = d / "kpis.json"
    notes: list[str] = []
    replications = None
    if kp.exists():
        try:
            kpis = json.loads(kp.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise OmsimError(f"{kp}: not valid JSON ({exc})", file=str(kp)) from None
        if not isinstance(kpis, dict):
            raise OmsimError(f"{kp}: expected a JSON object of KPI name to value", file=str(kp))
    elif (d / "replications.csv").exists():
        replications = _read_csv(d / "replications.csv", notes)
        num = replications.apply(pd.to_numeric, errors="coerce")
        kpis = {c: float(num[c].mean()) for c in num.columns
                if c not in ("replication", "seed", "point") and num[c].notna().any()}
        notes.append(f"KPIs are means over {len(replications)} replications (replications.csv); the per-order "
                     f"figures need the tables of a single run (omsim simulate --out DIR without -r).")
    else:
        raise OmsimError(f"{kp}: missing; {d} does not look like a run directory (omsim simulate --out DIR)",
                         file=str(kp))
    run = RunData(run_dir=d, kpis=kpis, orders=_read_csv(d / "orders.csv", notes),
                  events=_read_csv(d / "events.csv", notes), ledger=_read_csv(d / "ledger.csv", notes),
                  daily=_read_csv(d / "daily.csv", notes), notes=notes)
    run.replications = replications
    run.scenario = _read_scenario(d / "scenario.yaml")
    return run


def _read_scenario(path: Path) -> dict:
    """The run's saved scenario as plain data ({} when absent or unreadable: the report then names less)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def build_figures(run: RunData) -> dict:
    """Every report figure of ``run``, keyed by the names of :data:`FIGURES`."""
    currency = run.currency
    n_days = int(run.kpis["days"]) if is_number(run.kpis.get("days")) else (len(run.daily) or 1)
    cal = {"start": run.start, "closed": run.closed_days(n_days)}
    return {
        "kpis": F.kpi_summary(run.kpis),
        "daily": F.daily_flow(run.daily_flow(), **cal),
        "cycle_time": F.cycle_time(run.orders),
        "on_time_by_service": F.on_time_by_service(run.deliveries()),
        "utilisation": F.utilisation(run.utilisation(), **cal),
        "inventory": F.inventory(run.ledger, end_h=_end_h(run), **cal),
        "cost_per_order": F.cost_per_order(run.cost_breakdown(), currency=currency),
    }


def _end_h(run: RunData) -> float | None:
    days = run.kpis.get("days")
    return 24.0 * float(days) if is_number(days) and days > 0 else None


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1000px;margin:2em auto;
padding:0 1em;color:#222}
h1{margin-bottom:.2em} .meta{color:#666;margin-top:0}
table{border-collapse:collapse;margin:1em 0} td,th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums} td.key{color:#999;font-size:.8em;font-family:monospace}
figure{margin:1.5em 0} figure img{max-width:100%;border:1px solid #eee} figcaption{color:#555;font-size:.9em}
.note{color:#a60}
"""


def _replication_table(reps: pd.DataFrame, currency: str = "") -> str:
    """Mean, standard deviation, minimum and maximum of each KPI over the replications."""
    num = reps.apply(pd.to_numeric, errors="coerce")
    rows = []
    for c in num.columns:
        x = num[c].dropna().to_numpy(dtype=float)
        if not is_kpi(c) or x.size == 0:
            continue
        sd = float(x.std(ddof=1)) if x.size > 1 else float("nan")
        cells = "".join(f"<td class='num'>{html.escape(fmt_kpi(c, v, currency=currency))}</td>"
                        for v in (float(x.mean()), sd, float(x.min()), float(x.max())))
        rows.append(f"<tr><th>{html.escape(kpi_info(c).label)}</th>{cells}</tr>")
    return ("<table><tr><th>KPI</th><th>mean</th><th>std</th><th>min</th><th>max</th></tr>"
            + "".join(rows) + "</table>\n")


def render_html(run: RunData, figure_files: dict[str, str], title: str | None = None) -> str:
    """The report page: KPI table and the figures (``figure_files``: name → relative PNG path)."""
    facts = run.facts()
    title = title or f"omsim report: {facts.get('scenario', run.run_dir.name)}"
    rows = "\n".join(f"<tr><th>{html.escape(label)}</th><td class='num'>{html.escape(shown)}</td>"
                     f"<td class='key'>{html.escape(k)}</td></tr>" for k, label, shown in kpi_rows(run.kpis, run.currency))
    fact_text = "; ".join(f"{k} {html.escape(str(v))}" for k, v in facts.items())
    figs = "\n".join(
        f"<figure id='{name}'><img src='{html.escape(rel)}' alt='{html.escape(FIGURES.get(name, name))}'>"
        f"<figcaption>{html.escape(FIGURES.get(name, name))}</figcaption></figure>"
        for name, rel in figure_files.items())
    notes = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in run.notes)
    reps = ""
    if run.replications is not None and len(run.replications) > 1:
        reps = "<h2>Across replications</h2>" + _replication_table(run.replications, run.currency)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            f"<h1>{html.escape(title)}</h1><p class='meta' id='facts'>{fact_text}</p>"
            f"<p class='meta'>Run directory {html.escape(str(run.run_dir))}; report written {stamp}.</p>\n{notes}"
            f"<h2>Key performance indicators</h2><table>{rows}</table>\n{reps}<h2>Figures</h2>\n{figs}\n"
            f"{_glossary(run.currency)}</body></html>\n")


def _glossary(currency: str) -> str:
    """The KPI glossary as an HTML table."""
    rows = "".join(f"<tr><th>{html.escape(label)}</th><td class='key'>{html.escape(key)}</td><td>{html.escape(unit)}</td>"
                   f"<td>{html.escape(better)}</td><td>{html.escape(desc)}</td></tr>"
                   for label, key, unit, better, desc in glossary_rows(currency))
    return ("<h2 id='glossary'>KPI glossary</h2><table><tr><th>KPI</th><th>name</th><th>unit</th>"
            f"<th>better</th><th>meaning</th></tr>{rows}</table>\n")


def _read_json(path: Path) -> dict:
    """A JSON object from ``path``, {} when absent or unreadable (the manifest is verified elsewhere)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_report(run_dir: str | Path, out: str | Path | None = None, *, dpi: int = 110) -> Path:
    """Write ``report.html`` and ``figures/*.png`` for a run directory.

    Parameters
    ----------
    run_dir
        The run's output directory (``omsim simulate --out``).
    out
        Where to write the HTML (default ``<run_dir>/report.html``); the PNGs
        go to ``figures/`` beside it and are referenced relatively.
    dpi
        PNG resolution.

    Returns
    -------
    Path
        The HTML file.

    Raises
    ------
    OmsimError
        See :func:`load_run`; also when the output cannot be written.
    """
    run = load_run(run_dir)
    out = Path(out) if out is not None else run.run_dir / "report.html"
    fig_dir = out.parent / "figures"
    try:
        fig_dir.mkdir(parents=True, exist_ok=True)
        files: dict[str, str] = {}
        for name, fig in build_figures(run).items():
            F.save_png(fig, fig_dir / f"{name}.png", dpi=dpi)
            files[name] = f"figures/{name}.png"
        # Write then rename so a browser never sees half a page.
        write_text_atomic(out, render_html(run, files))
    except OSError as exc:
        raise OmsimError(f"{out}: cannot write the report ({exc})", file=str(out)) from None
    return out


def report_run_directory(run_dir: str | Path, *, dpi: int = 110, command: list[str] | None = None) -> Path:
    """Add ``report.html`` and ``figures/`` to a run directory, atomically (see :mod:`omsim.rundir`).

    The directory is verified against its manifest first; the report's files
    join the manifest, and an older report is replaced.

    Raises
    ------
    OmsimError
        A damaged or incomplete run directory, or one that cannot be rewritten.
    """
    from omsim.rundir import update_run_directory

    with update_run_directory(run_dir, replace=("report.html", "figures"), command=command) as rd:
        write_report(run_dir, rd.path / "report.html", dpi=dpi)
    return rd.final / "report.html"
