import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from models.checkpoint import CheckpointError, load_model, save_model
from models.losses import mdm_loss
from models.transformer import ModelConfig, PuzzleTransformer
from puzzles.tasks import MazeTask, SudokuTask
from scripts.train import main as train_main
from solvers.training.loop import TrainConfig, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny(kind="mdm", task=None, **kw):
    task = task or SudokuTask()
    return PuzzleTransformer(ModelConfig(kind=kind, d_model=32, n_layers=2, n_heads=2,
                                         **task.model_fields(kind), **kw))


def test_arm_is_causal():
    torch.manual_seed(0)
    m = tiny("arm").eval()
    x = torch.randint(0, 9, (2, 161))
    y = x.clone()
    y[:, 100:] = (y[:, 100:] + 1) % 9
    a, b = m(x), m(y)
    assert torch.allclose(a[:, :100], b[:, :100], atol=1e-5)
    assert not torch.allclose(a[:, 100:], b[:, 100:], atol=1e-5)


@pytest.mark.parametrize("loops", [1, 2])
def test_kv_cache_matches_full_forward(loops):
    torch.manual_seed(0)
    m = tiny("arm", loops=loops).eval()
    x = torch.randint(0, 10, (2, 90))
    full = m(x)
    logits, cache = m.step(x[:, :81], None)
    assert torch.allclose(logits, full[:, 80], atol=1e-4)
    for k in range(81, 90):
        logits, cache = m.step(x[:, k:k + 1], cache)
        assert torch.allclose(logits, full[:, k], atol=1e-4)


def test_mdm_is_bidirectional_and_paired_maze_echoes_structure():
    torch.manual_seed(0)
    m = tiny("mdm").eval()
    x = torch.randint(0, 10, (1, 81))
    y = x.clone()
    y[0, 80] = (y[0, 80] + 1) % 9
    assert not torch.allclose(m(x)[0, 0], m(y)[0, 0])
    mm = tiny("mdm", MazeTask()).eval()
    t = torch.from_numpy(MazeTask().encode([__import__("puzzles.maze", fromlist=["x"]).generate_one(0, 0)]))
    out = mm(t)
    assert (out[0, :100].argmax(-1) == t[0, :100]).all()
    assert set(out[0, 100:].argmax(-1).tolist()) <= {48, 49}


def test_mdm_loss_ignores_givens():
    logits = torch.zeros(2, 5, 4, requires_grad=True)

    def model(xt):
        assert (xt[:, :2] != 3).all()            # givens (first two cells) never masked
        return logits
    x0 = torch.tensor([[0, 1, 2, 0, 1], [1, 1, 0, 2, 2]])
    maskable = torch.tensor([[False, False, True, True, True]] * 2)
    loss = mdm_loss(model, x0, maskable, mask_id=3, generator=torch.Generator().manual_seed(1))
    loss.backward()
    assert logits.grad[:, :2].abs().sum() == 0
    assert logits.grad[:, 2:].abs().sum() > 0


def test_tiny_model_overfits_a_handful_of_puzzles():
    task = SudokuTask(box=(2, 2))
    torch.manual_seed(0)
    m = tiny("mdm", task)
    pool = task.make_pool(3, 0)
    # Givens are half the cells, fixed per puzzle, so the loss can go to zero.
    x0 = torch.from_numpy(task.encode(pool["grids"]))
    maskable = torch.rand(x0.shape, generator=torch.Generator().manual_seed(1)) < 0.5
    opt = torch.optim.AdamW(m.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(300):
        loss = mdm_loss(m, x0, maskable, mask_id=task.mask_id, generator=gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2
    from sampling import run_sampler
    puzzles = torch.where(maskable, task.mask_id, x0)
    out, _ = run_sampler("topk", m.eval(), puzzles, mask_id=task.mask_id)
    assert torch.equal(out, x0)


def test_save_load_roundtrip_and_mismatch(tmp_path):
    torch.manual_seed(0)
    m = tiny("mdm").eval()
    save_model(tmp_path / "s.pt", m, vocab=SudokuTask().vocab(), meta={"step": 3})
    m2, ck = load_model(tmp_path / "s.pt", task="sudoku", kind="mdm", vocab=SudokuTask().vocab())
    x = torch.randint(0, 10, (3, 81))
    assert torch.equal(m(x), m2(x)) and ck["meta"]["step"] == 3
    with pytest.raises(CheckpointError, match="task 'sudoku', not 'maze'"):
        load_model(tmp_path / "s.pt", task="maze")
    with pytest.raises(CheckpointError, match="needs an ARM"):
        load_model(tmp_path / "s.pt", kind="arm")
    with pytest.raises(CheckpointError, match="vocabulary mismatch"):
        load_model(tmp_path / "s.pt", vocab=MazeTask().vocab())
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_model(tmp_path / "junk.pt")


TINY = {"task": "sudoku", "model": "mdm", "steps": 6, "batch_size": 4, "d_model": 16, "n_layers": 1, "n_heads": 2,
        "pool_size": 4, "eval_size": 0, "save_every": 1, "warmup": 2, "threads": 1}


def test_resume_equals_uninterrupted(tmp_path):
    assert train(TrainConfig(**TINY), str(tmp_path / "a.pt")) == 0
    assert train(TrainConfig(**TINY, stop_after=3), str(tmp_path / "b.pt")) == 0
    assert train(TrainConfig(**TINY), str(tmp_path / "b.pt"), resume=True) == 0
    a = torch.load(tmp_path / "a.pt", weights_only=True)
    b = torch.load(tmp_path / "b.pt", weights_only=True)
    assert a["meta"]["step"] == b["meta"]["step"] == 6
    for k in a["state_dict"]:
        assert torch.equal(a["state_dict"][k], b["state_dict"][k]), k


def test_train_cli_rejects_bad_config(tmp_path, capsys):
    assert train_main(["--out", str(tmp_path / "x.pt"), "--batch-size", "0"]) == 2
    assert "--batch-size" in capsys.readouterr().err
    (tmp_path / "c.json").write_text('{"no_such_field": 1}')
    assert train_main(["--config", str(tmp_path / "c.json"), "--out", str(tmp_path / "x.pt")]) == 2


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_gloo_processes(tmp_path):
    def run():
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(free_port()), "-m", "scripts.train", "--task", "maze", "--steps", "2", "--batch-size", "2",
               "--d-model", "16", "--n-layers", "1", "--n-heads", "2", "--pool-size", "4", "--eval-size", "0",
               "--threads", "1", "--device", "cpu", "--out", str(tmp_path / "ddp.pt")]
        return subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300,
                              env=dict(os.environ, OMP_NUM_THREADS="1"))
    r = run()
    if r.returncode != 0 and "SIGABRT" in r.stderr:
        # a worker aborted once in a CI run of stop 32 (exit -6, SIGABRT, no Python
        # error; passed on rerun); one retry tells a flake from a real fault, which fails both times
        r = run()
    assert r.returncode == 0, r.stderr[-2000:]
    ck = torch.load(tmp_path / "ddp.pt", weights_only=True)
    assert ck["meta"]["step"] == 2


def test_arm_and_maze_losses_run():
    from models.losses import arm_loss
    t = MazeTask()
    pool = t.make_pool(3, 0)
    b = t.batch(pool, np.random.default_rng(0), 2)
    m = tiny("arm", t)
    assert torch.isfinite(arm_loss(m, torch.from_numpy(b.prompt), torch.from_numpy(b.answer)))


def test_train_from_a_dataset_file_and_bad_data(tmp_path, capsys):
    from puzzles import generate
    data = tmp_path / "d.csv"
    assert generate.main(["sudoku", "--count", "4", "--seed", "2", "--out", str(data)]) == 0
    args = ["--out", str(tmp_path / "f.pt"), "--steps", "2", "--batch-size", "4", "--d-model", "16",
            "--n-layers", "1", "--n-heads", "2", "--eval-size", "0", "--threads", "1"]
    assert train_main(args + ["--data", str(data)]) == 0
    assert torch.load(tmp_path / "f.pt", weights_only=True)["meta"]["data"] == str(data)
    q = tmp_path / "q.txt"
    q.write_text(data.read_text().splitlines()[1].split(",")[0] + "\n")
    assert train_main(args + ["--data", str(q)]) == 2
    assert "needs answers" in capsys.readouterr().err


def test_loops_share_weights_and_one_loop_is_the_plain_model():
    task = SudokuTask()
    torch.manual_seed(0)
    plain = tiny("mdm", task)
    looped = tiny("mdm", task, loops=3)
    looped.load_state_dict(plain.state_dict())          # same parameters, same names
    assert sum(p.numel() for p in looped.parameters()) == sum(p.numel() for p in plain.parameters())
    x = torch.randint(0, 10, (2, 81))
    with torch.no_grad():
        h = plain.tok(x) + plain._pos(0, 81, x.device)
        bias = plain._bias(0, 81, 81)
        for _ in range(3):                               # the stack, three times, by hand
            for blk in plain.blocks:
                h = blk(h, bias)
        assert torch.allclose(looped(x), plain._head(h), atol=1e-5)
        assert not torch.allclose(looped(x), plain(x), atol=1e-3)
    one = tiny("mdm", task, loops=1)
    one.load_state_dict(plain.state_dict())
    assert torch.equal(one(x), plain(x))


def test_focal_reweighting_weighs_hard_tokens_more():
    """Easy cells (right, CE ~0.1) and hard cells (uniform, CE = ln 5): with focal_gamma = 2
    the hard cells' share of the gradient grows by about w(ln 5) / w(0.1) ~ 70x (w(u) =
    (1 - e^-u)^2), where the plain loss weighs every masked cell alike."""
    task = SudokuTask(box=(2, 2))
    x0 = torch.from_numpy(task.encode(np.array([[1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1]])))
    base = torch.full((1, 16, 5), 0.0)
    base[:, :8] = torch.full((1, 8, 5), -3.0).scatter_(2, x0[:, :8, None], 3.0)   # easy: p(right) ~ 0.9
    maskable = torch.ones(1, 16, dtype=torch.bool)

    def hard_share(**kw):
        logits = base.clone().requires_grad_(True)
        loss = mdm_loss(lambda xt: logits, x0, maskable, mask_id=task.mask_id,
                        generator=torch.Generator().manual_seed(1), **kw)
        loss.backward()
        g = logits.grad[0].norm(dim=-1)
        easy, hard = g[:8].sum(), g[8:].sum()
        assert easy > 0 and hard > 0                       # this seed masks cells of both kinds
        return (hard / easy).item()
    plain, focal = hard_share(), hard_share(focal_gamma=2.0)
    assert focal > 20 * plain


def test_compacted_checkpoint_loads_as_float32_and_decodes_alike(tmp_path):
    from scripts.compact import main as compact_main
    torch.manual_seed(0)
    m = tiny("mdm").eval()
    save_model(tmp_path / "full.pt", m, vocab=SudokuTask().vocab())
    assert compact_main([str(tmp_path / "full.pt"), str(tmp_path / "half.pt")]) == 0
    assert (tmp_path / "half.pt").stat().st_size < 0.6 * (tmp_path / "full.pt").stat().st_size
    m2, ck = load_model(tmp_path / "half.pt")
    assert ck["meta"]["stored_dtype"] == "bfloat16"
    assert all(p.dtype == torch.float32 for p in m2.parameters())
    x = torch.randint(0, 10, (2, 81))
    with torch.no_grad():
        assert torch.allclose(m(x), m2(x), atol=0.05)
    assert compact_main([str(tmp_path / "missing.pt"), str(tmp_path / "x.pt")]) == 2
