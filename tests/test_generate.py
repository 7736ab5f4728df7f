"""puzzles.generate: determinism, disjoint splits, --hardest, and bad usage (exit 2, nothing written)."""
import csv

from puzzles import generate
from puzzles import sudoku as sd
from tests.helpers import exit_code


def test_generate_is_deterministic_across_workers_and_splits_are_disjoint(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert generate.main(["sudoku", "--count", "8", "--seed", "4", "--out", str(a)]) == 0
    assert generate.main(["sudoku", "--count", "8", "--seed", "4", "--out", str(b), "--workers", "2"]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert generate.main(["sudoku", "--size", "4", "--count", "40", "--out", str(tmp_path / "f.txt"),
                          "--split", "train=30,test=10"]) == 0
    tr = set((tmp_path / "f.train.txt").read_text().split())
    te = set((tmp_path / "f.test.txt").read_text().split())
    assert len(tr) == 30 and len(te) == 10 and not tr & te
    assert generate.main(["sudoku", "--size", "4", "--count", "10", "--out", str(tmp_path / "g.txt"),
                          "--exclude", str(tmp_path / "f.train.txt")]) == 0
    assert not set((tmp_path / "g.txt").read_text().split()) & tr


def test_generate_hardest_keeps_the_most_search_nodes_in_index_order(tmp_path):
    full, hard = tmp_path / "all.csv", tmp_path / "hard.csv"
    args = ["sudoku", "--count", "30", "--seed", "5", "--difficulty", "guess", "--minimal", "--clues", "17-24"]
    assert generate.main([*args, "--out", str(full)]) == 0
    assert generate.main([*args, "--hardest", "8", "--out", str(hard)]) == 0
    every = [sd.format_line(q) for q in sd.read_file(str(full))[0]]
    kept = [sd.format_line(q) for q in sd.read_file(str(hard))[0]]
    nodes = {k: sd.search_nodes(q) for k, q in zip(every, sd.read_file(str(full))[0])}
    column = [int(r["search_nodes"]) for r in csv.DictReader(hard.open())]
    assert column == [nodes[k] for k in kept]
    pos = [every.index(k) for k in kept]
    assert pos == sorted(pos) and len(pos) == 8                             # index order
    cut = min(nodes[k] for k in kept)
    assert sum(n > cut for n in nodes.values()) < 8 <= sum(n >= cut for n in nodes.values())   # the 8 hardest


def test_generate_bad_usage(tmp_path, capsys):
    assert exit_code(generate.main, ["sudoku", "--count", "3", "--out", str(tmp_path / "x.json")]) == 2
    assert exit_code(generate.main, ["sudoku", "--count", "3", "--clues", "40-30", "--out", str(tmp_path / "x.csv")]) == 2
    assert generate.main(["maze", "--count", "2", "--out", str(tmp_path / "m.txt"),
                          "--exclude", str(tmp_path / "missing.txt")]) == 2
    assert not (tmp_path / "m.txt").exists() and not list(tmp_path.glob("*.tmp"))
    for bad in (["--count", "3", "--hardest", "4"], ["--count", "3", "--hardest", "-1"], ["--count", "4", "--hardest", "2", "--split", "a=2,b=2"]):
        assert exit_code(generate.main, ["sudoku", *bad, "--out", str(tmp_path / "h.csv")]) == 2
        assert "--hardest" in capsys.readouterr().err and not (tmp_path / "h.csv").exists()
    assert exit_code(generate.main, ["maze", "--count", "3", "--hardest", "1", "--out", str(tmp_path / "h.csv")]) == 2
