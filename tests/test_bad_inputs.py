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

import numpy as np
import pytest
import torch

from models.checkpoint import FORMAT, save_model
from models.transformer import ModelConfig, PuzzleTransformer
from puzzles import generate, verify
from puzzles import maze as mz
from puzzles.tasks import MazeTask, SudokuTask
from scripts import evaluate, train
from solvers import maze as solve_maze
from solvers import sudoku as solve_sudoku
from tests.helpers import exit_code

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAINS = {"sudoku": solve_sudoku.main, "maze": solve_maze.main, "verify": verify.main,
         "generate": generate.main, "train": train.main, "evaluate": evaluate.main}
MODULES = {"sudoku": "solvers.sudoku", "maze": "solvers.maze", "verify": "puzzles.verify",
           "generate": "puzzles.generate", "train": "scripts.train", "evaluate": "scripts.evaluate"}

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


S, M = "{d}/sudoku-mdm.pt", "{d}/maze-mdm.pt"
LONG = "{d}/" + "n" * 300 + ".txt"

CASES = [
    # ---- solvers.sudoku: input files
    ("sudoku", ["--checkpoint", S, "--input", "{d}/missing.csv"], "file not found"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/dir.csv"], "is a directory"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/empty.txt"], "empty file"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/blank.txt"], "empty file"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/empty.csv"], "empty file"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/header_only.csv"], "no rows"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/short_row.csv"], "short_row.csv:2: row has 1 fields"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/long_row.csv"], "long_row.csv:2: row has 2 fields"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/huge_field.csv"], "200000 cells"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/binary.txt"], "not a UTF-8 text file"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/binary.csv"], "not a UTF-8 text file"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/badchar.txt"], "badchar.txt:1: bad character 'X'"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/cells17.txt"], "17 cells"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/cells80.txt"], "80 cells"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/mixed_sizes.txt"], "mixed_sizes.txt:2: expected 81 cells"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/1d.npz"], "shape (81,)"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/cells25.npz"], "25 cells"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/cells80.npz"], "80 cells"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/val12.npz"], "holds 12"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/neg.npz"], "holds -3"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/obj.npz"], "cannot read .npz"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/float.npz"], "float64 values"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/noarr.npz"], "no 'puzzles' array"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/notzip.npz"], "cannot read .npz"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/norows.npz"], "N >= 1"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/ans_shape.npz"], "'answers' has shape"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/m.txt"], "looks like a maze file"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/m.csv"], "441 cells"),
    ("sudoku", ["--checkpoint", S, "--input", "{d}/s4.txt"], "4x4 grids, but the model is for 9x9"),
    # ---- solvers.sudoku: checkpoints
    ("sudoku", ["--checkpoint", "{d}/missing.pt"], "checkpoint not found"),
    ("sudoku", ["--checkpoint", "{d}/ckdir.pt"], "is a directory"),
    ("sudoku", ["--checkpoint", "{d}/ck_text.pt"], "not a readable checkpoint"),
    ("sudoku", ["--checkpoint", "{d}/ck_format.pt"], f"not a {FORMAT} checkpoint"),
    ("sudoku", ["--checkpoint", "{d}/ck_keys.pt"], "damaged checkpoint: 'task' is missing"),
    ("sudoku", ["--checkpoint", "{d}/ck_list.pt"], f"not a {FORMAT} checkpoint"),
    ("sudoku", ["--checkpoint", "{d}/ck_config.pt"], "model config is invalid"),
    ("sudoku", ["--checkpoint", "{d}/ck_weights.pt"], "weights do not fit"),
    ("sudoku", ["--checkpoint", M], "task 'maze', not 'sudoku'"),
    ("sudoku", ["--checkpoint", "{d}/sudoku-arm.pt"], "holds an ARM model"),
    ("sudoku", ["--sampler", "ar", "--checkpoint", S], "holds an MDM model"),
    # ---- solvers.sudoku: flags
    ("sudoku", ["--checkpoint", S, "--threads", "-1"], "--threads"),
    ("sudoku", ["--checkpoint", S, "--device", "foo"], "--device"),
    ("sudoku", ["--checkpoint", S, "--device", "cuda:x"], "--device"),
    ("sudoku", ["--checkpoint", S, "--precision", "fp16"], "--precision"),
    ("sudoku", ["--checkpoint", S, "--gamma", "-1"], "--gamma"),
    ("sudoku", ["--checkpoint", S, "--gamma", "abc"], "--gamma"),
    ("sudoku", ["--checkpoint", S, "--sampler", "topk", "--gamma", "0.1"], "--gamma does not apply"),
    ("sudoku", ["--checkpoint", S, "--sampler", "topk", "--k", "0"], "--k"),
    ("sudoku", ["--checkpoint", S, "--sampler", "threshold", "--tau", "1.5"], "--tau"),
    ("sudoku", ["--checkpoint", S, "--sampler", "random", "--steps", "0"], "--steps"),
    ("sudoku", ["--checkpoint", S, "--temperature", "-1"], "--temperature"),
    ("sudoku", ["--checkpoint", "{d}/sudoku-arm.pt", "--sampler", "ar", "--temperature", "-1"], "--temperature"),
    ("sudoku", ["--checkpoint", S, "--limit", "0"], "--limit"),
    ("sudoku", ["--checkpoint", S, "--limit", "abc"], "--limit"),
    ("sudoku", ["--checkpoint", S, "--batch-size", "0"], "--batch-size"),
    ("sudoku", ["--checkpoint", S, "--seed", "-1"], "--seed"),
    ("sudoku", ["--checkpoint", S, "--output", "/proc/x.txt"], "--output: cannot write"),
    ("sudoku", ["--checkpoint", S, "--output", "{d}/s.txt/x.txt"], "is not a directory"),
    ("sudoku", ["--checkpoint", S, "--output", "{d}/outdir"], "is a directory"),
    ("sudoku", ["--checkpoint", S, "--output", LONG], "more than file systems allow"),
    ("sudoku", ["--checkpoint", S, "--report", "/proc/r.csv"], "--report: cannot write"),
    ("sudoku", ["--checkpoint", S, "--report", "{d}/outdir"], "is a directory"),
    ("sudoku", ["--checkpoint", S, "--repair", "-1"], "--repair"),
    ("sudoku", ["--checkpoint", S, "--search", "--search-budget", "0"], "--search-budget"),
    ("sudoku", ["--checkpoint", S, "--rules", "all"], "--rules"),
    ("sudoku", ["--checkpoint", S, "--search", "--branch-k", "1"], "--branch-k"),
    ("sudoku", ["--checkpoint", S, "--search", "--stall-entropy", "-1"], "--stall-entropy"),
    ("sudoku", ["--checkpoint", "{d}/sudoku-arm.pt", "--sampler", "ar", "--repair", "2"], "--repair/--search"),
    ("sudoku", ["--checkpoint", S, "--puzzle", "123"], "--puzzle: expected 81 cells"),
    ("sudoku", ["--checkpoint", S, "--puzzle", "X" * 81], "bad character 'X'"),
    ("sudoku", ["--checkpoint", S, "--puzzle", "." * 81, "--input", "{d}/s.txt"], "not allowed with"),
    ("sudoku", ["--checkpoint", S, "--sampler", "foo"], "--sampler"),
    ("sudoku", ["--checkpoint", S, "--proxy", "foo"], "--proxy"),
    ("sudoku", ["--checkpoint", S, "--bogus"], "unrecognized arguments"),
    # ---- solvers.maze
    ("maze", ["--checkpoint", M, "--input", "{d}/missing.txt"], "file not found"),
    ("maze", ["--checkpoint", M, "--input", "{d}/s.csv"], "no 'rows' column"),
    ("maze", ["--checkpoint", M, "--input", "{d}/s.txt"], "bad character"),
    ("maze", ["--checkpoint", M, "--input", "{d}/maze_no_cols.csv"], "no 'cols' column"),
    ("maze", ["--checkpoint", M, "--input", "{d}/maze_row_short.csv"], "maze_row_short.csv:2: row has 2 fields"),
    ("maze", ["--checkpoint", M, "--input", "{d}/maze_bad_rows.csv"], "rows and cols must be integers"),
    ("maze", ["--checkpoint", M, "--input", "{d}/maze_len.csv"], "maze_len.csv:2: question has 438 characters"),
    ("maze", ["--checkpoint", M, "--input", "{d}/huge_field_maze.csv"], "200000 characters"),
    ("maze", ["--checkpoint", M, "--input", "{d}/m_badchar.txt"], "m_badchar.txt:2: maze 1: bad character 'Z'"),
    ("maze", ["--checkpoint", M, "--input", "{d}/m_ragged.txt"], "m_ragged.txt:2: maze 1: ragged rows"),
    ("maze", ["--checkpoint", M, "--input", "{d}/m_two_s.txt"], "exactly one S, found 2"),
    ("maze", ["--checkpoint", M, "--input", "{d}/m_no_g.txt"], "exactly one G (or E), found 0"),
    ("maze", ["--checkpoint", M, "--input", "{d}/m_even.txt"], "m_even.txt:1: maze 1: a lattice maze has odd sides"),
    ("maze", ["--checkpoint", M, "--input", "{d}/m_border.txt"], "border"),
    ("maze", ["--checkpoint", M, "--input", "{d}/m_corner.txt"], "corner positions"),
    ("maze", ["--checkpoint", M, "--input", "{d}/m_cellwall.txt"], "cell positions"),
    ("maze", ["--checkpoint", M, "--input", "{d}/m_small.txt"], "the model is for 10x10"),
    ("maze", ["--checkpoint", M, "--input", "{d}/empty.txt"], "empty file"),
    ("maze", ["--checkpoint", M, "--input", "{d}/binary.txt"], "not a UTF-8 text file"),
    ("maze", ["--checkpoint", M, "--input", "{d}/dir.csv"], "is a directory"),
    ("maze", ["--checkpoint", S], "task 'sudoku', not 'maze'"),
    ("maze", ["--checkpoint", "{d}/ck_text.pt"], "not a readable checkpoint"),
    ("maze", ["--checkpoint", "{d}/ck_keys.pt"], "damaged checkpoint"),
    ("maze", ["--checkpoint", M, "--puzzle", "#####|#S  #|#####"], "--puzzle"),
    ("maze", ["--checkpoint", M, "--threads", "-1"], "--threads"),
    ("maze", ["--checkpoint", M, "--precision", "bf17"], "--precision"),
    ("maze", ["--checkpoint", M, "--device", "foo"], "--device"),
    ("maze", ["--checkpoint", M, "--gamma", "-1"], "--gamma"),
    ("maze", ["--checkpoint", M, "--output", "/proc/m.txt"], "--output: cannot write"),
    ("maze", ["--checkpoint", M, "--output", "{d}/outdir"], "is a directory"),
    ("maze", ["--checkpoint", M, "--report", "{d}/m.txt/r.csv"], "is not a directory"),
    ("maze", ["--checkpoint", M, "--limit", "-3"], "--limit"),
    ("maze", ["--checkpoint", M, "--rules", "propagate"], "this task has no such rules"),
    # ---- puzzles.verify
    ("verify", ["sudoku", "--questions", "{d}/missing.csv", "--answers", "{d}/s.txt"], "file not found"),
    ("verify", ["sudoku", "--questions", "{d}/s.csv", "--answers", "{d}/missing.txt"], "file not found"),
    ("verify", ["sudoku", "--questions", "{d}/short_row_ans.csv", "--answers", "{d}/short_row_ans.csv"],
     "row has 1 fields"),
    ("verify", ["sudoku", "--questions", "{d}/s.csv", "--answers", "{d}/one_answer.txt"], "1 answers for 3 questions"),
    ("verify", ["sudoku", "--questions", "{d}/s.csv", "--answers", "{d}/badchar.txt"], "bad character"),
    ("verify", ["sudoku", "--questions", "{d}/s.csv", "--answers", "{d}/s4.txt"], "expected 81 cells"),
    ("verify", ["sudoku", "--questions", "{d}/s.csv", "--answers", "{d}/val12.npz"], "holds 12"),
    ("verify", ["sudoku", "--questions", "{d}/binary.txt", "--answers", "{d}/s.txt"], "not a UTF-8 text file"),
    ("verify", ["sudoku", "--questions", "{d}/dir.csv", "--answers", "{d}/s.txt"], "is a directory"),
    ("verify", ["sudoku", "--questions", "{d}/s.csv", "--answers", "{d}/huge_field.csv"], "got 200000"),
    ("verify", ["sudoku", "--questions", "{d}/neg.npz", "--answers", "{d}/s.txt"], "holds -3"),
    ("verify", ["sudoku", "--questions", "{d}/s.csv", "--answers", "{d}/long_row.csv"], "row has 2 fields"),
    ("verify", ["maze", "--questions", "{d}/m.csv", "--answers", "{d}/s.txt"], "bad character"),
    ("verify", ["maze", "--questions", "{d}/m.csv", "--answers", "{d}/m_small.txt"], "1 answers for 2 questions"),
    ("verify", ["maze", "--questions", "{d}/missing.csv", "--answers", "{d}/m.txt"], "file not found"),
    ("verify", ["maze", "--questions", "{d}/m.csv", "--answers", "{d}/m_ragged.txt"], "ragged rows"),
    ("verify", ["maze", "--questions", "{d}/m.csv", "--answers", "{d}/binary.txt"], "not a UTF-8 text file"),
    ("verify", ["maze", "--questions", "{d}/maze_row_short.csv", "--answers", "{d}/m.txt"], "row has 2 fields"),
    ("verify", ["chess", "--questions", "{d}/s.csv", "--answers", "{d}/s.txt"], "invalid choice"),
    ("verify", ["sudoku", "--questions", "{d}/s.csv"], "--answers"),
    # ---- puzzles.generate
    ("generate", ["sudoku", "--count", "3", "--seed", "-1", "--out", "{d}/g.csv"], "--seed"),
    ("generate", ["sudoku", "--count", "0", "--out", "{d}/g.csv"], "--count"),
    ("generate", ["sudoku", "--count", "abc", "--out", "{d}/g.csv"], "--count"),
    ("generate", ["sudoku", "--count", "3", "--workers", "0", "--out", "{d}/g.csv"], "--workers"),
    ("generate", ["sudoku", "--size", "4", "--clues", "1-2", "--count", "3", "--out", "{d}/g.csv"],
     "fewer than 4 clues"),
    ("generate", ["sudoku", "--size", "4", "--difficulty", "guess", "--count", "2", "--out", "{d}/g.csv"],
     "cannot meet the constraints"),
    ("generate", ["sudoku", "--size", "4", "--difficulty", "singles", "--depth", "10-12", "--count", "2",
                  "--out", "{d}/g.csv"], "--depth"),
    ("generate", ["sudoku", "--size", "4", "--clues", "4-5", "--difficulty", "singles", "--depth", "9-12",
                  "--count", "2", "--out", "{d}/g.csv"], "cannot meet the constraints"),
    ("generate", ["sudoku", "--depth", "3-5", "--count", "2", "--out", "{d}/g.csv"], "--difficulty singles only"),
    ("generate", ["maze", "--min-path", "1000", "--count", "2", "--out", "{d}/g.csv"], "--min-path"),
    ("generate", ["maze", "--rows", "3", "--cols", "3", "--extra-open", "1", "--min-path", "10", "--count", "2",
                  "--out", "{d}/g.csv"],
     "cannot meet the constraints"),
    ("generate", ["sudoku", "--count", "3", "--split", "a=-1,b=4", "--out", "{d}/g.csv"], "at least 1 item"),
    ("generate", ["sudoku", "--count", "3", "--split", "a=1,a=2", "--out", "{d}/g.csv"], "appears twice"),
    ("generate", ["sudoku", "--count", "3", "--split", "a=0,b=3", "--out", "{d}/g.csv"], "at least 1 item"),
    ("generate", ["sudoku", "--count", "3", "--split", "garbage", "--out", "{d}/g.csv"], "NAME=COUNT"),
    ("generate", ["sudoku", "--count", "3", "--split", "a=1,b=1", "--out", "{d}/g.csv"], "add up to 2"),
    ("generate", ["sudoku", "--count", "3", "--split", "a/b=3", "--out", "{d}/g.csv"], "split names"),
    ("generate", ["sudoku", "--count", "3", "--out", "{d}/g.json"], "unsupported extension"),
    ("generate", ["maze", "--count", "3", "--out", "{d}/g.npz"], "unsupported extension"),
    ("generate", ["sudoku", "--count", "3", "--out", "/proc/g.csv"], "--out: cannot write"),
    ("generate", ["sudoku", "--count", "3", "--out", "{d}/outdir"], "unsupported extension"),
    ("generate", ["sudoku", "--count", "3", "--out", "{d}/dir.csv"], "is a directory"),
    ("generate", ["sudoku", "--count", "3", "--out", "{d}/s.txt/g.csv"], "is not a directory"),
    ("generate", ["sudoku", "--count", "3", "--out", "{d}/" + "g" * 300 + ".csv"], "more than file systems allow"),
    ("generate", ["sudoku", "--count", "3", "--clues", "40-30", "--out", "{d}/g.csv"], "empty range"),
    ("generate", ["sudoku", "--count", "3", "--clues", "abc", "--out", "{d}/g.csv"], "LO-HI"),
    ("generate", ["sudoku", "--count", "3", "--clues", "80-90", "--out", "{d}/g.csv"], "--clues"),
    ("generate", ["sudoku", "--count", "3", "--exclude", "{d}/missing.csv", "--out", "{d}/g.csv"], "file not found"),
    ("generate", ["sudoku", "--count", "3", "--exclude", "{d}/binary.txt", "--out", "{d}/g.csv"], "not a UTF-8"),
    ("generate", ["sudoku", "--size", "5", "--count", "3", "--out", "{d}/g.csv"], "--size"),
    ("generate", ["maze", "--rows", "1", "--count", "3", "--out", "{d}/g.csv"], "--rows"),
    ("generate", ["maze", "--extra-open", "2", "--count", "3", "--out", "{d}/g.csv"], "--extra-open"),
    ("generate", ["maze", "--algorithm", "mixed", "--extra-open", "0.1", "--count", "3", "--out", "{d}/g.csv"],
     "--algorithm mixed"),
    ("generate", ["maze", "--algorithm", "prim", "--count", "3", "--out", "{d}/g.csv"], "--algorithm"),
    ("generate", ["sudoku", "--size", "4", "--clues", "16-16", "--count", "300", "--out", "{d}/g.csv"],
     "distinct items could be made, 300 asked"),
    ("generate", ["sudoku", "--count", "3"], "--out"),
    # ---- scripts.train
    ("train", ["--config", "{d}/missing.json", "--out", "{d}/t.pt"], "config file not found"),
    ("train", ["--config", "{d}/cfg_binary.json", "--out", "{d}/t.pt"], "not a text file"),
    ("train", ["--config", "{d}/cfg_list.json", "--out", "{d}/t.pt"], "got list"),
    ("train", ["--config", "{d}/cfg_null.json", "--out", "{d}/t.pt"], "got NoneType"),
    ("train", ["--config", "{d}/cfg_string.json", "--out", "{d}/t.pt"], "got str"),
    ("train", ["--config", "{d}/cfg_bad.json", "--out", "{d}/t.pt"], "not valid JSON"),
    ("train", ["--config", "{d}/cfg_unknown.json", "--out", "{d}/t.pt"], "--stepz"),
    ("train", ["--config", "{d}/cfg_type.json", "--out", "{d}/t.pt"], "--steps"),
    ("train", ["--config", "{d}/cfg_neg.json", "--out", "{d}/t.pt"], "--steps"),
    ("train", ["--config", "{d}/cfgdir.json", "--out", "{d}/t.pt"], "is a directory"),
    ("train", ["--lr", "inf", "--out", "{d}/t.pt"], "--lr"),
    ("train", ["--lr", "nan", "--out", "{d}/t.pt"], "--lr"),
    ("train", ["--lr", "-1", "--out", "{d}/t.pt"], "--lr"),
    ("train", ["--lr", "abc", "--out", "{d}/t.pt"], "--lr"),
    ("train", ["--elbo-weight", "maybe", "--out", "{d}/t.pt"], "--elbo-weight"),
    ("train", ["--compile", "perhaps", "--out", "{d}/t.pt"], "--compile"),
    ("train", ["--d-model", "30", "--n-heads", "4", "--out", "{d}/t.pt"], "must divide d_model"),
    ("train", ["--threads", "-1", "--out", "{d}/t.pt"], "--threads"),
    ("train", ["--device", "foo", "--out", "{d}/t.pt"], "--device"),
    ("train", ["--precision", "fp16", "--out", "{d}/t.pt"], "--precision"),
    ("train", ["--task", "chess", "--out", "{d}/t.pt"], "--task"),
    ("train", ["--model", "gan", "--out", "{d}/t.pt"], "--model"),
    ("train", ["--steps", "0", "--out", "{d}/t.pt"], "--steps"),
    ("train", ["--batch-size", "0", "--out", "{d}/t.pt"], "--batch-size"),
    ("train", ["--eval-size", "-1", "--out", "{d}/t.pt"], "--eval-size"),
    ("train", ["--warmup", "-1", "--out", "{d}/t.pt"], "--warmup"),
    ("train", ["--min-lr-frac", "2", "--out", "{d}/t.pt"], "--min-lr-frac"),
    ("train", ["--out", "/proc/t.pt"], "--out: cannot write"),
    ("train", ["--out", "{d}/outdir"], "is a directory"),
    ("train", ["--out", "{d}/s.txt/t.pt"], "is not a directory"),
    ("train", ["--out", "{d}/" + "t" * 300 + ".pt"], "more than file systems allow"),
    ("train", ["--steps", "5", "--resume", "--out", "{d}/r_corrupt.pt"], "cannot resume: not a readable"),
    ("train", ["--steps", "5", "--resume", "--out", "{d}/r_keys.pt"], "cannot resume: 'optimizer'"),
    ("train", ["--steps", "5", "--resume", "--out", "{d}/r_list.pt"], "cannot resume: not a training state"),
    ("train", ["--steps", "5", "--resume", "--out", "{d}/r_diff.pt"], "config differs from the saved run in ['lr']"),
    ("train", ["--data", "{d}/missing.csv", "--out", "{d}/t.pt"], "file not found"),
    ("train", ["--data", "{d}/binary.txt", "--out", "{d}/t.pt"], "not a UTF-8"),
    ("train", ["--data", "{d}/short_row.csv", "--out", "{d}/t.pt"], "row has 1 fields"),
    ("train", ["--data", "{d}/s.txt", "--out", "{d}/t.pt"], "training needs answers"),
    ("train", ["--data", "{d}/m.csv", "--out", "{d}/t.pt"], "441 cells"),
    ("train", ["--task", "maze", "--data", "{d}/s.csv", "--out", "{d}/t.pt"], "no 'rows' column"),
    ("train", ["--steps", "3"], "--out"),
    # ---- scripts.evaluate
    ("evaluate", ["--checkpoint", S, "--points", "eb:gamma"], "--points"),
    ("evaluate", ["--checkpoint", S, "--points", "nosuch:k=1"], "--points"),
    ("evaluate", ["--checkpoint", S, "--limit", "0"], "--limit"),
    ("evaluate", ["--checkpoint", S, "--csv", "/proc/e.csv"], "--csv: cannot write"),
    ("evaluate", ["--checkpoint", S, "--plot", "{d}/outdir"], "--plot"),
    ("evaluate", ["--checkpoint", S, "--device", "foo"], "--device"),
    ("evaluate", ["--checkpoint", S, "--input", "{d}/missing.csv"], "file not found"),
    ("evaluate", ["--checkpoint", "{d}/ck_keys.pt", "--points", "eb:gamma=0.1"], "damaged checkpoint"),
]


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
    rc = exit_code(MAINS[cli], _argv(argv, d))
    err = capsys.readouterr().err
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
    r = subprocess.run([sys.executable, "-m", MODULES[cli], *_argv(argv, d)], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
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
