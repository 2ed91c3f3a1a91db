"""Grouping that ignores some hyperparameters (``ignore_hparams``, e.g. seed): runs that differ
only in them are one group, aggregated, on both databases."""

from __future__ import annotations

import pytest

import tracker_client as tracker
from tracker_client.errors import InvalidArgumentError


def test_runs_differing_only_by_seed_form_one_group(address: str) -> None:
    ids = {}
    for lr in (0.1, 0.2, 0.3):
        for seed in range(3):
            with tracker.init(
                project="p", name=f"lr{lr}-s{seed}", hparams={"lr": lr, "seed": seed}, server=address
            ) as run:
                run.log({"acc": lr * 10 + seed}, step=0)
            ids[run.name] = run.id
    with tracker.Api(server=address) as api:
        assert api.session_groups("p").total == 9  # seed separates groups by default
        found = api.session_groups("p", ignore_hparams=["seed"], sort=["-acc"])
        assert found.total == 3
        assert [g.hparams for g in found.groups] == [{"lr": 0.3}, {"lr": 0.2}, {"lr": 0.1}]
        assert [g.metrics["acc"] for g in found.groups] == pytest.approx([4.0, 3.0, 2.0])
        assert [len(g.runs) for g in found.groups] == [3, 3, 3]
        best = api.session_groups("p", ignore_hparams=["seed"], aggregate="max", sort=["-acc"]).groups[0]
        assert best.metrics["acc"] == pytest.approx(5.0)
        assert set(best.runs) == {ids["lr0.3-s0"], ids["lr0.3-s1"], ids["lr0.3-s2"]}
        assert api.session_groups("p", group=False, ignore_hparams=["seed"]).total == 9
        with pytest.raises(
            InvalidArgumentError, match="ignore_hparams: project 'p' has no hparam named 'sed'"
        ):
            api.session_groups("p", ignore_hparams=["sed"])
