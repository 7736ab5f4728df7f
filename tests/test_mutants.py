"""scripts.mutants' list follows the code: every line it breaks is in its file exactly once,
its replacement differs, and the tests it names exist."""
from pathlib import Path

from scripts.mutants import MUTANTS, ROOT


def test_every_mutant_line_is_in_its_file_once_and_its_tests_exist():
    assert len(MUTANTS) >= 25 and len({m[0] for m in MUTANTS}) == len(MUTANTS)
    for name, path, old, new, tests in MUTANTS:
        assert (ROOT / path).read_text().count(old) == 1, (name, path)
        assert new != old, name
        for t in tests.split():
            assert (ROOT / t.split("::")[0]).is_file(), (name, t)
            if "::" in t:
                assert f"def {t.split('::')[1]}(" in Path(ROOT / t.split("::")[0]).read_text(), (name, t)
