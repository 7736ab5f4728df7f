"""The README's runnable example ("Testing your own validator or model") runs and passes."""
import re
from pathlib import Path


def test_readme_strategies_example_runs(tmp_path):
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text[text.index("## Testing your own validator or model"):]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    # compiled from a file of its own: hypothesis reads a test's source by file and line,
    # and README.md's own lines 1.. are not the example's
    src = tmp_path / "readme_example.py"
    src.write_text(code)
    ns: dict = {}
    exec(compile(code, str(src), "exec"), ns)   # noqa: S102 -- the README's own example, run as written
    tests = [v for k, v in ns.items() if k.startswith("test_")]
    assert tests
    for t in tests:
        t()                     # a @given test runs its examples when called


def test_readme_eb_for_your_own_model_runs(capsys):
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text[text.index("## EB for your own model"):]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    exec(compile(code, "README.md", "exec"), {})   # noqa: S102 -- the README's own example, run as written
    assert capsys.readouterr().out.strip() == "[1, 1, 1]"
