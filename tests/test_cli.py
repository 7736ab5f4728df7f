"""Entry points run in-process on tiny checkpoints and tiny files."""
import json

import numpy as np
import pytest
import torch

from models.checkpoint import save_model
from models.transformer import ModelConfig, PuzzleTransformer
from puzzles import generate, verify
from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.tasks import MazeTask, SudokuTask
from scripts import evaluate
from solvers import maze as solve_maze
from solvers import sudoku as solve_sudoku


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    d = tmp_path_factory.mktemp("ck")
    out = {}
    torch.manual_seed(0)
    for task in (SudokuTask(), MazeTask()):
        for kind in ("mdm", "arm"):
            m = PuzzleTransformer(ModelConfig(kind=kind, d_model=16, n_layers=1, n_heads=2,
                                              **task.model_fields(kind)))
            p = d / f"{task.name}-{kind}.pt"
            save_model(p, m, vocab=task.vocab())
            out[(task.name, kind)] = str(p)
        order = "solver" if task.name == "sudoku" else "path"
        m = PuzzleTransformer(ModelConfig(kind="arm", d_model=16, n_layers=1, n_heads=2, order=order,
                                          **task.model_fields("arm")))
        p = d / f"{task.name}-arm-{order}.pt"
        save_model(p, m, vocab=task.vocab(), meta={"step": 10, "train_config": {"batch_size": 4}})
        out[(task.name, order)] = str(p)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    assert generate.main(["sudoku", "--count", "6", "--seed", "3", "--out", str(d / "s.csv")]) == 0
    assert generate.main(["maze", "--count", "4", "--seed", "3", "--out", str(d / "m.csv")]) == 0
    return d


def last_json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize("sampler,extra", [("eb", ["--gamma", "0.1"]), ("topk", ["--k", "2"]),
                                           ("threshold", ["--tau", "0.5"]), ("random", ["--steps", "5"]),
                                           ("ar", [])])
def test_sudoku_solver_all_samplers(ckpts, files, capsys, tmp_path, sampler, extra):
    ck = ckpts[("sudoku", "arm" if sampler == "ar" else "mdm")]
    out = tmp_path / "ans.txt"
    rc = solve_sudoku.main(["--sampler", sampler, *extra, "--checkpoint", ck, "--input", str(files / "s.csv"),
                            "--output", str(out), "--json", "--quiet"])
    assert rc == 0
    j = last_json(capsys)
    for k in ("n", "solved", "solve_rate", "nfe_mean", "nfe_median", "seconds"):
        assert k in j
    assert j["n"] == 6
    lines = out.read_text().splitlines()
    assert len(lines) == 6 and all(len(x) == 81 for x in lines)
    # Givens survive in every answer, whatever the (untrained) model says.
    q, _, _ = sd.read_file(str(files / "s.csv"))
    a = np.stack([sd.parse_line(x) for x in lines])
    assert ((q == 0) | (q == a)).all()
    # The verify CLI agrees with the solver's count.
    assert verify.main(["sudoku", "--questions", str(files / "s.csv"), "--answers", str(out), "--json"]) == 0
    assert last_json(capsys)["solved"] == j["solved"]


def test_maze_solver_and_output(ckpts, files, capsys, tmp_path):
    out = tmp_path / "m.txt"
    assert solve_maze.main(["--checkpoint", ckpts[("maze", "mdm")], "--input", str(files / "m.csv"),
                            "--output", str(out), "--json", "--quiet", "--gamma", "1"]) == 0
    assert last_json(capsys)["n"] == 4
    assert len(mz.read_file(str(out), answers=True)) == 4
    assert solve_maze.main(["--sampler", "ar", "--checkpoint", ckpts[("maze", "arm")], "--input",
                            str(files / "m.csv"), "--json", "--quiet"]) == 0
    assert last_json(capsys)["nfe_mean"] == 100


def test_single_puzzle_mode(ckpts, capsys):
    p = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
    assert solve_sudoku.main(["--checkpoint", ckpts[("sudoku", "mdm")], "--puzzle", p]) == 0
    out = capsys.readouterr().out
    assert "verdict:" in out and "NFE" in out and "+" in out


def test_bad_inputs_exit_2(ckpts, files, tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("." * 81 + "\n" + "1" * 80 + "\n")
    assert solve_sudoku.main(["--checkpoint", ckpts[("sudoku", "mdm")], "--input", str(bad)]) == 2
    assert "bad.txt:2" in capsys.readouterr().err
    assert solve_sudoku.main(["--checkpoint", ckpts[("maze", "mdm")], "--input", str(files / "s.csv")]) == 2
    assert "task 'maze', not 'sudoku'" in capsys.readouterr().err
    assert solve_sudoku.main(["--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert solve_sudoku.main(["--sampler", "topk", "--gamma", "0.1"]) == 2
    assert "--gamma does not apply" in capsys.readouterr().err
    assert solve_sudoku.main(["--sampler", "eb", "--gamma", "-1"]) == 2
    assert "--gamma" in capsys.readouterr().err
    assert solve_maze.main(["--checkpoint", ckpts[("maze", "mdm")], "--puzzle", "#####|#S  #|#####"]) == 2
    assert verify.main(["sudoku", "--questions", str(files / "s.csv"), "--answers", str(bad)]) == 2


def test_unsolvable_puzzles_are_reported_not_counted(ckpts, tmp_path, capsys):
    f = tmp_path / "u.txt"
    p, _s = sd.generate_one(1, 0)
    clash = p.copy()
    free = int(np.flatnonzero(clash[:9] == 0)[0])
    clash[free] = clash[np.flatnonzero(clash[:9])[0]]
    f.write_text(sd.format_line(p) + "\n" + sd.format_line(clash) + "\n")
    assert solve_sudoku.main(["--checkpoint", ckpts[("sudoku", "mdm")], "--input", str(f), "--json", "--quiet"]) == 0
    j = last_json(capsys)
    assert j["n"] == 1 and j["invalid_puzzles"] == 1


def test_evaluate_writes_csv_and_table(ckpts, files, tmp_path, capsys):
    rc = evaluate.main(["--task", "sudoku", "--input", str(files / "s.csv"), "--checkpoint", ckpts[("sudoku", "mdm")],
                        "--arm-checkpoint", ckpts[("sudoku", "arm")], "--points", "eb:gamma=0.1", "topk:k=1", "ar",
                        "--csv", str(tmp_path / "e.csv"), "--plot", str(tmp_path / "e.png"), "--json", "--quiet"])
    assert rc == 0
    j = last_json(capsys)
    assert [r["label"] for r in j["rows"]] == ["eb gamma=0.1", "topk k=1", "ARM raster (givens copied)"]
    assert len((tmp_path / "e.csv").read_text().splitlines()) == 4


@pytest.mark.parametrize("task,order", [("sudoku", "solver"), ("maze", "path")])
def test_evaluate_compare_puts_each_arm_in_its_order_beside_the_mdm(ckpts, files, tmp_path, capsys, task, order):
    data = files / ("s.csv" if task == "sudoku" else "m.csv")
    rc = evaluate.main(["--task", task, "--input", str(data), "--checkpoint", ckpts[(task, "mdm")], "--compare",
                        "--arm-checkpoint", ckpts[(task, "arm")], ckpts[(task, order)],
                        "--csv", str(tmp_path / "e.csv"), "--plot", str(tmp_path / "e.png"), "--json", "--quiet"])
    assert rc == 0
    out = capsys.readouterr().out
    j = json.loads(out.strip().splitlines()[-1])
    assert [(r["model"], r["label"]) for r in j["rows"]] == [
        ("MDM", "topk k=1"), ("MDM", "eb gamma=0.01"), ("ARM", "ARM raster (givens copied)"),
        ("ARM", f"ARM {order} order")]
    arm = j["rows"][3]
    assert arm["train_examples"] == 40 and arm["params"] > 0
    if task == "sudoku":         # solver order: one call per blank; raster: one per cell
        q, _, _ = sd.read_file(str(data))
        assert arm["nfe_mean"] == pytest.approx(float((q == 0).sum(1).mean()))
        assert j["rows"][2]["nfe_mean"] == 81
    assert "| ARM | ARM " in out and "training examples" in out


def test_evaluate_compare_adds_beam_rows_for_cell_naming_arms_only(ckpts, files, tmp_path, capsys):
    data = files / "s.csv"
    rc = evaluate.main(["--task", "sudoku", "--input", str(data), "--checkpoint", ckpts[("sudoku", "mdm")], "--compare",
                        "--arm-checkpoint", ckpts[("sudoku", "arm")], ckpts[("sudoku", "solver")], "--arm-beam", "3",
                        "--csv", str(tmp_path / "e.csv"), "--plot", str(tmp_path / "e.png"), "--json", "--quiet"])
    assert rc == 0
    rows = last_json(capsys)["rows"]
    assert [r["label"] for r in rows][2:] == ["ARM raster (givens copied)", "ARM solver order",
                                              "ARM solver order, beam 3"]     # no beam row for raster
    q, _, _ = sd.read_file(str(data))
    assert rows[4]["nfe_mean"] == pytest.approx(3 * float((q == 0).sum(1).mean()))     # beam x blanks


def test_evaluate_scaling_reads_budgets_from_per_puzzle_nfe(tmp_path, capsys):
    # the shipped model on six hard puzzles, so that the curve climbs and ends where the run does
    common = ["--task", "sudoku", "--input", "datasets/sudoku/hard.csv", "--limit", "6", "--csv", str(tmp_path / "e.csv"),
              "--plot", str(tmp_path / "e.png"), "--json", "--quiet"]
    assert evaluate.main(common + ["--scaling", "--points", "eb:gamma=0.01", "eb:gamma=0.01,search=1,search_budget=60"]) == 0
    j = last_json(capsys)
    assert (tmp_path / "e.csv").read_text().splitlines()[0] == "label,budget,solve_rate"
    curves, budgets = j["curves"], j["budgets"]
    assert set(curves) == {"eb gamma=0.01", "eb gamma=0.01 +best-first 60", "classical solver (search nodes)"}
    assert curves["classical solver (search nodes)"][-1] == 1.0
    # the curve at budget B counts the puzzles the search solved within B passes: a run capped
    # at B solves those and may add some by its last argmax fill; at the run's largest NFE
    # (the last budget) the two agree, the rows that needed every pass included
    for b in budgets[:2] + budgets[-1:]:
        assert evaluate.main(common + ["--points", f"eb:gamma=0.01,search=1,search_budget={b}"]) == 0
        capped = last_json(capsys)["rows"][0]["solve_rate"]
        curve = curves["eb gamma=0.01 +best-first 60"][budgets.index(b)]
        assert curve <= capped and (b != budgets[-1] or curve == capped > 0)


def test_scaling_curve_counts_a_row_at_exactly_its_cost():
    from scripts.scaling import solved_within
    solved = np.array([True, True, False, True])
    cost = np.array([5, 10, 3, 40])
    # unsolved rows never count; a row solved in exactly B passes counts at B, not after it
    assert solved_within(solved, cost, [3, 5, 10, 39, 40]) == [0.0, 0.25, 0.5, 0.5, 0.75]
