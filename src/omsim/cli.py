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
@click.option("--replications", "-r", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, help="Write results here.")
@_user_errors
def simulate(scenario, seed, days, replications, out_dir):
    """Simulate SCENARIO (the bundled default when omitted)."""
    from omsim.scenario import load_scenario

    sc = load_scenario(scenario)
    try:
        from omsim.sim import simulate as _simulate  # noqa: F401
    except ImportError:
        _simulate = None
    days = days or sc.horizon.days
    click.echo(f"{sc.source}: OK. Would simulate {sc.name!r}: {days} days, seed {seed if seed is not None else sc.seed}, "
               f"{replications} replication(s), {len(sc.node_ids)} nodes, {len(sc.sku_ids)} SKUs, "
               f"~{sc.demand.orders_per_day:.0f} orders/day (the simulator is not built yet).")


if __name__ == "__main__":  # pragma: no cover
    main()
