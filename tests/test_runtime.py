"""Precision, threads and device choices (models.runtime) and their use in training and decoding."""
import numpy as np
import pytest
import torch

from models import runtime
from models.checkpoint import load_model
from models.losses import mdm_loss
from models.transformer import ModelConfig, PuzzleTransformer
from puzzles.tasks import SudokuTask
from sampling import run_sampler
from sampling.core import entropy
from solvers.training.loop import TrainConfig, train
from tests.helpers import TableModel, exit_code


def test_auto_picks_fp32_without_native_bf16(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_has_fast_bf16", lambda: False)
    assert runtime.resolve_precision("auto", "cpu") == "fp32"
    monkeypatch.setattr(runtime, "cpu_has_fast_bf16", lambda: True)
    assert runtime.resolve_precision("auto", "cpu") == "bf16"
    assert runtime.resolve_precision("fp32", "cpu") == "fp32"     # forced values pass through
    assert runtime.resolve_precision("bf16", "cpu") == "bf16"


def test_bad_runtime_choices_are_errors():
    with pytest.raises(runtime.RuntimeChoiceError, match="--precision"):
        runtime.resolve_precision("fp16", "cpu")
    with pytest.raises(runtime.RuntimeChoiceError, match="--threads"):
        runtime.set_threads(-1)
    with pytest.raises(runtime.RuntimeChoiceError, match="--device"):
        runtime.pick_device("foo")
    if not torch.cuda.is_available():
        with pytest.raises(runtime.RuntimeChoiceError, match="no CUDA"):
            runtime.pick_device("cuda")


def test_threads_default_to_every_core():
    before = torch.get_num_threads()
    try:
        assert runtime.set_threads(0) == runtime.machine_cores() == torch.get_num_threads()
        assert runtime.set_threads(1) == 1 == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("argv", [["--precision", "fp16"], ["--threads", "-1"], ["--device", "foo"]])
def test_solver_rejects_bad_runtime_flags(argv, capsys):
    from solvers.sudoku import main
    assert exit_code(main, ["--limit", "1", "--quiet", *argv]) == 2
    assert argv[0] in capsys.readouterr().err


def _tiny(seed=0):
    torch.manual_seed(seed)
    t = SudokuTask()
    return PuzzleTransformer(ModelConfig(kind="mdm", d_model=32, n_layers=2, n_heads=2, **t.model_fields("mdm")))


def test_logits_and_entropies_are_float32_under_autocast():
    m = _tiny().eval()
    x = torch.full((3, 81), 9)
    with torch.no_grad(), runtime.autocast("cpu", "bf16"):
        logits = m(x)
        logp = torch.log_softmax(logits, -1)
        h = entropy(logp)
    assert logits.dtype == logp.dtype == h.dtype == torch.float32
    # bf16 matmuls really ran: the logits differ from fp32 ones, but only by rounding
    with torch.no_grad():
        ref = m(x)
    assert not torch.equal(ref, logits)
    assert torch.allclose(ref, logits, atol=0.1)


def test_eb_gamma_zero_takes_one_token_per_step_under_autocast():
    # Two near-certain positions whose entropies sum to a hair above zero: gamma = 0
    # must still take exactly one per step (the prefix test is float64).
    S, V = 6, 3
    table = torch.full((S, V), -30.0)
    table[:, 0] = 0.0
    model = TableModel(table)
    x = torch.full((2, S), V - 1)
    with runtime.autocast("cpu", "bf16"):
        out, st = run_sampler("eb", model, x, mask_id=V - 1, options={"gamma": 0.0})
    assert st["nfe"].tolist() == [S, S]
    assert all(k == 1 for row in st["tokens_per_step"] for k in row)
    assert (out == 0).all()


def test_tiny_model_loss_falls_under_bf16():
    m = _tiny(1)
    task = SudokuTask()
    pool = task.make_pool(16, 0)
    rng = np.random.default_rng(0)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
    b = task.batch(pool, rng, 32)
    x0, maskable = torch.from_numpy(b.tokens), torch.from_numpy(b.maskable)

    def loss_at(step):
        with runtime.autocast("cpu", "bf16"):
            return mdm_loss(m, x0, maskable, mask_id=task.mask_id, generator=torch.Generator().manual_seed(step))
    first = loss_at(0).item()
    for _ in range(60):          # one fixed batch and mask: the model must fit it
        loss = loss_at(0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert all(p.dtype == torch.float32 for p in m.parameters())          # weights stay fp32
    assert loss_at(0).item() < 0.8 * first


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_checkpoints_record_precision_and_load_alike(tmp_path, precision):
    out = tmp_path / f"{precision}.pt"
    cfg = TrainConfig(task="sudoku", model="mdm", steps=2, batch_size=4, d_model=32, n_layers=1, n_heads=2,
                      pool_size=4, eval_size=0, warmup=1, precision=precision, threads=1)
    assert train(cfg, str(out)) == 0
    model, ck = load_model(out, task="sudoku", kind="mdm", vocab=SudokuTask().vocab())
    assert ck["meta"]["precision"] == precision
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert model(torch.full((1, 81), 9)).shape == (1, 81, 10)
