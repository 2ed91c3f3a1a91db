"""Deleting a run (a project admin's right): the run, its hyperparameters and every series go, the
other runs stay exactly as they were, and the comparison queries stop counting it at once."""

from __future__ import annotations

import pytest

import tracker_client as tracker
from tracker_client.errors import NotFoundError


def test_a_deleted_run_is_gone_everywhere_and_the_others_are_untouched(address: str) -> None:
    kept = []
    for lr in (0.1, 0.2):
        with tracker.init(project="p", name=f"keep-{lr}", hparams={"lr": lr}, server=address) as run:
            run.log({"loss": lr}, step=0)
            run.log_histogram("w", [1.0, 2.0], step=0)
        kept.append(run.id)
    with tracker.init(project="p", name="doomed", hparams={"lr": 0.3}, server=address) as doomed:
        doomed.log({"loss": 0.3, "acc": 0.9}, step=0)
        doomed.log_text("note", "bye", step=0)

    with tracker.Api(server=address) as api:
        # Warm the server's comparison index, so deleting must also update it.
        assert len(api.session_groups("p", group=False).groups) == 3
        assert api.experiment("p").run_count == 3
        api.delete_run(doomed.id)

        assert [r.id for r in api.runs("p")] == kept
        with pytest.raises(NotFoundError, match=f"run '{doomed.id}' does not exist"):
            api.run(doomed.id)
        with pytest.raises(NotFoundError):
            api.tags(doomed.id)
        with pytest.raises(NotFoundError):
            api.delete_run(doomed.id)
        groups = api.session_groups("p", group=False).groups
        assert sorted(g.runs[0] for g in groups) == sorted(kept)
        experiment = api.experiment("p")
        assert experiment.run_count == 2
        # "acc" was logged only by the deleted run.
        assert [(m.tag, m.run_count) for m in experiment.metrics] == [("loss", 2)]
        assert {p.name: p.run_count for p in api.projects()} == {"p": 2}
        for run_id, lr in zip(kept, (0.1, 0.2), strict=True):
            assert api.scalars(run_id, "loss").values.tolist() == [lr]
            assert [t.tag for t in api.tags(run_id)] == ["loss", "w"]


def test_logging_to_a_deleted_run_is_refused_and_a_new_run_may_take_its_name(address: str) -> None:
    with tracker.init(project="p", name="again", server=address) as first:
        first.log({"loss": 1.0}, step=0)
    with tracker.Api(server=address) as api:
        api.delete_run(first.id)
        with tracker.init(project="p", name="again", server=address) as second:
            second.log({"loss": 2.0}, step=0)
        assert second.id != first.id
        (run,) = api.runs("p")
        assert (run.id, run.name, run.created_by) == (second.id, "again", "local")
        assert api.scalars(second.id, "loss").values.tolist() == [2.0]
