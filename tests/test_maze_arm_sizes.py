"""The path-order ARM for every maze size (``any_size`` with the pointer head): at any shape
it computes what a fixed-size model of that shape computes with the same weights, its
cached decoding agrees with its teacher-forced forward pass, and it trains on the
multi-size stream."""
import numpy as np
import pytest
import torch

from models.config import ModelConfig
from models.transformer import PuzzleTransformer
from puzzles import maze as mz
from puzzles.tasks import MazeTask
from solvers.decode import decode
from solvers.training.config import TrainConfig
from solvers.training.data import maze_stream_batch
from solvers.training.loop import grown_state


def path_arm(side, any_size, seed=0):
    torch.manual_seed(seed)
    fields = dict(MazeTask(rows=side, cols=side).model_fields("arm"), any_size=any_size)
    cfg = ModelConfig(kind="arm", order="path", pick_head="pointer", prefix=True, d_model=32, n_layers=2,
                      n_heads=2, **fields)
    m = PuzzleTransformer(cfg).eval()
    with torch.no_grad():       # the attention biases start at 0: give every relation its own value
        m.rel_bias.normal_()
    return m


def sequences(r, c, n=3, seed=4):
    """[prompt(L), path picks] of n mazes r x c, with the same path length (forward needs one K)."""
    rows = []
    for i in range(200):
        q = mz.generate_one(seed, i, r, c)
        t = mz.encode(q, mz.solve(q))
        rows.append((t[:r * c], mz.path_cells(t, r, c)))
    k = min(len(p) for _, p in rows)
    picked = [np.concatenate([s, p[:k]]) for s, p in rows[:n]]
    return torch.from_numpy(np.stack(picked).astype(np.int64))


@pytest.mark.parametrize("shape", [(4, 7), (6, 6)])
def test_any_size_arm_at_a_shape_is_the_fixed_model_of_that_shape(shape):
    r, c = shape
    big = path_arm(9, any_size=True, seed=1)
    fixed = PuzzleTransformer(big.cfg.model_copy(update={"rows": r, "cols": c, "any_size": False}))
    own = fixed.state_dict()
    state = {k: (v[:r] if k == "row.weight" else v[:c] if k == "col.weight" else v)
             for k, v in big.state_dict().items()}
    assert set(state) == set(own)
    fixed.load_state_dict(state)
    fixed.eval()
    x = sequences(r, c)
    with torch.no_grad():
        a, b = big(x, shape=(r, c)), fixed(x)
    assert a.shape == b.shape == (3, x.shape[1], r * c)
    assert torch.allclose(a, b, atol=1e-5)
    with pytest.raises(ValueError, match="up to 9x9"):
        big(x, shape=(10, 3))


def test_cached_steps_agree_with_the_forward_pass_at_a_smaller_shape():
    r, c = 5, 7
    m = path_arm(8, any_size=True, seed=2)
    x = sequences(r, c)
    L = r * c
    with torch.no_grad():
        full = m(x, shape=(r, c))
        logits, cache = m.step(x[:, :L], None, shape=(r, c))
        assert torch.allclose(logits, full[:, L - 1], atol=1e-4)
        step = m.step_at(r, c)
        for t in range(L, x.shape[1] - 1):
            logits, cache = step(x[:, t:t + 1], cache)
            assert torch.allclose(logits, full[:, t], atol=1e-4)


def test_any_size_arm_decodes_each_shape_and_counts_path_cells():
    m = path_arm(8, any_size=True, seed=3)
    qs = [mz.generate_one(6, i, *s) for i, s in enumerate([(4, 4), (6, 8), (4, 4), (8, 8)])]
    answers, st = decode(m, MazeTask(), qs, sampler="ar", options={"temperature": 0.0, "beam": 1},
                         batch_size=10, device="cpu", progress=False)
    for q, a, n in zip(qs, answers, st["nfe"]):
        assert a.shape == q.shape
        cells = a[1::2, 1::2]
        marked = int(((cells == mz.PATH) | (cells == mz.GOAL)).sum())
        # one call per pick; a row ends when it names G, or when no cell is left
        assert n == marked and 1 <= n <= (q.shape[0] // 2) * (q.shape[1] // 2) - 1


def test_only_the_pointer_path_arm_or_the_mdm_is_any_size():
    fields = dict(MazeTask().model_fields("arm"), any_size=True)
    with pytest.raises(ValueError, match="any_size"):
        ModelConfig(kind="arm", order="path", pick_head="linear", **fields)
    with pytest.raises(ValueError, match="any_size"):
        ModelConfig(kind="arm", **fields)
    with pytest.raises(ValueError, match="pick-head pointer"):
        TrainConfig(task="maze", model="arm", order="path", maze_max=12)
    TrainConfig(task="maze", model="arm", order="path", pick_head="pointer", maze_max=12)


def test_path_stream_batches_name_the_targets_path_cells():
    cfg = TrainConfig(task="maze", model="arm", order="path", pick_head="pointer", maze_max=9, maze_min=4,
                      batch_cells=300, pool_seed=7)
    for step in range(6):
        b = maze_stream_batch({"cfg": cfg, "held_out": set()}, np.random.default_rng([0, 0, step]), step, "path")
        r, c = b.shape
        L = r * c
        assert b.prompt.shape == (len(b.tokens), L) and b.filled.shape == (len(b.tokens), L)
        for t, picks, filled in zip(b.tokens, b.answer, b.filled):
            picks = picks[picks >= 0]
            assert np.array_equal(np.flatnonzero(filled), np.flatnonzero(t[:L] // 16 == 1))     # S only
            on = set(np.flatnonzero(t[L:] == mz.ON))
            s = int(np.flatnonzero(t[:L] // 16 == 1)[0])
            assert set(picks) | {s} == on and len(picks) == len(on) - 1                       # S excluded
            assert t[int(picks[-1])] // 16 == 2                                                # ends at G
            steps = np.abs(np.diff(np.concatenate([[s], picks]) // c)) + np.abs(np.diff(np.concatenate([[s], picks]) % c))
            assert (steps == 1).all()                                                          # a walk


def test_grown_arm_keeps_the_fixed_models_weights():
    small, big = path_arm(4, any_size=False), path_arm(7, any_size=True, seed=1)
    state = grown_state(small.state_dict(), big.state_dict())
    big.load_state_dict(state)
    assert torch.equal(big.row.weight[:4], small.row.weight) and torch.equal(big.ptr_rel.weight, small.ptr_rel.weight)


def test_sampler_ar_defaults_to_the_any_size_path_arm(capsys):
    """`solvers.maze --sampler ar` without --checkpoint reads 6x6 and 15x15 mazes (the 10x10
    ARMs would refuse them)."""
    import json
    from pathlib import Path

    from puzzles.data import dataset
    from solvers.maze import main
    for name in ("test-6.csv", "test-15.csv"):
        capsys.readouterr()
        assert main(["--sampler", "ar", "--input", str(dataset("maze", name)), "--limit", "3", "--threads", "1",
                     "--json"]) == 0
        row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert Path(row["checkpoint"]).name == "maze-arm-path-sizes.pt" and row["n"] == 3, row


def test_the_any_size_arms_rows_are_told_apart():
    # beside the 10x10 path ARM in one table, the any-size one needs its own label
    from scripts.points import arm_label
    assert arm_label("path", {}) == "ARM path order"
    assert arm_label("path", {}, any_size=True) == "ARM path order, any size"
    assert arm_label("path", {"beam": 4}, any_size=True) == "ARM path order, any size, beam 4"
