"""Ctrl-C (a real SIGINT to a real `omsim simulate` process) at several moments of a run.

Afterwards there is the old directory or none (or, once the swap has begun,
the new complete one), never a directory without a valid manifest, no
temporary sibling, exit status 130 and no traceback.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omsim.rundir import MANIFEST, verify

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small-business.yaml"

# Each moment: the function patched to print MARK (then wait for the signal) at that point.
DRIVER = r"""
import sys, time
moment, out = sys.argv[1], sys.argv[2]
overwrite = sys.argv[3:] == ["--overwrite"]

def mark(then=None, wait=3.0):
    def wrapped(*a, **k):
        print("MARK", file=sys.stderr, flush=True)
        time.sleep(wait)
        return then(*a, **k) if then else None
    return wrapped

if moment == "run":
    import omsim.sim.model as m
    m.Simulation.run = mark(m.Simulation.run)
elif moment.startswith("write-"):
    import pandas as pd
    k, orig, n = int(moment.split("-")[1]), pd.DataFrame.to_csv, [0]
    def to_csv(self, *a, **kw):
        r = orig(self, *a, **kw)
        n[0] += 1
        if n[0] == k:
            mark()()
        return r
    pd.DataFrame.to_csv = to_csv
elif moment == "import":      # Ctrl-C while the command imports the scenario model (NumPy, pydantic)
    import importlib.abc

    class Marked(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == "omsim.scenario":
                mark()()
            return None

    sys.meta_path.insert(0, Marked())
elif moment == "manifest":
    import omsim.rundir as rd
    rd._listing = mark(rd._listing)
elif moment == "swap":
    import omsim.rundir as rd
    rd._swap_in = mark(rd._swap_in, wait=1.0)
from omsim.cli import main
main(args=["simulate", sys.argv[4] if len(sys.argv) > 4 else SMALL, "--days", "2", "--out", out, "-q"]
     + (["--overwrite"] if overwrite else []), prog_name="omsim")
""".replace("SMALL", repr(str(SMALL)))


def _interrupt(tmp_path: Path, moment: str, overwrite: bool) -> tuple[int, str]:
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    args = [sys.executable, "-c", DRIVER, moment, str(out)] + (["--overwrite"] if overwrite else [])
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    deadline = time.monotonic() + 120
    line = ""
    while "MARK" not in line:
        line = proc.stderr.readline()
        assert line or proc.poll() is None, "the process ended before the moment"
        assert time.monotonic() < deadline
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


MOMENTS = ["import", "run", "write-1", "write-3", "manifest", "swap"]


@pytest.mark.parametrize("overwrite", [False, True], ids=["new", "over-old"])
@pytest.mark.parametrize("moment", [pytest.param(m, marks=() if m == "write-1" else pytest.mark.slow)
                                    for m in MOMENTS])
def test_sigint_leaves_the_old_directory_or_none_never_a_broken_one(tmp_path, moment, overwrite):
    from click.testing import CliRunner

    from omsim.cli import main

    out = tmp_path / "run"
    old = None
    if overwrite:  # an earlier, different run in the same place
        r = CliRunner().invoke(main, ["simulate", str(SMALL), "--days", "1", "--seed", "5", "--out", str(out), "-q"])
        assert r.exit_code == 0, r.output
        old = verify(out)
    rc, err = _interrupt(tmp_path, moment, overwrite)
    assert rc == 130, err
    assert "Traceback" not in err and "interrupted" in err
    hidden = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert hidden == []                                        # no temporary sibling left behind
    if moment == "swap":                                       # the swap is never cut in half
        assert verify(out)["days"] == 2
    elif overwrite:
        assert verify(out) == old                              # the old directory, untouched
    else:
        assert not out.exists()
    if out.exists():
        assert (out / MANIFEST).exists()


@pytest.mark.slow
def test_ctrl_c_to_a_sweeps_process_group_stops_workers_without_tracebacks(tmp_path):
    """A terminal's Ctrl-C goes to every process of the group: workers ignore it, the parent stops them."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    args = [sys.executable, "-m", "omsim.cli", "sweep", str(ROOT / "scenarios" / "default.yaml"),
            "--set", "network.warehouses[*].pickers=1,2", "-r", "8", "--days", "60", "-w", "2",
            "--out", str(tmp_path / "sweep")]   # 16 runs: still going at the signal on a quiet machine too
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
                            cwd=tmp_path, start_new_session=True)
    time.sleep(8)  # past start-up (imports): workers started and running
    os.killpg(proc.pid, signal.SIGINT)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and time.monotonic() - t0 < 20
    assert list(tmp_path.iterdir()) == []
