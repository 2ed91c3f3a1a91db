"""Input checks shared by the domain's use cases; each raises InvalidArgument naming the field."""

from __future__ import annotations

from collections.abc import Mapping

from tracker_client.validation import hparam_string_problem, hparams_count_problem, name_problem
from tracker_server.domain import limits
from tracker_server.domain.errors import InvalidArgument
from tracker_server.domain.model import HParamValue


def check_name(field: str, value: object) -> None:
    if (problem := name_problem(field, value)) is not None:
        raise InvalidArgument(problem)


RUN_ID_LENGTH = 32


def check_run_id(run_id: str, field: str = "run_id") -> None:
    """Run ids are what CreateRun returned: 1-32 printable characters."""
    if not run_id:
        raise InvalidArgument(f"{field} is empty")
    if len(run_id) > RUN_ID_LENGTH or not run_id.isprintable():
        raise InvalidArgument(f"{field} {run_id[:40]!r} is not a run id (ids are what CreateRun returned)")


def check_hparams(field: str, hparams: Mapping[str, HParamValue]) -> None:
    if (problem := hparams_count_problem(field, len(hparams))) is not None:
        raise InvalidArgument(problem)
    for name, value in hparams.items():
        check_name(f"{field} name", name)
        if isinstance(value, str) and (problem := hparam_string_problem(value)) is not None:
            raise InvalidArgument(f"{field}[{name!r}] {problem}")


def page_size(
    requested: int, *, default: int = limits.DEFAULT_PAGE_SIZE, maximum: int = limits.MAX_PAGE_SIZE
) -> int:
    if requested < 0:
        raise InvalidArgument(f"page_size must be >= 0, got {requested}")
    return min(requested or default, maximum)
