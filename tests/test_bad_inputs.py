"""Every bad input to every entry point: exit 2, one clear line, nothing left behind.

A table of cases across the five CLIs (solvers.sudoku, solvers.maze, puzzles.verify,
puzzles.generate, scripts.train) and scripts.evaluate. Each runs in-process and must
exit with status 2, print no traceback, print exactly one ``error:`` line naming the
problem (the expected fragment), and create no file. A representative subset also runs
as real subprocesses.
"""
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from models.checkpoint import FORMAT, save_model
from models.transformer import ModelConfig, PuzzleTransformer
from puzzles import generate, verify
from puzzles import maze as mz
from puzzles.tasks import MazeTask, SudokuTask
from scripts import eb_errors, evaluate, maze_kinds, train
from solvers import maze as solve_maze
from solvers import sudoku as solve_sudoku
from tests.helpers import exit_code

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAINS = {"sudoku": solve_sudoku.main, "maze": solve_maze.main, "verify": verify.main,
         "generate": generate.main, "train": train.main, "evaluate": evaluate.main, "eb_errors": eb_errors.main,
         "maze_kinds": maze_kinds.main}
MODULES = {"sudoku": "solvers.sudoku", "maze": "solvers.maze", "verify": "puzzles.verify",
           "generate": "puzzles.generate", "train": "scripts.train", "evaluate": "scripts.evaluate",
           "eb_errors": "scripts.eb_errors", "maze_kinds": "scripts.maze_kinds"}

MAZE_OK = ["#####", "#S  #", "### #", "#G  #", "#####"]


def _maze_text(rows):
    return "\n".join(rows) + "\n"


def _write_files(d):
    """Good inputs, and one bad file per kind of damage."""
    assert generate.main(["sudoku", "--count", "3", "--seed", "3", "--out", str(d / "s.csv")]) == 0
    assert generate.main(["sudoku", "--count", "3", "--seed", "3", "--out", str(d / "s.txt")]) == 0
    assert generate.main(["sudoku", "--size", "4", "--count", "3", "--out", str(d / "s4.txt")]) == 0
    assert generate.main(["maze", "--count", "2", "--seed", "3", "--out", str(d / "m.csv")]) == 0
    assert generate.main(["maze", "--count", "2", "--seed", "3", "--out", str(d / "m.txt")]) == 0
    q = mz.read_file(str(d / "m.csv"))[0]
    qline = "".join(mz.format_block(q).split("\n"))
    text = {
        "empty.txt": "", "empty.csv": "", "blank.txt": "\n\n  \n", "header_only.csv": "question,answer\n",
        "short_row.csv": "question,answer\nx\n", "short_row_ans.csv": "answer,question\nx\n",
        "long_row.csv": "question\n" + "." * 81 + ",extra\n",
        "huge_field.csv": "question\n" + "1" * 200_000 + "\n",
        "huge_field_maze.csv": "question,rows,cols\n" + "#" * 200_000 + ",10,10\n",
        "badchar.txt": "X" * 81 + "\n", "cells17.txt": "1" * 17 + "\n", "cells80.txt": "." * 80 + "\n",
        "mixed_sizes.txt": "." * 81 + "\n" + "." * 16 + "\n",
        "maze_no_cols.csv": f"question,rows\n{qline},10\n",
        "maze_row_short.csv": f"question,rows,cols\n{qline},10\n",
        "maze_bad_rows.csv": f"question,rows,cols\n{qline},ten,10\n",
        "maze_len.csv": f"question,rows,cols\n{qline[:-3]},10,10\n",
        "m_badchar.txt": _maze_text(["#####", "#S Z#", "### #", "#G  #", "#####"]),
        "m_ragged.txt": _maze_text(["#####", "#S  ##", "### #", "#G  #", "#####"]),
        "m_two_s.txt": _maze_text(["#####", "#S S#", "### #", "#G  #", "#####"]),
        "m_no_g.txt": _maze_text(["#####", "#S  #", "### #", "#   #", "#####"]),
        "m_even.txt": _maze_text(["####", "#S #", "#G #", "####"]),
        "m_border.txt": _maze_text(["## ##", "#S  #", "### #", "#G  #", "#####"]),
        "m_corner.txt": _maze_text(["#####", "#S  #", "## ##", "#G  #", "#####"]),
        "m_cellwall.txt": _maze_text(["#####", "#S  #", "### #", "#G ##", "#####"]),
        "m_small.txt": _maze_text(MAZE_OK),
        "one_answer.txt": "1" * 81 + "\n",
        "cfg_list.json": "[1, 2]", "cfg_null.json": "null", "cfg_string.json": '"sudoku-mdm"',
        "cfg_bad.json": "{\"steps\": ", "cfg_unknown.json": '{"stepz": 3}', "cfg_type.json": '{"steps": "x"}',
        "cfg_neg.json": '{"steps": -5}',
        "notzip.npz": "this is not a zip file",
        "ck_text.pt": "not a checkpoint",
    }
    for name, t in text.items():
        (d / name).write_text(t)
    (d / "binary.txt").write_bytes(bytes(range(128, 256)) * 4)
    (d / "binary.csv").write_bytes(b"question\n" + bytes(range(128, 256)))
    (d / "cfg_binary.json").write_bytes(bytes(range(128, 256)))
    for name in ("dir.csv", "ckdir.pt", "cfgdir.json", "outdir"):
        (d / name).mkdir()
    good = np.zeros((2, 81), np.int8)
    npz = {"1d.npz": {"puzzles": good[0]}, "cells25.npz": {"puzzles": np.zeros((2, 25), np.int8)},
           "cells80.npz": {"puzzles": np.zeros((2, 80), np.int8)},
           "val12.npz": {"puzzles": np.full((2, 81), 12, np.int8)},
           "neg.npz": {"puzzles": np.full((2, 81), -3, np.int8)},
           "float.npz": {"puzzles": good.astype(float)}, "noarr.npz": {"grids": good},
           "norows.npz": {"puzzles": np.zeros((0, 81), np.int8)},
           "ans_shape.npz": {"puzzles": good, "answers": np.zeros((3, 81), np.int8)}}
    for name, arrays in npz.items():
        np.savez(d / name, **arrays)
    np.savez(d / "obj.npz", puzzles=np.array([[1, "a"]], dtype=object), allow_pickle=True)
    # checkpoints: tiny good ones, and damaged ones
    torch.manual_seed(0)
    for task in (SudokuTask(), MazeTask()):
        for kind in ("mdm", "arm"):
            m = PuzzleTransformer(ModelConfig(kind=kind, d_model=16, n_layers=1, n_heads=2, **task.model_fields(kind)))
            save_model(d / f"{task.name}-{kind}.pt", m, vocab=task.vocab())
    ck = torch.load(d / "sudoku-mdm.pt", weights_only=True)
    torch.save({"format": "other/1"}, d / "ck_format.pt")
    torch.save({"format": FORMAT}, d / "ck_keys.pt")
    torch.save([1, 2, 3], d / "ck_list.pt")
    torch.save(dict(ck, config=dict(ck["config"], n_heads=3)), d / "ck_config.pt")
    torch.save(dict(ck, state_dict={"tok.weight": torch.zeros(2, 2)}), d / "ck_weights.pt")
    # training states for --resume
    (d / "r_corrupt.pt.state").write_bytes(b"\x80\x04garbage")
    torch.save({"model": {}}, d / "r_keys.pt.state")
    torch.save([1], d / "r_list.pt.state")
    cfg = train.TrainConfig(steps=5).model_dump(mode="json")
    torch.save({"model": {}, "optimizer": {}, "step": 1, "history": [], "wall": 0.0,
                "train_config": dict(cfg, lr=0.5)}, d / "r_diff.pt.state")


from tests.bad_input_cases import CASES


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    _write_files(d)
    return d


def _files(d):
    return {str(p.relative_to(d)) for p in d.rglob("*")}


def _argv(argv, d):
    return [a.replace("{d}", str(d)) for a in argv]


def test_the_table_is_large_and_covers_every_cli():
    assert len(CASES) >= 150
    assert {c[0] for c in CASES} == set(MAINS)


@pytest.mark.parametrize("cli,argv,fragment", CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_bad_input_exits_2_with_one_clear_line(d, capsys, cli, argv, fragment):
    before = _files(d)
    with warnings.catch_warnings(record=True) as warned:      # a warning would print a second line
        warnings.simplefilter("always")
        rc = exit_code(MAINS[cli], _argv(argv, d))
    err = capsys.readouterr().err
    assert not warned, [str(w.message) for w in warned]
    assert rc == 2, err
    assert "Traceback" not in err
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, err
    assert fragment.replace("{d}", str(d)) in errors[0], errors[0]
    assert _files(d) == before, "a failed run left files behind"


SUBPROCESS = [0, 16, 33, 41, 56, 82, 117, 126, 139, 160, 175, 186]


@pytest.mark.parametrize("k", SUBPROCESS)
def test_bad_input_as_a_real_process(d, k):
    cli, argv, fragment = CASES[k]
    before = _files(d)
    r = subprocess.run([sys.executable, "-m", MODULES[cli], *_argv(argv, d)], check=False, cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and fragment in r.stderr
    assert _files(d) == before


def test_a_lost_endpoint_fails_that_maze_only(d, capsys):
    qs = mz.read_file(str(d / "m.csv"))
    answers = [mz.solve(q) for q in qs]
    answers[0][answers[0] == mz.START] = mz.PATH
    path = d / "answers.txt"
    path.write_text("\n\n".join(mz.format_block(a) for a in answers) + "\n")
    try:
        assert verify.main(["maze", "--questions", str(d / "m.csv"), "--answers", str(path), "--json"]) == 0
        j = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert j["solved"] == 1 and j["failures"] == {"changed cell": 1}
    finally:
        path.unlink()


def test_training_stops_on_a_non_finite_loss_and_keeps_the_last_checkpoint(tmp_path, capsys):
    out = tmp_path / "t.pt"
    rc = train.main(["--d-model", "16", "--n-layers", "1", "--n-heads", "2", "--batch-size", "4",
                     "--pool-size", "4", "--eval-size", "0", "--save-every", "1", "--warmup", "0", "--threads", "1",
                     "--precision", "fp32", "--steps", "6", "--lr", "1e37", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "training diverged" in err and "Traceback" not in err
    ck = torch.load(out, weights_only=True)
    step = ck["meta"]["step"]
    assert 1 <= step < 6 and f"step {step}) is kept" in err
    assert all(torch.isfinite(v).all() for v in ck["state_dict"].values() if v.is_floating_point())
