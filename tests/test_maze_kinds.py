"""scripts.maze_kinds: its sets and splits, the gamma rules (solvers.gamma_rules) and --choose."""
import csv

import numpy as np
import pytest
import torch

from models.checkpoint import save_model
from models.transformer import ModelConfig, PuzzleTransformer
from puzzles import maze as mz
from puzzles.tasks import MazeTask


def test_maze_kinds_limits_only_the_large_sets():
    from scripts.maze_kinds import SETS, limit_flags
    limited = {name for name in SETS if limit_flags(name, 7)}
    assert limited == {"dfs-15", "dfs-20", "loops-20"}
    assert limit_flags("dfs-20", 7) == ["--limit", "7"]


def test_maze_kinds_val_splits_move_every_seed_and_nothing_else():
    from scripts.maze_kinds import SETS, VAL_OFFSETS, set_flags
    count = 100
    seeds = {split: set() for split in VAL_OFFSETS}
    for name in SETS:
        test = set_flags(name, "test")
        i = test.index("--seed") + 1
        for split in VAL_OFFSETS:
            flags = set_flags(name, split)
            assert flags[:i] + flags[i + 1:] == test[:i] + test[i + 1:]     # same generator, size, loops
            assert int(flags[i]) == int(test[i]) + VAL_OFFSETS[split]
            seeds[split].update(int(flags[i]) + j for j in range(count))
    # maze-dataset item j takes seed + j: no split's seed range meets another's
    splits = list(seeds)
    for x in splits:
        for y in splits[splits.index(x) + 1:]:
            assert not seeds[x] & seeds[y], (x, y)


def _kinds_rows(counts):
    """maze_kinds CSV rows from {set: {label: solved of 100}}."""
    return [{"set": s, "label": lab, "n": "100", "solve_rate": str(v / 100)}
            for s, by in counts.items() for lab, v in by.items()]


def test_choose_every_set_takes_the_largest_within_the_slack_on_every_set():
    from solvers.gamma_rules import choose_every_set
    rows = _kinds_rows({
        "dfs": {"topk k=1": 90, "eb gamma=0.001": 90, "eb gamma=0.003": 89, "eb gamma=0.01": 91},
        "loops": {"topk k=1": 80, "eb gamma=0.001": 81, "eb gamma=0.003": 80, "eb gamma=0.01": 78}})
    # 0.01 is 2 under on loops although above on dfs; 0.003 is 1 under on dfs: within 1
    assert choose_every_set(rows) == (0.003, {0.001: 0, 0.003: -1, 0.01: -2}, True)
    assert choose_every_set(rows, slack=0)[0] == 0.001
    assert choose_every_set(rows, slack=2)[0] == 0.01
    # none passes: the smallest worst deficit, the larger gamma on a tie, and said so
    worse = _kinds_rows({"a": {"topk k=1": 90, "eb gamma=0.001": 85, "eb gamma=0.01": 85, "eb gamma=0.1": 80}})
    assert choose_every_set(worse) == (0.01, {0.001: -5, 0.01: -5, 0.1: -10}, False)
    with pytest.raises(ValueError, match="set b: needs a top-1 row"):
        choose_every_set(rows + _kinds_rows({"b": {"eb gamma=0.001": 3, "eb gamma=0.003": 3, "eb gamma=0.01": 3}}))
    with pytest.raises(ValueError, match="no EB rows"):
        choose_every_set(_kinds_rows({"a": {"topk k=1": 90}}))


def test_choose_pooled_weighs_the_sum_and_guards_each_set():
    from solvers.gamma_rules import choose_pooled, guard_mazes, pooled_table
    sets = {f"s{i}": {"topk k=1": 90, "eb gamma=0.003": 90, "eb gamma=0.01": 89, "eb gamma=0.03": 88}
            for i in range(4)}
    # 400 mazes, 1 point: 4 allowed. 0.01 is 4 under in sum (passes), 0.03 8 under (fails)
    t = pooled_table(_kinds_rows(sets), 1)
    assert {g: (v["deficit"], v["allowed"], v["passes"]) for g, v in t.items()} == {
        0.003: (0, 4, True), 0.01: (-4, 4, True), 0.03: (-8, 4, False)}
    assert choose_pooled(_kinds_rows(sets), 1, fallback=0.001)[0] == 0.01
    assert choose_pooled(_kinds_rows(sets), 2, fallback=0.001)[0] == 0.03
    assert choose_pooled(_kinds_rows(sets), 0, fallback=0.001)[0] == 0.003
    assert pooled_table(_kinds_rows(sets), 1.3)[0.01]["allowed"] == 5        # 5.2 mazes: rounded down
    # one set 6 under (past its guard of 5) fails 0.01 although the sum is ahead
    sets["s0"]["eb gamma=0.01"], sets["s1"]["eb gamma=0.01"] = 84, 99
    t = pooled_table(_kinds_rows(sets), 1)
    assert t[0.01]["deficit"] == 1 and t[0.01]["tripped"] == ["s0"] and not t[0.01]["passes"]
    assert choose_pooled(_kinds_rows(sets), 1, fallback=0.001)[0] == 0.003
    # 5 under is within the guard
    sets["s0"]["eb gamma=0.01"] = 85
    assert choose_pooled(_kinds_rows(sets), 1, fallback=0.001)[0] == 0.01
    # none passes: the fallback stays
    bad = _kinds_rows({"a": {"topk k=1": 90, "eb gamma=0.01": 80}})
    assert choose_pooled(bad, 1, fallback=0.001) == (0.001, pooled_table(bad, 1))
    assert [guard_mazes(n) for n in (10, 25, 50, 100, 200)] == [1, 1, 2, 5, 10]


def _kinds_csv(tmp_path, counts):
    """A maze_kinds CSV (as gather writes it) from {set: {label: solved of 100}}."""
    from scripts.results import gather
    parts = []
    for name, by in counts.items():
        part = tmp_path / f"{name}.csv"
        with part.open("w", newline="") as f:
            w = csv.DictWriter(f, ["label", "n", "solve_rate"])
            w.writeheader()
            w.writerows([{"label": lab, "n": "100", "solve_rate": str(v / 100)} for lab, v in by.items()])
        parts.append(str(part))
    gather(str(tmp_path / "all.csv"), parts)
    return str(tmp_path / "all.csv")


def test_choose_from_prints_the_rules_gamma_last(tmp_path, capsys):
    from scripts import maze_kinds
    path = _kinds_csv(tmp_path, {"dfs-10": {"topk k=1": 90, "eb gamma=0.001": 90, "eb gamma=0.01": 88}})
    capsys.readouterr()
    assert maze_kinds.main(["--choose-from", path, "--rule", "every-set"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "0.001"
    assert maze_kinds.main(["--choose-from", path, "--rule", "every-set", "--slack", "2"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "0.01"
    # pooled over one 100-maze set: 1 point is 1 maze, so 0.01 (2 under) fails and 0.001 passes
    assert maze_kinds.main(["--choose-from", path]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].split()[:2] == ["--eb-gamma", "0.001"]


def _gamma_checkpoint(path, meta):
    """A tiny any-size maze MDM at ``path`` whose meta records ``meta`` (the rules' fallback gammas)."""
    fields = dict(MazeTask(rows=20, cols=20).model_fields("mdm"), any_size=True)
    save_model(path, PuzzleTransformer(ModelConfig(kind="mdm", d_model=16, n_layers=1, n_heads=2, **fields)),
               vocab=MazeTask().vocab(), meta=meta)
    return path


def test_choose_pooled_chooses_each_band_and_prints_compact_flags(tmp_path, capsys):
    from models.checkpoint import eb_gamma_for, load_checkpoint
    from scripts import compact, maze_kinds
    counts = {"dfs-10": {"topk k=1": 90, "eb gamma=0.01": 90, "eb gamma=0.03": 80},
              "dfs-20": {"topk k=1": 40, "eb gamma=0.01": 39, "eb gamma=0.03": 30}}
    path = _kinds_csv(tmp_path, counts)
    ck = _gamma_checkpoint(tmp_path / "m.pt", {"eb_gamma": 0.002, "eb_gamma_from_side": {"15": 0.005}})
    capsys.readouterr()
    assert maze_kinds.main(["--choose-from", path, "--checkpoint", str(ck)]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line == "--eb-gamma 0.01 --eb-gamma-from-side 15=0.01"
    # the line, given to scripts.compact, records the choice for both bands (the old band is replaced)
    assert compact.main([str(ck), str(tmp_path / "c.pt"), *line.split()]) == 0
    meta = load_checkpoint(tmp_path / "c.pt")["meta"]
    assert (eb_gamma_for(meta, (10, 10)), eb_gamma_for(meta, (20, 20))) == (0.01, 0.01)
    # the large band's slack 0: 0.01 fails there and the checkpoint's gamma for that band stays
    assert maze_kinds.main(["--choose-from", path, "--large-slack", "0", "--checkpoint", str(ck)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "--eb-gamma 0.01 --eb-gamma-from-side 15=0.005"
    assert "sides 15 and up: 0.005 (none passes: kept)" in out
    # a band with no rows keeps the gamma it decodes at now
    for only, expected in (("dfs-10", "--eb-gamma 0.01 --eb-gamma-from-side 15=0.005"),
                           ("dfs-20", "--eb-gamma 0.002 --eb-gamma-from-side 15=0.01")):
        (tmp_path / only).mkdir()
        one = _kinds_csv(tmp_path / only, {only: counts[only]})
        assert maze_kinds.main(["--choose-from", one, "--checkpoint", str(ck)]) == 0
        assert capsys.readouterr().out.strip().splitlines()[-1] == expected
    # a checkpoint that records no gamma leaves nothing to keep: one line, exit 2
    _gamma_checkpoint(ck, {})
    assert maze_kinds.main(["--choose-from", path, "--large-slack", "0", "--checkpoint", str(ck)]) == 2
    assert "no gamma passes and the checkpoint records none" in capsys.readouterr().err


def test_choose_pooled_with_three_bands_chooses_each_apart(tmp_path, capsys):
    """--bands 15 20: 15x15 and 20x20 each get their own gamma; the printed line records all three."""
    from models.checkpoint import eb_gamma_for, load_checkpoint
    from scripts import compact, maze_kinds
    counts = {"dfs-10": {"topk k=1": 90, "eb gamma=0.01": 90, "eb gamma=0.03": 80},
              "dfs-15": {"topk k=1": 60, "eb gamma=0.01": 57, "eb gamma=0.03": 56},
              "dfs-20": {"topk k=1": 40, "eb gamma=0.01": 40, "eb gamma=0.03": 39},
              "loops-20": {"topk k=1": 50, "eb gamma=0.01": 49, "eb gamma=0.03": 50}}
    path = _kinds_csv(tmp_path, counts)
    ck = _gamma_checkpoint(tmp_path / "m.pt", {"eb_gamma": 0.002, "eb_gamma_from_side": {"15": 0.005}})
    capsys.readouterr()
    assert maze_kinds.main(["--choose-from", path, "--checkpoint", str(ck), "--bands", "15", "20"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    # 15 to 19: 3 under of 100 (allowed 2) at both: the checkpoint's 0.005 stays; 20 up: 0.03 is 1 under of 200
    assert "sides 15 to 19: 0.005 (none passes: kept)" in out and "sides 20 and up: 0.03" in out
    assert out[-1] == "--eb-gamma 0.01 --eb-gamma-from-side 15=0.005 20=0.03"
    assert compact.main([str(ck), str(tmp_path / "c.pt"), *out[-1].split()]) == 0
    meta = load_checkpoint(tmp_path / "c.pt")["meta"]
    assert [eb_gamma_for(meta, (s, s)) for s in (10, 15, 19, 20)] == [0.01, 0.005, 0.005, 0.03]
    # two bands (the default) pool 15x15 with 20x20: 4 under of 300 at 0.01 and 0.03 (allowed 6), guard 5
    assert maze_kinds.main(["--choose-from", path, "--checkpoint", str(ck)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "--eb-gamma 0.01 --eb-gamma-from-side 15=0.03"
    for bad in (["20", "15"], ["15", "15"], ["4"]):
        assert maze_kinds.main(["--choose-from", path, "--checkpoint", str(ck), "--bands", *bad]) == 2
        assert "--bands: sides in increasing order" in capsys.readouterr().err


def test_maze_kinds_makes_decodes_and_gathers_each_set(tmp_path, capsys):
    from sampling import OPTIONS
    from scripts import maze_kinds
    from solvers.gamma_rules import choose_pooled
    out, ck = tmp_path / "kinds.csv", tmp_path / "any-size.pt"
    torch.manual_seed(0)
    fields = dict(MazeTask(rows=20, cols=20).model_fields("mdm"), any_size=True)
    save_model(ck, PuzzleTransformer(ModelConfig(kind="mdm", d_model=16, n_layers=1, n_heads=2, **fields)),
               vocab=MazeTask().vocab())
    assert maze_kinds.main(["--out", str(out), "--checkpoint", str(ck), "--sets", "mixed-4", "mixed-6",
                            "--count", "3", "--gamma", "0.1", "--work", str(tmp_path / "w"), "--quiet"]) == 0

    rows = list(csv.DictReader(out.open()))
    assert [(r["set"], r["label"], r["n"]) for r in rows] == [
        ("mixed-4", "topk k=1", "3"), ("mixed-4", "eb gamma=0.1", "3"),
        ("mixed-6", "topk k=1", "3"), ("mixed-6", "eb gamma=0.1", "3")]
    q = mz.read_file(str(tmp_path / "w" / "mixed-6.csv"))
    assert len(q) == 3 and q[0].shape == (13, 13)      # made by the set's own generator flags
    # the val split: other mazes of the same kind, one EB row per gamma
    val = tmp_path / "val.csv"
    assert maze_kinds.main(["--out", str(val), "--checkpoint", str(ck), "--sets", "mixed-6", "--split", "val",
                            "--count", "3", "--gamma", "0.1", "0.01", "--work", str(tmp_path / "v"), "--quiet",
                            "--choose"]) == 0
    rows = list(csv.DictReader(val.open()))
    assert [r["label"] for r in rows] == ["topk k=1", "eb gamma=0.1", "eb gamma=0.01"]
    chosen = capsys.readouterr().out.strip().splitlines()[-1]      # --choose: the rule's compact flags, last
    default = OPTIONS["eb"]().gamma         # the checkpoint records none: 20x20 stays at the sampler's
    assert chosen == f"--eb-gamma {choose_pooled(rows, 1, None)[0]:g} --eb-gamma-from-side 15={default:g}"
    v = mz.read_file(str(tmp_path / "v" / "mixed-6.csv"))
    assert v[0].shape == (13, 13) and not all(np.array_equal(a, b) for a, b in zip(q, v))


def test_maze_kinds_default_gamma_is_the_checkpoints_for_each_sets_size(tmp_path, capsys):
    from scripts.maze_kinds import main, set_gammas
    ck = tmp_path / "m.pt"
    fields = dict(MazeTask(rows=20, cols=20).model_fields("mdm"), any_size=True)
    model = PuzzleTransformer(ModelConfig(kind="mdm", d_model=16, n_layers=1, n_heads=2, **fields))
    save_model(ck, model, vocab=MazeTask().vocab(), meta={"eb_gamma": 0.01, "eb_gamma_from_side": {"16": 0.003}})
    names = ["mixed-6", "md-dfs-10", "dfs-15", "dfs-20"]
    assert set_gammas(None, str(ck), names) == {"mixed-6": [0.01], "md-dfs-10": [0.01], "dfs-15": [0.01],
                                                "dfs-20": [0.003]}
    assert set_gammas([0.1, 0.2], str(ck), names[:1]) == {"mixed-6": [0.1, 0.2]}
    save_model(ck, model, vocab=MazeTask().vocab(), meta={})
    assert set_gammas(None, str(ck), ["dfs-20"]) == {"dfs-20": [0.01]}
    assert main(["--out", str(tmp_path / "k.csv"), "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "none.pt" in capsys.readouterr().err
