"""docs/results.md and the README's headline table are what docs/*.csv give."""
import csv

import pytest

from scripts import results


def test_results_and_headline_match_their_csvs():
    assert results.main(["--check"]) == 0, "run python -m scripts.results"


def test_the_readme_headline_has_at_most_ten_rows():
    # the README's one headline table: at most 10 rows (the rest lives in docs/results.md)
    block = results.ROOT.joinpath("README.md").read_text().split("<!-- headline -->")[1].split("<!-- /headline -->")[0]
    rows = [ln for ln in block.splitlines() if ln.startswith("| ") and not ln.startswith("| set ")]
    assert len(results.HEADLINE) == len(rows) <= 10


def test_a_changed_csv_value_is_caught(tmp_path, monkeypatch):
    """The check reads the numbers: one changed solve rate makes it fail."""
    for p in results.DOCS.glob("*.csv"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    name = results.HEADLINE[0][1]
    with (tmp_path / name).open(newline="") as f:
        rows = list(csv.DictReader(f))
    rows[0]["solve_rate"] = str(float(rows[0]["solve_rate"]) / 2)
    with (tmp_path / name).open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    monkeypatch.setattr(results, "DOCS", tmp_path)
    assert results.results_md() != (results.ROOT / "docs" / "results.md").read_text()
    with pytest.raises(SystemExit):
        results.read_csv("no-such.csv")


def test_eb_ratio_interpolates_eb_curve_in_log_nfe():
    from scripts.results import eb_ratio
    rows = [{"label": "eb gamma=0.01", "nfe_mean": "4", "solve_rate": "0.98"},
            {"label": "eb gamma=0.1", "nfe_mean": "2", "solve_rate": "0.90"},
            {"label": "klass", "nfe_mean": "6", "solve_rate": "0.94"},      # EB reaches 0.94 at 2*sqrt(2)
            {"label": "better", "nfe_mean": "6", "solve_rate": "0.99"},
            {"label": "cheap", "nfe_mean": "1", "solve_rate": "0.50"}]     # below EB's cheapest point
    got = {r["label"]: r["eb_ratio"] for r in eb_ratio(rows)}
    assert got == {"eb gamma=0.01": "", "eb gamma=0.1": "", "klass": "2.12", "better": "above EB", "cheap": "0.50"}


def _shipped_examples() -> dict:
    """{(task, kind): {training examples of each shipped checkpoint}}."""
    import torch

    from models.checkpoint import examples_seen, pretrained
    seen: dict = {}
    for p in pretrained("maze-mdm.pt").parent.glob("*.pt"):
        ck = torch.load(p, map_location="cpu", weights_only=False)
        seen.setdefault((ck["task"], ck["kind"]), set()).add(examples_seen(ck["meta"]))
    return seen


def test_current_tables_measure_the_shipped_checkpoints():
    """A table whose command runs on today's checkout (no ``git checkout``) holds rows of the
    shipped checkpoints only: a model retrained without its tables re-measured fails here."""
    seen = _shipped_examples()
    assert len(seen[("maze", "mdm")]) == 1 and len(seen[("sudoku", "mdm")]) == 1
    checked = 0
    for _title, name, command, _cols in results.TABLES:
        if command.startswith("git checkout"):
            continue                                    # a table of an earlier checkpoint, said so
        for row in results.read_csv(name):
            if "model" not in row:                      # the budget tables (scaling-*.csv) name no model
                break
            named = next((t for t in ("sudoku", "maze") if row.get("set", "").startswith(t)), None)
            task = named or ("maze" if "maze" in command else "sudoku")    # a table of both names each set's
            kind = {"MDM": "mdm", "ARM": "arm"}[row["model"]]
            assert int(row["train_examples"]) in seen[(task, kind)], (
                f"docs/{name}: a {task} {kind} row of {row['train_examples']} training examples; the shipped "
                f"{kind}s have {sorted(seen[(task, kind)])}: re-run its command")
            checked += 1
    assert checked > 50
