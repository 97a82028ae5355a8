"""Cluster metrics and ``storylines eval clusters``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storylines.cli import app
from storylines.cluster.evaluate import bcubed, pairwise_f1, read_labelled, score


def test_bcubed_matches_a_hand_worked_example() -> None:
    # gold {a,b,c} {d}; predicted {a,b} {c,d}
    precision, recall = bcubed(["x", "x", "x", "y"], [1, 1, 2, 2])
    assert precision == [1, 1, 0.5, 0.5]
    assert recall == pytest.approx([2 / 3, 2 / 3, 1 / 3, 1])


def test_pairwise_f1_counts_pairs() -> None:
    # gold pairs ab ac bc; predicted pairs ab cd → one true positive
    assert pairwise_f1(["x", "x", "x", "y"], [1, 1, 2, 2]) == pytest.approx(2 / (2 + 1 + 2))
    assert pairwise_f1(["x", "y"], [1, 2]) == 1.0


def write_jsonl(path: Path) -> Path:
    call = "kremlin phone call syria ceasefire"
    rows = [
        ("s1", "en", "2016-07-06", "Putin and Obama discuss Syria", call, "call"),
        ("s2", "en", "2016-07-06", "Putin Obama Syria call", f"{call} coordination", "call"),
        ("d1", "fr", "2016-07-07", "Cheese prices fall", "dairy farmers normandy protest margins", "cheese"),
    ]
    keys = ["id", "lang", "time", "title", "text", "cluster_id"]
    path.write_text("".join(json.dumps(dict(zip(keys, row, strict=True))) + "\n" for row in rows))
    return path


def test_read_labelled_and_score_by_language(tmp_path: Path) -> None:
    items = read_labelled(write_jsonl(tmp_path / "gold.jsonl"))
    assert [i.cluster_id for i in items] == ["call", "call", "cheese"] and items[2].lang == "fr"
    result = score(items, [1, 1, 2])
    assert result["bcubed_f1"] == 1.0 and result["n_clusters"] == 2 and set(result["by_lang"]) == {"en", "fr"}


@pytest.mark.slow
def test_eval_clusters_cli_prints_the_json_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYLINES_COMPARER", "tests.test_cluster_double:CosineComparer")
    result = CliRunner().invoke(app, ["eval", "clusters", str(write_jsonl(tmp_path / "g.jsonl")), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert {"bcubed_f1", "bcubed_p", "bcubed_r", "pairwise_f1", "n_clusters", "seconds"} <= set(scores)
    assert scores["bcubed_p"] == 1.0
