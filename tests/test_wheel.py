"""The built wheel works from a fresh virtual environment, from any working directory.

Slow (it builds the wheel and makes a venv), so it runs when RUN_WHEEL_TEST=1, as
``.ci/run`` sets. The fresh venv reuses this interpreter's torch and other dependencies
through a ``.pth`` line instead of installing them again; the package itself comes only
from the wheel (checked: ``puzzles.__file__`` lies in the new venv).
"""
import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.wheel,
              pytest.mark.skipif(os.environ.get("RUN_WHEEL_TEST") != "1", reason="set RUN_WHEEL_TEST=1")]


def run(cmd, cwd, timeout=600):
    r = subprocess.run(cmd, check=False, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                       env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)})
    assert r.returncode == 0, f"{cmd}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


def test_wheel_runs_from_a_fresh_venv_in_any_directory(tmp_path):
    # Build from a clean copy: a stale build/ folder in the checkout could leak old modules.
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "dist", "runs", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis"))
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)], cwd=tmp_path)
    wheel = next(dist.glob("mdm_puzzles-*.whl"))
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    py = venv / "bin" / "python"
    new_site = Path(run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp_path).strip())
    (new_site / "_reuse_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = run([str(py), "-c", "import puzzles, models; print(puzzles.__file__, models.__file__)"], cwd=work)
    assert str(venv) in where and str(ROOT) not in where
    for task in ("sudoku", "maze"):
        out = run([str(py), "-m", f"solvers.{task}", "--sampler", "eb", "--limit", "5", "--quiet", "--json"], cwd=work)
        assert "solve rate" in out and json.loads(out.strip().splitlines()[-1])["n"] == 5
    run([str(py), "-m", "scripts.evaluate", "--task", "maze", "--limit", "3", "--points", "eb:gamma=0.1",
         "--quiet"], cwd=work)
    assert (work / "eval-maze.csv").is_file()
    run([str(py), "-m", "scripts.train", "--config", "sudoku-mdm", "--steps", "1", "--pool-size", "4",
         "--eval-size", "0", "--out", "t.pt"], cwd=work)
    assert (work / "t.pt").is_file()
    run([str(py), "-m", "scripts.bench_sampling", "--limit", "4"], cwd=work)
    run([str(py), "-m", "scripts.bench_train", "--steps", "1", "--warmup", "0", "--no-compile"], cwd=work)
    run([str(py), "-m", "puzzles.generate", "maze", "--count", "2", "--out", "m.csv"], cwd=work)
    # the console commands (pyproject [project.scripts]) run the same entry points
    bin_ = venv / "bin"
    run([str(bin_ / "mdm-generate"), "sudoku", "--count", "3", "--out", "s.csv"], cwd=work)
    out = run([str(bin_ / "mdm-sudoku"), "--input", "s.csv", "--quiet", "--json", "--output", "a.txt",
               "--trace", "t.html"], cwd=work)
    assert json.loads(out.strip().splitlines()[-1])["n"] == 3 and (work / "t.html").is_file()
    assert "3/3 solved" in run([str(bin_ / "mdm-verify"), "sudoku", "--questions", "s.csv", "--answers", "a.txt"],
                            cwd=work)
    out = run([str(bin_ / "mdm-maze"), "--input", "m.csv", "--quiet", "--json"], cwd=work)
    assert json.loads(out.strip().splitlines()[-1])["n"] == 2
    run([str(bin_ / "mdm-evaluate"), "--task", "sudoku", "--limit", "3", "--points", "eb", "--quiet",
         "--csv", "e.csv"], cwd=work)
    run([str(bin_ / "mdm-train"), "--config", "maze-mdm", "--steps", "1", "--pool-size", "4", "--eval-size", "0",
         "--out", "t2.pt"], cwd=work)
    for cmd in ("mdm-sudoku", "mdm-maze", "mdm-generate", "mdm-verify", "mdm-train", "mdm-evaluate"):
        assert run([str(bin_ / cmd), "--help"], cwd=work).startswith(f"usage: {cmd}")
