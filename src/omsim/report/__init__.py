"""Reports: matplotlib figures of a run and an HTML page that shows them.

>>> from omsim.report import write_report
>>> write_report("runs/baseline")          # doctest: +SKIP
PosixPath('runs/baseline/report.html')
"""
from __future__ import annotations

from omsim.report import figures
from omsim.report.html import FIGURES, RunData, build_figures, load_run, report_run_directory, write_report

__all__ = ["figures", "FIGURES", "RunData", "build_figures", "load_run", "report_run_directory", "write_report"]
