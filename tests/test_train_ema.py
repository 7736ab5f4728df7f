"""``ema``: the checkpoint holds a running average of the weights, OUT.raw the step's own,
and a resumed run averages exactly as an uninterrupted one."""
import pytest
import torch

from solvers.training.loop import TrainConfig, train
from solvers.training.schedule import Ema

TINY = {"task": "sudoku", "model": "mdm", "steps": 6, "batch_size": 4, "d_model": 16, "n_layers": 1, "n_heads": 2,
        "pool_size": 4, "eval_size": 0, "save_every": 1, "warmup": 2, "threads": 1, "lr": 1e-2}


def test_ema_update_and_applied_restore():
    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 2.0]]))
    ema = Ema(model, 0.75)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[5.0, -2.0]]))
    ema.update(model)
    assert torch.allclose(ema.avg["weight"], torch.tensor([[2.0, 1.0]]))    # 0.75 * old + 0.25 * new
    with ema.applied(model):
        assert torch.allclose(model.weight, torch.tensor([[2.0, 1.0]]))
    assert torch.allclose(model.weight, torch.tensor([[5.0, -2.0]]))       # the step's own weights are back


def _weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


def test_the_checkpoint_is_the_average_and_raw_the_step(tmp_path):
    assert train(TrainConfig(**TINY), str(tmp_path / "a.pt")) == 0
    base = dict(TINY, steps=3, init=str(tmp_path / "a.pt"))
    assert train(TrainConfig(**base), str(tmp_path / "plain.pt")) == 0
    cfg = TrainConfig(**base, ema=0.5, stop_after=1)
    raws = []
    for _ in range(3):      # one step per invocation, keeping each step's own weights
        assert train(cfg, str(tmp_path / "e.pt"), resume=True) == 0
        raws.append(_weights(tmp_path / "e.pt.raw"))
    init, plain, avg = _weights(tmp_path / "a.pt"), _weights(tmp_path / "plain.pt"), _weights(tmp_path / "e.pt")
    moved = [k for k in init if not torch.equal(init[k], plain[k])]
    assert moved
    for k in init:
        assert torch.equal(raws[-1][k], plain[k]), k       # the average never feeds back into training
        want = init[k] / 8 + raws[0][k] / 8 + raws[1][k] / 4 + raws[2][k] / 2
        assert torch.allclose(avg[k], want, atol=1e-6), k
    assert any(not torch.allclose(avg[k], plain[k], atol=1e-6) for k in moved)


def test_ema_resume_equals_uninterrupted(tmp_path):
    cfg = TrainConfig(**TINY, ema=0.7)
    assert train(cfg, str(tmp_path / "a.pt")) == 0
    assert train(cfg.model_copy(update={"stop_after": 3}), str(tmp_path / "b.pt")) == 0
    assert train(cfg, str(tmp_path / "b.pt"), resume=True) == 0
    a, b = _weights(tmp_path / "a.pt"), _weights(tmp_path / "b.pt")
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_ema_decay_must_be_below_one():
    with pytest.raises(ValueError):
        TrainConfig(ema=1.0)
