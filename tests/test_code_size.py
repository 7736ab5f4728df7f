"""The size rule for the library and scripts (tests aside): no source file over 300 lines,
no function over 60 (decorators and docstrings count)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("puzzles", "models", "sampling", "solvers", "scripts")


def sources():
    for pkg in PACKAGES:
        yield from sorted((ROOT / pkg).rglob("*.py"))


def test_no_source_file_over_300_lines():
    long = {str(p.relative_to(ROOT)): n for p in sources() if (n := len(p.read_text().splitlines())) > 300}
    assert not long, long


def test_no_function_over_60_lines():
    long = {}
    for p in sources():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                if node.end_lineno - start + 1 > 60:
                    long[f"{p.relative_to(ROOT)}:{node.name}"] = node.end_lineno - start + 1
    assert not long, long
