import math
import signal

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from sampling import SAMPLERS, ar_decode, run_sampler
from sampling.core import entropy
from tests.helpers import TableModel

MASK = 5
V = 6


def random_model(seed, S):
    g = torch.Generator().manual_seed(seed)
    t = torch.randn(S, V, generator=g) * 3
    t[:, MASK] = float("-inf")                   # MASK is never predicted
    return TableModel(t)


def masked_input(seed, B, S, p=0.6):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, MASK, (B, S), generator=g)
    m = torch.rand(B, S, generator=g) < p
    return torch.where(m, torch.full_like(x, MASK), x)


ALL = [("eb", {"gamma": 0.1}), ("eb", {"gamma": 0.0, "proxy": "margin"}), ("topk", {"k": 2}),
       ("threshold", {"tau": 0.8}), ("random", {"steps": 4})]


def test_entropy_has_no_nan_for_zero_probabilities():
    logp = torch.log_softmax(torch.tensor([[0.0, float("-inf"), float("-inf")]]), -1)
    assert entropy(logp).item() == 0.0
    assert math.isclose(entropy(torch.log(torch.full((1, 4), 0.25))).item(), math.log(4), rel_tol=1e-6)


@pytest.mark.parametrize("name,opts", ALL)
def test_all_mass_on_one_token_yields_it_everywhere(name, opts):
    t = torch.full((7, V), -30.0)
    t[:, 3] = 10.0
    x = torch.full((3, 7), MASK)
    out, _st = run_sampler(name, TableModel(t), x, mask_id=MASK, options=opts,
                          generator=torch.Generator().manual_seed(0))
    assert (out == 3).all()


@given(st.integers(0, 1000), st.sampled_from(ALL))
def test_givens_never_change_and_steps_are_bounded(seed, point):
    name, opts = point
    x = masked_input(seed, 4, 12)
    out, stats = run_sampler(name, random_model(seed, 12), x, mask_id=MASK, options=opts,
                             generator=torch.Generator().manual_seed(seed))
    given = x != MASK
    assert (out[given] == x[given]).all()
    assert (out != MASK).all()
    n_masked = (x == MASK).sum(1)
    for r in range(4):
        steps = stats["tokens_per_step"][r]
        assert all(1 <= s for s in steps) and sum(steps) == n_masked[r]
        assert stats["nfe"][r] == len(steps) <= max(int(n_masked[r]), 0)


def test_gamma_zero_is_one_token_per_step_and_huge_gamma_one_step():
    x = masked_input(1, 3, 10, p=1.0)
    m = random_model(1, 10)
    _, st = SAMPLERS["eb"](m, x, mask_id=MASK, gamma=0.0)
    assert all(s == [1] * 10 for s in st["tokens_per_step"])
    _, st = SAMPLERS["eb"](m, x, mask_id=MASK, gamma=1e9)
    assert st["nfe"].tolist() == [1, 1, 1]


def test_eb_takes_exactly_the_admissible_prefix():
    # Entropies sorted: 0, 0.1, 0.2, 0.5 (approx) -> with gamma=0.35: prefix {0, .1, .2} has
    # sum - max = 0.1 + 0 = 0.1 <= .35; adding 0.5 gives 0.8 - 0.5 = 0.3 <= .35: all 4.
    # With gamma=0.25: 3 tokens (0.3 > 0.25).
    def dist(h_target):
        # two-way distribution with entropy h_target (nats), by bisection on p
        lo, hi = 1e-9, 0.5
        for _ in range(60):
            p = (lo + hi) / 2
            h = -(p * math.log(p) + (1 - p) * math.log(1 - p))
            lo, hi = (p, hi) if h < h_target else (lo, p)
        return torch.log(torch.tensor([1 - p, p, 1e-30, 1e-30, 1e-30, 1e-30]))
    t = torch.stack([dist(h) for h in (0.5, 1e-6, 0.2, 0.1)])
    x = torch.full((1, 4), MASK)
    _, st = SAMPLERS["eb"](TableModel(t), x, mask_id=MASK, gamma=0.35)
    assert st["tokens_per_step"][0][0] == 4
    _, st = SAMPLERS["eb"](TableModel(t), x, mask_id=MASK, gamma=0.25)
    assert st["tokens_per_step"][0][0] == 3


def test_eb_takes_a_cell_at_the_bound_itself():
    # The bound is <= gamma: with gamma = 0, three certain cells (entropy exactly 0) and the
    # first uncertain one after them (sum - max = ln 10 - ln 10 = 0) are one step; the second
    # uncertain one (ln 10 > 0) is not. A strict < would take only the one cell it must.
    certain = torch.full((6,), float("-inf")).index_fill(0, torch.tensor([2]), 0.0)
    uniform = torch.full((6,), 0.0)
    t = torch.stack([uniform, certain, certain, uniform, certain])
    _, st = SAMPLERS["eb"](TableModel(t), torch.full((1, 5), MASK), mask_id=MASK, gamma=0.0)
    assert st["tokens_per_step"][0][0] == 4


@pytest.mark.parametrize("name,opts", ALL)
def test_rows_are_independent_of_the_batch(name, opts):
    x = masked_input(3, 5, 9)
    m = random_model(3, 9)
    batch, _ = run_sampler(name, m, x, mask_id=MASK, options=opts, generator=torch.Generator().manual_seed(0))
    if name == "random":   # random positions draw from the generator: compare argmax values only
        return
    for r in range(5):
        alone, _ = run_sampler(name, m, x[r:r + 1], mask_id=MASK, options=opts)
        assert (alone[0] == batch[r]).all()


def test_finished_rows_leave_the_batch():
    x = torch.full((2, 6), MASK)
    x[0, :5] = 0                                # row 0 has one mask, row 1 six
    m = random_model(0, 6)
    _, st = SAMPLERS["topk"](m, x, mask_id=MASK, k=1)
    assert st["nfe"].tolist() == [1, 6]
    assert m.rows_seen == 1 + 6                 # no forward pass wasted on row 0


def test_seeds_reproduce_sampled_runs():
    x = masked_input(4, 3, 10, p=1.0)
    m = random_model(4, 10)
    a, _ = SAMPLERS["eb"](m, x, mask_id=MASK, gamma=0.5, temperature=1.0, generator=torch.Generator().manual_seed(7))
    b, _ = SAMPLERS["eb"](m, x, mask_id=MASK, gamma=0.5, temperature=1.0, generator=torch.Generator().manual_seed(7))
    c, _ = SAMPLERS["eb"](m, x, mask_id=MASK, gamma=0.5, temperature=1.0, generator=torch.Generator().manual_seed(8))
    assert (a == b).all() and not (a == c).all()


def test_threshold_and_random_schedule():
    t = torch.full((4, V), -30.0)
    t[0, 1] = 10.0                               # one confident position, three uniform-ish
    t[1:, :MASK] = 0.0
    x = torch.full((1, 4), MASK)
    _, st = SAMPLERS["threshold"](TableModel(t), x, mask_id=MASK, tau=0.9)
    assert st["tokens_per_step"][0][0] == 1
    _, st = SAMPLERS["random"](random_model(0, 10), torch.full((2, 10), MASK), mask_id=MASK, steps=3,
                               generator=torch.Generator().manual_seed(0))
    assert st["tokens_per_step"][0] == [4, 3, 3] and st["nfe"].tolist() == [3, 3]


def test_ar_decode_counts_calls_and_copies_forced_tokens():
    calls = []

    def step(tok, cache):
        calls.append(tok.shape)
        logits = torch.zeros(tok.shape[0], V)
        logits[:, 2] = 5.0
        return logits, (cache or 0) + 1
    forced = torch.tensor([[-1, 4, -1], [1, -1, -1]])
    out, st = ar_decode(step, torch.zeros(2, 5, dtype=torch.long), n_tokens=3, forced=forced)
    assert out.tolist() == [[2, 4, 2], [1, 2, 2]]
    assert st["nfe"].tolist() == [3, 3] and calls[0] == (2, 5) and calls[1] == (2, 1)


def test_eb_prefix_test_runs_in_float64():
    """A near-certain cell (H ~ 6e-12) sorted before a coin flip (H = ln 2): the two-cell
    prefix sums to ln 2 + 6e-12, which exceeds its largest entropy by 6e-12 > gamma = 0 in
    float64 but rounds to exactly 0 in float32, so a float32 prefix test would take both."""
    t = torch.full((2, V), -100.0)
    t[0, 0], t[0, 1] = 0.0, -30.0                # H = 30 e^-30 ~ 2.8e-12 (float32 keeps it)
    t[1, 0], t[1, 1] = 0.0, 0.0                  # H = ln 2
    t[:, MASK] = float("-inf")
    h = entropy(torch.log_softmax(t, -1))
    assert 0 < h[0] < 1e-10 and (h[0] + h[1]) - h[1] == 0      # the float32 rounding this guards against
    _, st = SAMPLERS["eb"](TableModel(t), torch.full((1, 2), MASK), mask_id=MASK, gamma=0.0)
    assert st["tokens_per_step"][0] == [1, 1] and st["nfe"].tolist() == [2]


def test_random_sampler_unmasks_on_its_schedule_and_keeps_givens():
    """The vanilla MDM sampler: S masked cells over `steps` steps (ceil/floor split, every
    cell once), givens untouched, every committed value the table's argmax at temperature 0."""
    S = 10
    model = random_model(3, S)
    x = torch.full((2, S), MASK)
    x[1, :4] = torch.tensor([0, 1, 2, 3])        # row 1: four givens, six masks
    out, st = SAMPLERS["random"](model, x, mask_id=MASK, steps=4, generator=torch.Generator().manual_seed(0))
    assert (out != MASK).all() and torch.equal(out[1, :4], x[1, :4])
    arg = model.table.argmax(-1)
    assert torch.equal(out[0], arg) and torch.equal(out[1, 4:], arg[4:])
    assert sum(st["tokens_per_step"][0]) == S and sum(st["tokens_per_step"][1]) == 6
    assert st["nfe"].tolist() == [4, 4]


def test_bounded_memo_evicts_the_least_recently_used_state():
    """memo_forward with a cap of 2: states A, B, A, C, B. A's hit makes B the oldest, so C
    evicts B and B costs a second pass; unbounded, B would be reused."""
    from sampling.core import Memo, memo_forward
    calls = []

    def model_fn(x):
        calls.append(x.shape[0])
        return torch.zeros(x.shape[0], x.shape[1], V)
    A, B, C = (torch.tensor([[k, MASK]]) for k in (0, 1, 2))
    for memo, passes in ((Memo(2), 4), (Memo(), 3)):
        calls.clear()
        for s in (A, B, A, C, B):
            memo_forward(model_fn, s, [memo])
            assert memo.cap is None or len(memo) <= memo.cap
        assert len(calls) == passes
    with pytest.raises(ValueError):
        Memo(0)


def test_mask_is_never_written_even_where_the_model_likes_it_best():
    # A decoder writes values: a MASK proposal would leave the cell masked (a wasted pass
    # at best, a loop that never ends at worst). Both the loop and the search ban it.
    from sampling.rules import eb_select
    from sampling.search import best_first_decode
    t = torch.zeros(4, V)
    t[:, MASK] = 5.0                              # MASK is every cell's favourite
    t[torch.arange(4), torch.arange(4)] = 1.0
    x = torch.full((1, 4), MASK)

    def stuck(*_):
        raise AssertionError("decoding did not end: MASK was proposed and written")
    signal.signal(signal.SIGALRM, stuck)
    signal.alarm(20)
    try:
        out, st = SAMPLERS["eb"](TableModel(t), x, mask_id=MASK, gamma=0.01)
        assert torch.equal(out[0], torch.arange(4)) and int(st["nfe"][0]) <= 4
        out, st = best_first_decode(TableModel(t), x, mask_id=MASK, select=eb_select(0.01),
                                    check_fn=lambda y: torch.zeros(len(y), dtype=torch.bool))
        assert torch.equal(out[0], torch.arange(4)) and int(st["nfe"][0]) <= 4
    finally:
        signal.alarm(0)
