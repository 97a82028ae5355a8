"""Cluster metrics and ``storylines eval clusters``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storylines.cli import app
from storylines.cluster.evaluate import bcubed, holdout_split, pairwise_scores, read_labelled, score
from storylines.store import open_store


def test_bcubed_matches_a_hand_worked_example() -> None:
    # gold {a,b,c} {d}; predicted {a,b} {c,d}
    precision, recall = bcubed(["x", "x", "x", "y"], [1, 1, 2, 2])
    assert precision == [1, 1, 0.5, 0.5]
    assert recall == pytest.approx([2 / 3, 2 / 3, 1 / 3, 1])


def test_pairwise_scores_count_pairs() -> None:
    # gold pairs ab ac bc; predicted pairs ab cd → one true positive, one false positive, two missed
    scores = pairwise_scores(["x", "x", "x", "y"], [1, 1, 2, 2])
    assert scores["pairwise_f1"] == pytest.approx(2 / (2 + 1 + 2))
    assert (scores["pairwise_p"], scores["pairwise_r"]) == pytest.approx((1 / 2, 1 / 3))
    assert pairwise_scores(["x", "y"], [1, 2])["pairwise_f1"] == 1.0


def test_holdout_keeps_the_last_share_by_time() -> None:
    assert holdout_split(10, 0.4) == (6, 4) and holdout_split(10, 0.0) == (10, 0)
    with pytest.raises(ValueError, match="holdout"):
        holdout_split(10, 1.0)


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
    result = score([i.cluster_id for i in items], [1, 1, 2], [i.lang for i in items])
    assert result["bcubed_f1"] == 1.0 and result["n_clusters"] == 2 and set(result["by_lang"]) == {"en", "fr"}
    assert (result["largest"], result["largest_gold"]) == (2, 2)


@pytest.mark.slow
def test_eval_clusters_cli_prints_the_json_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYLINES_COMPARER", "tests.test_cluster_double:CosineComparer")
    db = tmp_path / "eval.db"
    gold = str(write_jsonl(tmp_path / "g.jsonl"))
    options = ["--json", "--set", "event_days=2", "--holdout", "0.5", "--db", str(db)]
    result = CliRunner().invoke(app, ["eval", "clusters", gold, *options])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    keys = {"bcubed_f1", "pairwise_p", "pairwise_f1", "largest", "storyline_purity", "seconds"}
    assert keys <= set(scores)
    assert scores["bcubed_p"] == 1.0 and scores["holdout"] == 0.5
    new_only = CliRunner().invoke(
        app, ["eval", "clusters", gold, "--json", "--holdout", "0.67", "--new-events"]
    )
    assert new_only.exit_code == 0, new_only.output
    assert json.loads(new_only.output)["n"] == 1  # "s2" belongs to the earlier part's event: left out
    refused = CliRunner().invoke(app, ["eval", "clusters", gold, "--new-events"])
    assert refused.exit_code != 0 and "--holdout" in refused.output
    store = open_store(db)  # the engine saved the --set value with the store it filled
    assert json.loads(store.get_meta("settings") or "{}")["event_days"] == 2
    assert store.counts().articles == holdout_split(3, 0.5)[1]
    store.close()


def test_eval_clusters_rejects_a_bad_setting(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["eval", "clusters", str(write_jsonl(tmp_path / "g.jsonl")), "--set", "event_days=-1"]
    )
    assert result.exit_code == 2 and "event_days" in result.output
