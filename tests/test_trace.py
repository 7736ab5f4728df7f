"""--trace: what the recorder keeps, the JSON the solvers write, and the HTML viewer in a
real browser (headless Chromium; skipped with the reason printed where it is missing)."""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import torch
from helpers import TableModel

from sampling.core import unmask_loop
from sampling.rules import eb_select, topk_select
from sampling.search import best_first_decode
from sampling.trace import Trace
from solvers import maze as maze_cli
from solvers import sudoku as sudoku_cli
from solvers.trace import _steps, find_chromium


def _table(S=6, V=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.randn(S, V, generator=g) * 3
    t[:, V - 1] = float("-inf")         # the MASK id (V - 1) is never proposed
    return TableModel(t)


def test_trace_records_every_pass_of_every_row_and_only_the_first_limit():
    model, mask_id = _table(), 3
    x = torch.full((3, 6), mask_id)
    x[1, :3] = 0                                    # row 1 has fewer masks
    tr = Trace(limit=2)
    tr.begin([0, 1, 2])
    out, st = unmask_loop(model, x, mask_id=mask_id, select=topk_select(2), trace=tr)
    assert sorted(tr.steps) == [0, 1]               # puzzle 2 is past the limit
    for r in (0, 1):
        steps = tr.steps[r]
        assert len(steps) == int(st["nfe"][r])      # one record per forward pass of the row
        assert [len(s.commit) for s in steps] == st["tokens_per_step"][r]
        committed = np.concatenate([s.commit for s in steps])
        assert sorted(committed.tolist()) == (x[r] == mask_id).nonzero()[:, 0].tolist()
        for s in steps:
            assert len(s.h) == len(s.masked) == int((torch.from_numpy(s.state.astype(np.int64)) == mask_id).sum())
            assert (out[r, torch.from_numpy(s.commit)].numpy() == s.values).all()


def test_trace_of_best_first_marks_where_the_search_went_back():
    """Cell 0's argmax (value 0) is ruled out by check_fn; the search must go back and try
    the next value, and the trace's step after the dead end reads an earlier node."""
    logits = torch.tensor([[3.0, 1.0, -9], [2.0, 0.0, -9]])
    model = TableModel(logits)
    x = torch.full((1, 2), 2)

    def check_fn(t):                     # a state with 0 in cell 0 and cell 1 filled conflicts
        return (t[:, 0] == 0) & (t[:, 1] != 2)
    tr = Trace(limit=1)
    tr.begin([0])
    out, st = best_first_decode(model, x, mask_id=2, select=topk_select(1), check_fn=check_fn, budget=10,
                                trace=tr)
    assert out[0, 0] == 1
    class Two:                                      # a task of two symbols, a and b, and MASK (2)
        def cells(self, tokens):
            return "".join("ab."[int(t)] for t in tokens)
    steps = _steps(Two(), tr.steps[0])
    assert any(s["back"] for s in steps) and not steps[0]["back"]
    assert sum(not s["cached"] for s in steps) == int(st["nfe"][0]) < len(steps)   # a ban reuses the memo


def test_eb_trace_entropies_are_the_sampler_s():
    model, mask_id = _table(seed=3), 3
    x = torch.full((1, 6), mask_id)
    tr = Trace()
    tr.begin([0])
    unmask_loop(model, x, mask_id=mask_id, select=eb_select(0.5), trace=tr)
    logp = torch.log_softmax(model.table, -1)
    h = -(logp.exp() * logp.clamp_min(-1e4)).sum(-1)     # p log p -> 0 where p = 0
    assert np.allclose(tr.steps[0][0].h, h.numpy(), atol=1e-5)


def _run(main, argv, capsys) -> int:
    code = main(argv)
    capsys.readouterr()
    return code


def test_solver_trace_json_matches_the_run(tmp_path, capsys):
    out = tmp_path / "t.json"
    rep = tmp_path / "r.csv"
    assert _run(sudoku_cli.main, ["--limit", "4", "--trace", str(out), "--trace-limit", "3", "--quiet",
                                  "--report", str(rep)], capsys) == 0
    data = json.loads(out.read_text())
    rows = rep.read_text().splitlines()[1:]
    assert data["traced"] == 3 and data["of"] == 4 and len(data["puzzles"]) == 3
    for p, row in zip(data["puzzles"], rows):
        _, solved, _, nfe, _ = row.split(",")
        assert p["nfe"] == int(nfe) == len(p["steps"]) and not any(s["cached"] for s in p["steps"])
        assert (p["verdict"] == "solved") == (solved == "1")
        board = list(p["steps"][0]["board"])
        for s in p["steps"]:
            assert "".join(board) == s["board"]            # each pass reads the last board and its commits
            assert len(s["h"]) == s["board"].count(".")
            for c, v in zip(s["commit"], s["values"]):
                assert board[c] == "."
                board[c] = v
        assert "".join(board) == p["final"]


def test_maze_trace_and_trace_flag_errors(tmp_path, capsys):
    out = tmp_path / "m.json"
    assert _run(maze_cli.main, ["--input", "datasets/maze/test-6.csv", "--limit", "2", "--trace", str(out),
                                "--quiet"], capsys) == 0
    p = json.loads(out.read_text())["puzzles"][0]
    assert p["kind"] == "maze" and len(p["open"]) == p["rows"] * p["cols"] == 36
    assert p["final"][p["s_cell"]] == "1" and p["final"][p["g_cell"]] == "1"
    for argv, words in ((["--trace", str(tmp_path / "x.txt")], ".html"),
                        (["--trace", str(tmp_path / "x.html"), "--sampler", "ar"], "not --sampler ar"),
                        (["--trace", str(tmp_path / "x.html"), "--trace-limit", "0"], "--trace-limit")):
        assert maze_cli.main(argv) == 2
        assert words in capsys.readouterr().err
        assert not (tmp_path / "x.html").exists()


def test_trace_strip_draws_a_png_and_refuses_what_is_not_a_trace(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from scripts import trace_strip
    t = tmp_path / "t.json"
    assert _run(sudoku_cli.main, ["--limit", "2", "--trace", str(t), "--quiet"], capsys) == 0
    assert trace_strip.main([str(t), str(tmp_path / "s.png"), "--puzzle", "2", "--steps", "3"]) == 0
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "bad.json").write_text('{"x": 1}')
    for argv, words in (([str(tmp_path / "bad.json"), str(tmp_path / "b.png")], "not a --trace JSON"),
                        ([str(t), str(tmp_path / "b.png"), "--puzzle", "3"], "puzzles 1-2"),
                        ([str(t), str(tmp_path / "b.png"), "--steps", "0"], "--steps")):
        assert trace_strip.main(argv) == 2
        assert words in capsys.readouterr().err
    assert not (tmp_path / "b.png").exists()


def test_trace_page_in_a_real_browser(tmp_path, capsys):
    """Headless Chromium opens the page, presses the arrow keys and reports what it shows;
    checked against the JSON. A screenshot is saved beside it (tmp_path/trace.png)."""
    browser = find_chromium()
    if browser is None:
        print("skipped: no chromium on PATH (Debian: apt-get install chromium)")
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    page = tmp_path / "t.html"
    assert _run(sudoku_cli.main, ["--limit", "3", "--trace", str(page), "--quiet", "--sampler", "topk", "--k", "8"],
                capsys) == 0
    assert _run(sudoku_cli.main, ["--limit", "3", "--trace", str(tmp_path / "t.json"), "--quiet",
                                  "--sampler", "topk", "--k", "8"], capsys) == 0
    data = json.loads((tmp_path / "t.json").read_text())
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    run = subprocess.run(flags + ["--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri() + "#selftest"],
                         capture_output=True, text=True, timeout=120, check=False)
    errors = [ln for ln in run.stderr.splitlines() if "CONSOLE" in ln and ("Uncaught" in ln or "rror" in ln)]
    assert not errors, errors
    dom = run.stdout
    seen = json.loads(dom.rsplit('<pre id="selftest">', 1)[1].split("</pre>", 1)[0])
    p0, p1 = data["puzzles"][0], data["puzzles"][1]
    # keys pressed: (none), right, right, left, down, right
    expect = [(0, 0), (0, 1), (0, 2), (0, 1), (1, 0), (1, 1)]
    for got, (pz, k) in zip(seen, expect):
        p = (p0, p1)[pz]
        assert got["puzzle"] == pz and got["cells"] == 81
        assert got["counter"] == f"step {k + 1} / {len(p['steps'])}"
        assert got["commit"] == sorted(p["steps"][k]["commit"])
    shot = tmp_path / "trace.png"
    subprocess.run(flags + ["--window-size=900,600", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")


def test_evaluate_traces_one_point(tmp_path, capsys):
    from scripts import evaluate
    t = tmp_path / "e.json"
    argv = ["--limit", "3", "--quiet", "--csv", str(tmp_path / "e.csv"), "--plot", str(tmp_path / "e.png")]
    assert evaluate.main(argv + ["--points", "eb:gamma=0.1", "--trace", str(t)]) == 0
    data = json.loads(t.read_text())
    assert data["traced"] == 3 and all(p["nfe"] == len(p["steps"]) for p in data["puzzles"])
    capsys.readouterr()
    assert evaluate.main(argv + ["--points", "eb", "topk", "--trace", str(tmp_path / "x.json")]) == 2
    assert "traces one point" in capsys.readouterr().err
