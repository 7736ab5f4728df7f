"""Any combination of flags, valid or not, is either accepted by the checks that run before
a model loads or refused with a UsageError (one line, exit 2): never another exception."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puzzles.cli import UsageError
from scripts import evaluate
from solvers.cli import build_parser, check_args

VALUES = ["0", "-1", "1", "0.5", "3", "1e9", "nan", "x", "0.01"]
SOLVER_FLAGS = {  # flag: its values (None: a switch)
    "--sampler": ["eb", "topk", "threshold", "random", "klass", "dilated", "remask", "ar"],
    "--gamma": VALUES, "--proxy": ["entropy", "margin"], "--k": VALUES, "--tau": VALUES, "--kl": VALUES,
    "--block": VALUES, "--steps": VALUES, "--temperature": VALUES, "--beam": VALUES, "--remask-tau": VALUES,
    "--remask-budget": VALUES, "--search": None, "--search-budget": VALUES,
    "--search-views": VALUES, "--search-restart": VALUES, "--rules": ["none", "mask", "propagate"],
    "--limit": VALUES, "--batch-size": VALUES, "--seed": VALUES, "--trace": ["t.html", "t.json", "t.txt"],
    "--trace-limit": VALUES, "--output-format": ["line", "grid"],
}


def argv_of(flags: dict, picks) -> list[str]:
    argv = []
    for flag, value in picks:
        argv += [flag] if flags[flag] is None else [flag, value]
    return argv


@st.composite
def combos(draw, flags: dict):
    names = draw(st.lists(st.sampled_from(sorted(flags)), max_size=6, unique=True))
    return [(n, None if flags[n] is None else draw(st.sampled_from(flags[n]))) for n in names]


@pytest.mark.parametrize("task,rules", [("sudoku", ("mask", "propagate")), ("maze", ())])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_solver_flags_are_checked_or_refused_in_one_line(task, rules, data):
    flags = dict(SOLVER_FLAGS)
    if task == "maze":
        flags["--output-format"] = ["ascii", "rows"]
    ap = build_parser(task, "doc", "depth")
    try:
        args = ap.parse_args(argv_of(flags, data.draw(combos(flags))))
    except SystemExit as e:             # argparse: a type or choice error, exit 2 with one line
        assert e.code == 2
        return
    try:
        check_args(args, task, rules)
    except UsageError as e:
        assert "\n" not in str(e) and str(e)


EVAL_POINTS = ["eb:gamma=0.01", "eb:gamma=0.01,search=1", "eb:gamma=0.01,search_budget=5", "eb:rules=mask",
               "eb:temperature=0.5,search=1",
               "eb:search=1,search_views=2,search_restart=400", "eb:search_views=3", "klass:tau=0.9,search=1", "ar", "ar:beam=3", "ar:beam=x",
               "topk:k=0", "topk:k=2,rules=propagate", "remask:remask_tau=2", "eb:gamma=-1", "nosuch", "eb:x=1"]
EVAL_FLAGS = {"--task": ["sudoku", "maze"], "--compare": None, "--rivals": None, "--scaling": None,
              "--arm-beam": ["1", "2", "x"], "--limit": VALUES, "--batch-size": VALUES, "--seed": VALUES,
              "--trace": ["t.html", "t.txt"], "--trace-limit": VALUES, "--gamma": VALUES}


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_evaluate_flags_are_checked_or_refused_in_one_line(data):
    argv = argv_of(EVAL_FLAGS, data.draw(combos(EVAL_FLAGS)))
    points = data.draw(st.lists(st.sampled_from(EVAL_POINTS), max_size=3))
    if points:
        argv += ["--points", *points]
    try:
        a = evaluate.build_parser().parse_args(argv)
    except SystemExit as e:
        assert e.code == 2
        return
    try:
        evaluate.check_flags(a)
    except UsageError as e:
        assert "\n" not in str(e) and str(e)
