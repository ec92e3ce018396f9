"""Command-line interface (click): parse, call, print. No logic here.

Every error a user can cause is an :class:`omsim.errors.OmsimError`; the CLI
prints its message and exits with status 2, never with a traceback.
"""
from __future__ import annotations

import functools
import sys

import click

from omsim import __version__
from omsim.errors import OmsimError


#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def _user_errors(fn):
    """Turn OmsimError into a message on stderr and exit status 2; Ctrl-C into exit 130."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OmsimError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(OmsimError.exit_code)
        except KeyboardInterrupt:
            click.echo("\ninterrupted: nothing was written (any earlier results are as they were)", err=True)
            sys.exit(INTERRUPTED)
    return wrapper


class _Main(click.Group):
    """The ``omsim`` group; keeps the command line for run directories' manifests."""

    def parse_args(self, ctx, args):
        ctx.meta["omsim.argv"] = ["omsim", *args]
        return super().parse_args(ctx, args)


def _argv() -> list[str]:
    """The command line as typed (for manifest.json)."""
    return list(click.get_current_context().find_root().meta.get("omsim.argv", sys.argv))


_overwrite = click.option("--overwrite", is_flag=True,
                          help="Replace an existing non-empty --out run directory whole (refused without it).")


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="omsim")
def main():
    """omsim: order management simulation and optimisation.

    Validate a scenario, simulate it, plan today's orders, compare and sweep
    what-ifs. Run 'omsim COMMAND --help' for a command's options.
    """


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
def validate(files):
    """Check scenario FILE(s): print OK, or every error with its field; exit 2 on errors."""
    from omsim.scenario import load_scenario

    bad = 0
    for f in files:
        try:
            sc = load_scenario(f)
        except OmsimError as exc:
            bad += 1
            for line in exc.errors:
                click.echo(line, err=True)
            continue
        click.echo(f"{f}: OK ({sc.name}: {len(sc.sku_ids)} SKUs, {len(sc.node_ids)} nodes, "
                   f"{len(sc.services())} carrier services, {sc.horizon.days} days)")
    if bad:
        sys.exit(OmsimError.exit_code)


@main.command()
@click.option("--currency", default="", metavar="CODE", help="Currency code to show for money KPIs.")
def kpis(currency):
    """Print the KPI glossary: every KPI's name, unit, better direction and meaning."""
    from omsim.report.format import format_glossary

    click.echo(format_glossary(currency))


@main.command()
@click.option("--indent", default=2, show_default=True, help="JSON indentation.")
def schema(indent):
    """Print the JSON Schema of the scenario format (for editors)."""
    from omsim.scenario import dump_schema

    click.echo(dump_schema(indent=indent))


@main.command()
@click.argument("scenario", required=False)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override the scenario's seed.")
@click.option("--days", type=click.IntRange(min=1), default=None, help="Simulate this many days instead.")
@click.option("--replications", "-r", type=click.IntRange(min=1), default=1, show_default=True,
              help="Independent replications; KPIs then come with 95% confidence intervals.")
@click.option("--out", "out_dir", type=click.Path(), default=None,
              help="Run directory to write (kpis.json, orders.csv, events.csv, ledger.csv, daily.csv, "
                   "scenario.yaml, manifest.json) [default: a new runs/NAME/<time>; runs/NAME/latest is the newest].")
@_overwrite
@click.option("--report", "with_report", is_flag=True, help="Also write an HTML report with figures.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True,
              help="Output tables: csv (held in memory, written at the end; small runs) or parquet "
                   "(streamed to disk as the run goes, in bounded memory; large runs; with -r each replication's "
                   "in replication-<r>/).")
@click.option("--from-snapshot", "from_snapshot", type=click.Path(), default=None, metavar="DIR",
              help="Start from the live state in DIR (GET /v1/snapshot's files, unzipped): its stock, open "
                   "orders and time; day 0 is the snapshot's date.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_user_errors
def simulate(scenario, seed, days, replications, out_dir, overwrite, with_report, fmt, quiet, from_snapshot):
    """Simulate SCENARIO (the bundled default when omitted) and print its KPIs."""
    from omsim.progress import Progress
    from omsim.report.tables import format_kpis, format_kpi_summary
    from omsim.rundir import auto_dir, run_directory
    from omsim.scenario import load_scenario
    from omsim.sim import replicate, simulate as run_once
    from omsim.sim.guard import check_run

    sc = load_scenario(scenario)
    start = None
    if from_snapshot is not None:
        from omsim.sim.snapshot import read_start

        if replications > 1:
            raise OmsimError("--from-snapshot simulates one replication (drop --replications)")
        start = read_start(from_snapshot, sc)                      # before anything is written
        sc = start.scenario
    overrides = {k: v for k, v in (("seed", seed), ("days", days)) if v is not None}
    seed = sc.seed if seed is None else seed
    days = days or sc.horizon.days
    streamed = fmt == "parquet"
    est = check_run(sc, days, replications, streamed=streamed)       # before anything is written
    out = out_dir if out_dir else auto_dir(sc.name)
    meta = {"seed": seed, "days": days, "replications": replications, "overrides": overrides, "command": _argv()}
    if start is not None:
        meta["from_snapshot"] = {"directory": start.source, "at": start.at.isoformat(),
                                 "open_orders": len(start.orders)}
    with run_directory(out, overwrite=overwrite, meta=meta, latest=out_dir is None) as rd:
        click.echo(f"{sc.name}: {days} day(s), seed {seed}, {replications} replication(s), "
                   f"{len(sc.node_ids)} nodes, {len(sc.sku_ids):,} SKUs, ~{sc.demand.orders_per_day:,.0f} orders/day; "
                   f"about {est['orders']:,.0f} orders, ~{est['bytes'] / 2**30:,.1f} GB of memory"
                   f"{' (streamed)' if streamed else ''}", err=True)
        with Progress("orders", disable=quiet) as progress:
            if replications == 1:
                res = run_once(sc, seed=seed, days=days, on_orders=progress, check_memory=False,
                               stream_to=rd.path if streamed else None, format=fmt, from_snapshot=start)
            else:
                res = replicate(sc, replications, seed=seed, days=days, on_orders=progress,
                                stream_to=rd.path if streamed else None, format=fmt)
        res.write_files(rd.path)
        rd.describe_scenario(sc, seed=seed, days=days)
    click.echo(format_kpis(res.kpis, sc.currency) if replications == 1
               else format_kpi_summary(res.summary, sc.currency))
    click.echo(f"wrote {rd.final}/", err=True)
    if with_report:
        from omsim.report import report_run_directory

        click.echo(f"wrote {report_run_directory(rd.final, command=_argv())}", err=True)


def _progress_printer(what: str):
    """A progress(done, total) callback on stderr (a bar on a terminal, plain lines elsewhere)."""
    from omsim.progress import Progress

    return Progress(what, interval=0.0)


@main.command()
@click.argument("scenario", required=False)
@click.option("--set", "sets", multiple=True, metavar="PATH=V1,V2,...",
              help="A field to sweep and its values (YAML-typed), e.g. "
                   "network.warehouses[0].pickers=8,10,12; [*] sets every item of a list. "
                   "Repeat for a grid.")
@click.option("--replications", "-r", type=click.IntRange(min=1), default=3, show_default=True,
              help="Replications per grid point (common random numbers across points).")
@click.option("--days", type=click.IntRange(min=1), default=None, help="Simulate this many days instead.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override the scenario's seed.")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: one per CPU; 1 runs in this process).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run on this Dask scheduler (tcp://host:8786) instead of local processes.")
@click.option("--kpi", "kpis", multiple=True, metavar="NAME",
              help="KPI to print and plot (repeatable; default cost per order, on-time, fill rate, picker "
                   "utilisation, orders shipped, backlog, late orders; see omsim kpis).")
@click.option("--out", "out_dir", type=click.Path(), required=True,
              help="Run directory for results.csv, summary.csv, sweep.json, sweep.png and manifest.json.")
@_overwrite
@click.option("--quiet", "-q", is_flag=True, help="No progress line.")
@_user_errors
def sweep(scenario, sets, replications, days, seed, workers, scheduler, kpis, out_dir, overwrite, quiet):
    """Run SCENARIO over the grid of --set values x replications, in parallel.

    Every grid point sees the same random streams per replication (common
    random numbers); local processes and a Dask cluster give the same table.

    \b
    Example:
      omsim sweep scenarios/peak-season.yaml -r 5 --days 7 --out peak-sweep \\
        --set 'network.warehouses[*].pickers=6,10' \\
        --set policies.allocation=nearest,cheapest
    """
    from omsim.report.tables import format_sweep_summary
    from omsim.rundir import run_directory
    from omsim.scenario import load_scenario
    from omsim.sweep import check_kpis, default_kpis, default_workers, run_sweep

    check_kpis(kpis)
    workers = workers or default_workers()
    with run_directory(out_dir, overwrite=overwrite, meta={"command": _argv()}) as rd:
        sc = load_scenario(scenario)
        res = run_sweep(sc, list(sets), replications=replications, seed=seed, days=days,
                        workers=workers, scheduler=scheduler,
                        progress=None if quiet else _progress_printer("runs"))
        rd.meta.update(res.manifest_meta())
        rd.describe_scenario(sc, seed=res.seed, days=res.days)  # the base; the grid is in "overrides"
        paths = res.write_files(rd.path, kpis=list(kpis) or None)
    shown = list(kpis) or default_kpis(res.kpi_columns)
    click.echo(format_sweep_summary(res.summary(shown), [f.path for f in res.factors], shown, res.currency))
    for path in paths.values():
        click.echo(f"wrote {rd.final / path.relative_to(rd.path)}")


@main.command()
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--replications", "-r", type=click.IntRange(min=2), default=5, show_default=True,
              help="Replications for a side that is a scenario file.")
@click.option("--days", type=click.IntRange(min=1), default=None, help="Simulate this many days instead.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed for both sides (default: A's).")
@click.option("--workers", "-w", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: one per CPU).")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="Run on this Dask scheduler.")
@click.option("--kpi", "kpis", multiple=True, metavar="NAME", help="KPI to show (repeatable; default all).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), default=None,
              help="Also write the comparison table as CSV.")
@click.option("--quiet", "-q", is_flag=True, help="No progress line.")
@_user_errors
def compare(a, b, replications, days, seed, workers, scheduler, kpis, out_file, quiet):
    """Compare A and B (scenario files or run directories): KPIs, B - A and 95% CIs.

    Scenarios are run with the same seeds (common random numbers), so the
    differences are paired; a difference is significant when its CI excludes 0.
    """
    from omsim.compare import compare as _compare
    from omsim.rundir import check_out_file, write_text_atomic
    from omsim.sweep import default_workers

    if out_file:
        check_out_file(out_file)
    res = _compare(a, b, replications=replications, seed=seed, days=days, kpis=list(kpis) or None,
                   workers=workers or default_workers(), scheduler=scheduler,
                   progress=None if quiet else _progress_printer("runs"), verify=True)
    click.echo(res.format())
    if out_file:
        write_text_atomic(out_file, res.table.to_csv(index=False))
        click.echo(f"wrote {out_file}")


@main.command()
@click.option("--scenario", "-s", "scenario", default=None, help="Scenario YAML (the bundled default when omitted).")
@click.option("--orders", "orders", required=True, type=click.Path(dir_okay=False),
              help="Open orders CSV: order_id, sku, qty, region (or lat, lon), service_level, created_at.")
@click.option("--stock", "stock", default=None, type=click.Path(dir_okay=False),
              help="Stock snapshot CSV: node, sku, on_hand (replaces the scenario's initial stock).")
@click.option("--at", "at", default=None, metavar="'YYYY-MM-DD HH:MM'",
              help="Planning time (default: the newest order's created_at).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override the scenario's seed.")
@click.option("--out", "out_dir", required=True, type=click.Path(),
              help="Run directory for plan_lines.csv, plan_routes.csv, plan_waves.csv, plan.json and manifest.json.")
@_overwrite
@click.option("--max-rows", type=click.IntRange(min=0), default=25, show_default=True,
              help="Orders shown in the printed table.")
@_user_errors
def plan(scenario, orders, stock, at, seed, out_dir, overwrite, max_rows):
    """Plan today's open orders: node, package, carrier, ship-by and promise per line; waves, batches and pick routes."""
    from omsim.plan import format_plan, make_plan, write_plan_files
    from omsim.rundir import run_directory
    from omsim.scenario import load_scenario

    with run_directory(out_dir, overwrite=overwrite, meta={"command": _argv()}) as rd:
        sc = load_scenario(scenario)
        p = make_plan(sc, orders, stock, at, seed=seed)
        seed = sc.seed if seed is None else seed
        rd.meta.update({"seed": seed, "days": None, "replications": None,
                        "overrides": {"seed": seed} if seed != sc.seed else {}})
        write_plan_files(p, rd.path)
        rd.describe_scenario(sc, seed=seed)
    click.echo(format_plan(p, max_orders=max_rows))
    click.echo(f"wrote {rd.final}/plan_lines.csv, plan_routes.csv, plan_waves.csv, plan.json")


@main.command()
@click.argument("scenario")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="DATE",
              help="First day (YYYY-MM-DD) instead of horizon.start.")
@click.option("--days", type=click.IntRange(min=1), default=None, help="Days instead of horizon.days.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override the scenario's seed.")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False),
              help="CSV to write (.gz compresses): one row per order line.")
@_user_errors
def demand(scenario, start, days, seed, out_file):
    """Write the demand SCENARIO generates as an order history: order_id, created_at, sku, qty, region, service_level, customer_id."""
    from omsim.history.write import demand_frame, write_demand
    from omsim.scenario import load_scenario

    sc = load_scenario(scenario)
    df = demand_frame(sc, days=days, seed=seed, start=start.date() if start else None)
    path = write_demand(df, out_file)
    click.echo(f"wrote {path}: {df['order_id'].nunique()} orders, {len(df)} lines, {int(df['qty'].sum())} units")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@_user_errors
def history(file):
    """Check an order history FILE (CSV, .csv.gz or Parquet): lines and orders kept, lines dropped per rule."""
    from omsim.history import load_history

    h = load_history(file)
    click.echo(h.report.summary())
    if len(h.lines):
        t = h.lines["created_at"]
        click.echo(f"{t.iloc[0]} .. {t.iloc[-1]}, {h.lines['sku'].nunique()} SKUs, "
                   f"{h.report.cancellations} cancellation lines")


@main.command()
@click.argument("scenario", required=False)
@click.option("--db", default=None, metavar="URL",
              help="Database: sqlite:///FILE (WAL) or postgresql://... [default: sqlite:///omsim-live.db].")
@click.option("--stock", default=None, type=click.Path(dir_okay=False),
              help="Stock CSV node,sku,on_hand for the first start (then the database is the truth).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--keys", "keys_file", default=None, type=click.Path(dir_okay=False),
              help="API keys file, KEY:ROLE per line (roles read, write, admin); or env OMSIM_API_KEYS.")
@click.option("--read-only", is_flag=True, help="Follow the writer's journal and serve reads only.")
@_user_errors
def serve(scenario, db, stock, host, port, keys_file, read_only):
    """Serve live decisions over HTTP for SCENARIO (the bundled default when omitted).

    OpenAPI at /openapi.json, docs at /docs; every route but /health needs
    Authorization: Bearer KEY, every write an Idempotency-Key header.
    """
    from omsim.service import Settings, serve as run

    click.echo(f"omsim serve: http://{host}:{port}/ (docs at /docs)", err=True)
    run(Settings.load(scenario, db, stock, keys_file, read_only), host=host, port=port)


@main.command()
@click.argument("history_file", metavar="HISTORY", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory for scenario.yaml, catalogue.csv and fit-report.html.")
@click.option("--base", default=None, type=click.Path(dir_okay=False),
              help="Scenario whose network, carriers, policies and regions the fitted one keeps (default: bundled).")
@click.option("--days", type=click.IntRange(min=1), default=28, show_default=True,
              help="Horizon of the written scenario, from the history's first day.")
@click.option("--overwrite", is_flag=True, help="Replace the files of an earlier fit in DIR.")
@_user_errors
def fit(history_file, out_dir, base, days, overwrite):
    """Fit a scenario's demand and catalogue to an order HISTORY; write it with a real-against-fitted report."""
    from pathlib import Path

    from omsim.history.fitreport import fit_history

    out = Path(out_dir)
    if not overwrite and (out / "scenario.yaml").exists():
        raise OmsimError(f"{out}: already holds a scenario.yaml (give --overwrite to replace it)")
    stats = fit_history(history_file, out, base=base, days=days)
    r, f = stats["real"], stats["fitted"]
    click.echo(f"fitted {r['orders']} orders ({r['lines']} lines, {r['days']} days): {r['orders_per_day']:.1f} "
               f"orders/day real, {f['orders_per_day']:.1f} fitted")
    click.echo(f"wrote {out / 'scenario.yaml'}, {out / 'catalogue.csv'}, {out / 'fit-report.html'}")


@main.command()
@click.argument("run_dir", type=click.Path())
@click.option("--out", "out_file", type=click.Path(dir_okay=False), default=None,
              help="HTML file to write elsewhere (default: RUN_DIR/report.html, added to its manifest; "
                   "figures go beside it).")
@_user_errors
def report(run_dir, out_file):
    """Write an HTML report with figures (and their PNGs) for RUN_DIR, the --out of omsim simulate.

    RUN_DIR is checked against its manifest.json first: a damaged or
    incomplete directory is refused.
    """
    from omsim.report import FIGURES, report_run_directory, write_report
    from omsim.rundir import check_out_file, verify

    if out_file:
        check_out_file(out_file)
        verify(run_dir)
        path = write_report(run_dir, out_file)
    else:
        path = report_run_directory(run_dir, command=_argv())
    click.echo(f"wrote {path} with {len(FIGURES)} figures in {path.parent / 'figures'}")


if __name__ == "__main__":  # pragma: no cover
    main()
