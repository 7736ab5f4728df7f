"""Break each invariant's line once, run the tests that guard it, restore the line.

    python -m scripts.mutants                 # every invariant: caught or MISSED, with the failing test
    python -m scripts.mutants views verifier  # those whose name contains a word given

A test earns its place by failing when the code is wrong: each entry names an invariant
the README or docs state, one line of the code that keeps it, a one-line change that
breaks it, and the tests that must then fail. The file is restored after each run (also
on Ctrl-C). ``tests/test_mutants.py`` checks that every line is still in its file once,
so the list follows the code. Exit status 1 when a mutant is missed or a line is gone.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MUTANTS = [  # (invariant, file, the line as it is, the line broken, the tests that guard it)
 ("EB float64 prefix", "sampling/rules.py", "entropy(logp).double()", "entropy(logp)", "tests/test_sampling.py"),
 ("EB minus-max term", "sampling/rules.py", "h.cumsum(1) - h.cummax(1).values <= gamma", "h.cumsum(1) <= gamma", "tests/test_sampling.py tests/test_properties_decoding.py"),
 ("EB bound direction", "sampling/rules.py", "h.cummax(1).values <= gamma", "h.cummax(1).values < gamma", "tests/test_sampling.py tests/test_properties_decoding.py"),
 ("MDM NFE per row", "sampling/core.py", "nfe[act] += 1", "nfe += 1", "tests/test_sampling.py"),
 ("MASK never a value", "sampling/core.py", "logits[..., mask_id] = float(\"-inf\")", "pass", "tests/test_sampling.py tests/test_search.py"),
 ("search NFE counts passes run", "sampling/search.py", "nfe[torch.tensor([active[i] for i in ran], dtype=torch.long)] += 1", "nfe[torch.tensor(active, dtype=torch.long)] += 1", "tests/test_search.py"),
 ("search budget", "sampling/search.py", "if int(nfe[r]) < int(limit[r])]", "if int(nfe[r]) <= int(limit[r])]", "tests/test_search.py"),
 ("best-first completeness", "sampling/search.py", "            row.part(acc + lq, child.clone(), bans + ((c, v),))", "            pass", "tests/test_search.py"),
 ("best-first order", "sampling/search.py", "heapq.heappush(self.heap, (-score,", "heapq.heappush(self.heap, (score,", "tests/test_search.py"),
 ("views: answers mapped back", "sampling/views.py", "back[:, perm] = inv[o]", "back[:, perm] = o", "tests/test_search_views.py"),
 ("views: solved rows leave", "sampling/views.py", "todo = todo[~torch.as_tensor(", "todo = todo[torch.ones(len(todo), dtype=torch.bool) | ~torch.as_tensor(", "tests/test_search_views.py"),
 ("views: maze passages turn with the grid", "puzzles/task_maze.py", "np.array([v, mz.MASK]), 1, 1, d)[0]",
  "np.array([v, mz.MASK]), 1, 1, 0)[0]", "tests/test_search_views.py"),
 ("maze training batches keep the grid's shape", "puzzles/task_maze.py", "else 2 * int(rng.integers(4))",
  "else int(rng.integers(4))", "tests/test_maze.py"),
 ("views: restart until the verifier accepts", "solvers/decode.py", "return task.verify(qs, task.decode(t.cpu().numpy(), qs))[0]", "return ~((t == task.mask_id).any(1).cpu() | check_fn(t))", "tests/test_search_views.py"),
 ("views: budget shared", "sampling/views.py", "budget - restart * k)", "restart)", "tests/test_search_views.py"),
 ("views: NFE add up", "sampling/views.py", "nfe[todo] += st[\"nfe\"]", "nfe[todo] = st[\"nfe\"]", "tests/test_search_views.py"),
 ("ARM raster NFE = cells", "sampling/arm.py", "torch.full((B,), n_tokens, dtype=torch.long)", "torch.full((B,), 1, dtype=torch.long)", "tests/test_sampling.py tests/test_arm_orders.py"),
 ("ARM pick NFE = calls that emitted", "sampling/arm.py", "        nfe += active.cpu().long()", "        nfe += 1", "tests/test_arm_orders.py"),
 ("ARM beam NFE = width x calls", "sampling/arm.py", "clock.stats(calls * k,", "clock.stats(calls,", "tests/test_arm_beam.py"),
 ("Sudoku verifier: givens", "puzzles/sudoku/verify.py", "solved = ok & ~changed & in_range", "solved = ok & in_range", "tests/test_sudoku.py tests/test_properties.py"),
 ("Sudoku verifier: boxes", "puzzles/sudoku/verify.py", "ok = (rows == full).all(1) & (cols == full).all(1) & (boxes == full).all((1, 2))", "ok = (rows == full).all(1) & (cols == full).all(1)", "tests/test_sudoku.py tests/test_properties.py"),
 ("Sudoku verifier: rows", "puzzles/sudoku/verify.py", "ok = (rows == full).all(1) & (cols", "ok = (cols", "tests/test_sudoku.py tests/test_properties.py"),
 ("Sudoku verifier: columns", "puzzles/sudoku/verify.py", "(cols == full).all(1) & (boxes", "(boxes",
  "tests/test_sudoku.py tests/test_properties.py"),
 ("maze verifier: shortest", "puzzles/maze/verify.py", "    if int(on.sum()) - 1 != shortest_length(q):", "    if False:", "tests/test_maze.py"),
 ("maze verifier: no branch", "puzzles/maze/verify.py", "(deg[on & ~ends] > 2).any()", "(deg[on & ~ends] > 3).any()", "tests/test_maze.py"),
 ("maze verifier: connected", "puzzles/maze/verify.py", "    if (dist[on] < 0).any():", "    if False:", "tests/test_maze.py"),
 ("loss masking", "models/losses.py", "    ce = ce * mask\n", "    ce = ce * 1\n", "tests/test_models.py"),
 ("atomic writes", "puzzles/io.py", "        os.replace(tmp, path)", "        Path(path).write_bytes(data)", "tests/test_io.py"),
 ("strategy: valid grid that breaks givens", "puzzles/strategies.py", "(\"changed given\", givens), (\"digits swapped everywhere\", givens)", "(\"changed given\", givens)", "tests/test_properties.py"),
 ("scaling curve counts solved within budget", "scripts/scaling.py", "solved & (cost <= b)", "solved & (cost < b)", "tests/test_cli.py::test_scaling_curve_counts_a_row_at_exactly_its_cost"),
 ("memo: a hit is the most recently used", "sampling/core.py", "memos[i][k] = memos[i].pop(k)", "pass", "tests/test_sampling.py"),
 ("decode: answers back in input order", "solvers/decode.py", "answers[i], out[\"tokens_per_step\"][i] = ans[j], st[\"tokens_per_step\"][j]", "answers[j], out[\"tokens_per_step\"][j] = ans[j], st[\"tokens_per_step\"][j]", "tests/test_maze_sizes.py"),
 ("results tables = their CSVs", "scripts/results.py", "return f\"{100 * float(v):.1f}%\"", "return f\"{100 * float(v):.0f}%\"", "tests/test_results.py"),
 ("views: a valid view of every solution", "puzzles/task_sudoku.py", "dmap[1:].astype(np.int64) - 1", "dmap[1:].astype(np.int64)", "tests/test_search_views.py"),
]


def run(name: str, path: str, old: str, new: str, tests: str) -> str:
    f = ROOT / path
    src = f.read_text()
    if src.count(old) != 1:
        return f"GONE    {name}: the line is in {path} {src.count(old)} times, not once"
    f.write_text(src.replace(old, new))
    t = time.time()
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests.split()],
                           check=False, capture_output=True, text=True, cwd=ROOT, timeout=900)
    finally:
        f.write_text(src)
    failed = [line.split(" ")[1] for line in r.stdout.splitlines() if line.startswith("FAILED")]
    verdict = "caught " if r.returncode != 0 else "MISSED "
    return (f"{verdict} {name}: {path}: {old.strip()[:48]!r} -> {new.strip()[:40]!r}; "
            f"{failed[0] if failed else 'no test failed'} ({time.time() - t:.0f} s)")


def main(argv=None) -> int:
    words = sys.argv[1:] if argv is None else argv
    bad = 0
    for name, path, old, new, tests in MUTANTS:
        if words and not any(w in name for w in words):
            continue
        line = run(name, path, old, new, tests)
        bad += not line.startswith("caught")
        print(line, flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
