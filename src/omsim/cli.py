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


def _user_errors(fn):
    """Turn OmsimError into a message on stderr and exit status 2."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OmsimError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(OmsimError.exit_code)
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="omsim")
def main():
    """omsim: order management simulation and optimisation.

    Validate a scenario, simulate it, plan today's orders, compare and sweep
    what-ifs. Run ``omsim COMMAND --help`` for a command's options.
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
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Write kpis.json, orders.csv, events.csv, ledger.csv, daily.csv here [default: runs/NAME].")
@click.option("--report", "with_report", is_flag=True, help="Also write an HTML report with figures.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_user_errors
def simulate(scenario, seed, days, replications, out_dir, with_report, quiet):
    """Simulate SCENARIO (the bundled default when omitted) and print its KPIs."""
    from pathlib import Path

    from omsim.report.tables import format_kpis, format_kpi_summary
    from omsim.scenario import load_scenario
    from omsim.sim import replicate, simulate as run_once

    sc = load_scenario(scenario)
    seed = sc.seed if seed is None else seed
    days = days or sc.horizon.days
    out = Path(out_dir) if out_dir else Path("runs") / sc.name
    click.echo(f"{sc.name}: {days} day(s), seed {seed}, {replications} replication(s), "
               f"{len(sc.node_ids)} nodes, {len(sc.sku_ids)} SKUs, ~{sc.demand.orders_per_day:.0f} orders/day",
               err=True)
    total = days * replications
    with click.progressbar(length=total, label="simulated days", file=sys.stderr,
                           hidden=quiet, show_pos=True) as bar:
        done = [0]

        def progress(d, _total):
            bar.update(d - done[0])
            done[0] = d

        if replications == 1:
            res = run_once(sc, seed=seed, days=days, progress=progress)
        else:
            reps = replicate(sc, replications, seed=seed, days=days, progress=progress)
    try:
        if replications == 1:
            res.write(out)
            click.echo(format_kpis(res.kpis))
        else:
            reps.write(out)
            click.echo(format_kpi_summary(reps.summary))
    except OSError as exc:
        raise OmsimError(f"--out {out}: cannot write results ({exc})") from None
    click.echo(f"wrote {out}/", err=True)
    if with_report:
        from omsim.report import write_report

        click.echo(f"wrote {write_report(out)}", err=True)


def _progress_printer(what: str):
    """A progress(done, total) callback that rewrites one stderr line."""
    def progress(done: int, total: int) -> None:
        click.echo(f"\r{what}: {done}/{total}", nl=done == total, err=True)
    return progress


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
              help="KPI to print and plot (repeatable; default cost, on-time, fill rate, utilisation).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Directory for results.csv, summary.csv, sweep.json and sweep.png.")
@click.option("--quiet", "-q", is_flag=True, help="No progress line.")
@_user_errors
def sweep(scenario, sets, replications, days, seed, workers, scheduler, kpis, out_dir, quiet):
    """Run SCENARIO over the grid of --set values x replications, in parallel.

    Every grid point sees the same random streams per replication (common
    random numbers); local processes and a Dask cluster give the same table.

    \b
    Example:
      omsim sweep scenarios/peak-season.yaml -r 5 --days 7 --out peak-sweep \\
        --set 'network.warehouses[*].pickers=6,10' \\
        --set policies.allocation=nearest,cheapest
    """
    import pandas as pd

    from omsim.sweep import default_workers, run_sweep

    workers = workers or default_workers()
    res = run_sweep(scenario, list(sets), replications=replications, seed=seed, days=days,
                    workers=workers, scheduler=scheduler,
                    progress=None if quiet else _progress_printer("runs"))
    unknown = [k for k in kpis if k not in res.kpi_columns]
    paths = res.write(out_dir, kpis=[k for k in kpis if k not in unknown] or None)
    shown = list(kpis) if kpis and not unknown else [k for k in ("cost_per_order", "on_time_rate", "fill_rate",
                                                                   "picker_utilisation") if k in res.kpi_columns]
    summary = res.summary(shown or None)
    with pd.option_context("display.width", 160, "display.max_columns", 40):
        click.echo(summary.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for name, path in paths.items():
        click.echo(f"wrote {path}")
    if unknown:
        raise OmsimError(f"--kpi {unknown[0]}: not a KPI of the results (results are saved); "
                 f"known: {', '.join(res.kpi_columns)}")


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
    from omsim.sweep import default_workers

    res = _compare(a, b, replications=replications, seed=seed, days=days, kpis=list(kpis) or None,
                   workers=workers or default_workers(), scheduler=scheduler,
                   progress=None if quiet else _progress_printer("runs"))
    click.echo(res.format())
    if out_file:
        try:
            res.table.to_csv(out_file, index=False)
        except OSError as exc:
            raise OmsimError(f"--out {out_file}: cannot write ({exc})") from None
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
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Write plan_lines.csv, plan_routes.csv, plan_waves.csv and plan.json here.")
@click.option("--max-rows", type=click.IntRange(min=0), default=25, show_default=True,
              help="Orders shown in the printed table.")
@_user_errors
def plan(scenario, orders, stock, at, seed, out_dir, max_rows):
    """Plan today's open orders: node, package, carrier, ship-by and promise per line; waves, batches and pick routes."""
    from omsim.plan import format_plan, make_plan
    from omsim.scenario import load_scenario

    sc = load_scenario(scenario)
    p = make_plan(sc, orders, stock, at, seed=seed)
    out = p.write(out_dir)
    click.echo(format_plan(p, max_orders=max_rows))
    click.echo(f"wrote {out}/plan_lines.csv, plan_routes.csv, plan_waves.csv, plan.json")


@main.command()
@click.argument("run_dir", type=click.Path())
@click.option("--out", "out_file", type=click.Path(dir_okay=False), default=None,
              help="HTML file to write (default RUN_DIR/report.html; figures go beside it).")
@_user_errors
def report(run_dir, out_file):
    """Write an HTML report with figures (and their PNGs) for RUN_DIR, the --out of omsim simulate."""
    from omsim.report import FIGURES, write_report

    path = write_report(run_dir, out_file)
    click.echo(f"wrote {path} with {len(FIGURES)} figures in {path.parent / 'figures'}")


if __name__ == "__main__":  # pragma: no cover
    main()
