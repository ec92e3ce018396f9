"""Command-line interface (click): parse, call, print. No logic here."""
import click

from omsim import __version__


@click.group()
@click.version_option(__version__, prog_name="omsim")
def main():
    """omsim: order management simulation and optimisation."""


if __name__ == "__main__":  # pragma: no cover
    main()
