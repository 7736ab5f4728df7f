"""Our EB rule against Hugging Face diffusers' ``EntropyBoundScheduler`` (the ``diffusers``
extra; skipped, saying why, where it is not installed).

The two differ by design, and the comparison removes exactly those differences:
* diffusers corrupts with uniform noise (no mask token) and ranks every position; we rank
  the masked positions only. Its step is given the masked positions' logits alone.
* diffusers anneals the temperature from t_max to t_min and measures entropy on the
  scaled logits; with t_max = t_min = 1 the scale is 1, as ours at temperature 0 or 1.
Then the accepted positions must be the committed ones, at every pass of every decode:
here 200 Sudoku puzzles decoded by the shipped model, at two gammas.
"""
from __future__ import annotations

import pytest
import torch

from models.checkpoint import load_model, pretrained
from puzzles.data import dataset
from puzzles.tasks import SudokuTask, read_questions
from sampling.core import unmask_loop
from sampling.rules import eb_select

diffusers = pytest.importorskip("diffusers", reason="diffusers is not installed (pip install -e '.[diffusers]')")


@pytest.mark.parametrize("gamma", [0.01, 0.3])
def test_eb_commits_what_diffusers_entropy_bound_scheduler_accepts(gamma):
    sched = diffusers.EntropyBoundScheduler(entropy_bound=gamma, t_max=1.0, t_min=1.0, num_inference_steps=1)
    task = SudokuTask()
    model, _ = load_model(pretrained("sudoku-mdm.pt"), task="sudoku", kind="mdm", vocab=task.vocab(), device="cpu")
    questions, _ = read_questions(task, str(dataset("sudoku")))
    x = torch.from_numpy(task.encode(questions[:200]))
    ours = eb_select(gamma)
    passes, commits = 0, 0

    def both(logp, mask, step, gen):
        nonlocal passes, commits
        sel = ours(logp, mask, step, gen)
        for i in range(len(mask)):
            m = mask[i]
            acc = sched.step(logp[i][m][None], 0, torch.zeros(1, int(m.sum()), dtype=torch.long)).accepted_index[0]
            assert torch.equal(sel[i][m], acc), f"pass {step}, row {i}: ours {sel[i][m].sum()} vs {acc.sum()}"
            passes += 1
            commits += int(acc.sum())
        return sel

    with torch.inference_mode():
        _out, st = unmask_loop(model, x, mask_id=task.mask_id, select=both)
    assert passes == int(st["nfe"].sum()) >= 200 and commits == int((x == task.mask_id).sum())
