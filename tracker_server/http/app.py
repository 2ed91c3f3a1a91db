"""The JSON API and the web UI, served over HTTP beside gRPC by the same process.

Every endpoint calls the same domain functions as the gRPC services, authenticates the same way
(``authorization: Bearer trk_...``, or the local user with ``--auth none``) and is authorized by the
same function, ``domain.access.authorize``. Numbers that JSON cannot carry (NaN, +-Infinity) are
sent as the strings "NaN", "Infinity" and "-Infinity", which JavaScript's ``Number()`` reads back.
The OpenAPI document is at ``/api/openapi.json``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import numpy.typing as npt
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from tracker_server.domain import compare, reads, runs
from tracker_server.domain.access import Action, Target
from tracker_server.domain.compare_types import Aggregate, GroupQuery, Interval, MetricValue, SessionGroup
from tracker_server.domain.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from tracker_server.domain.histograms import BASIS_POINTS
from tracker_server.domain.model import HParamValue, Page
from tracker_server.domain.project_index import IndexCache
from tracker_server.domain.series import Window, read_many
from tracker_server.domain.users import Principal
from tracker_server.services.auth import Authenticator, Gate
from tracker_server.services.base import Blocking
from tracker_server.store.engine import Database, is_outage

T = TypeVar("T")
WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
HTTP_STATUS: dict[type[DomainError], int] = {
    InvalidArgument: 400,
    Unauthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    FailedPrecondition: 409,
    Unavailable: 503,
}
# No inline script, no eval, nothing from another origin. Inline styles stay allowed: the charting
# library positions its tooltips with style attributes.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
PAGE = 1000  # items per page when the API gathers a whole listing


def numbers(values: npt.NDArray[Any] | Sequence[float]) -> list[float | str]:
    """A float array as a JSON list, non-finite values spelled as JavaScript reads them."""
    array = np.asarray(values, dtype=np.float64)
    out: list[float | str] = array.tolist()
    if not np.isfinite(array).all():
        for i in np.flatnonzero(~np.isfinite(array)).tolist():
            out[i] = _spell(array[i])
    return out


def _spell(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def number(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return _spell(value)


def hparam(value: HParamValue) -> Any:
    return number(value) if isinstance(value, float) else value


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _interval(domain: Interval | Sequence[HParamValue] | None) -> Any:
    if domain is None:
        return None
    if isinstance(domain, Interval):
        return {"min": number(domain.min), "max": number(domain.max)}
    return {"values": [hparam(v) for v in domain]}


async def principal(request: Request) -> Principal:
    """The caller, authenticated exactly as gRPC calls are."""
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator(request.headers.get("authorization"))


Caller = Annotated[Principal, Depends(principal)]


def make_app(
    db: Database, blocking: Blocking, cache: IndexCache, authenticator: Authenticator, gate: Gate
) -> FastAPI:
    """The HTTP application: ``/api/...`` (JSON) and the single-page UI at ``/``."""
    app = FastAPI(
        title="Tracker",
        summary="Runs, series and comparisons of a Tracker server, as JSON (the web UI's API).",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=HTTP_STATUS.get(type(exc), 500))

    @app.exception_handler(Exception)
    async def other_error(request: Request, exc: Exception) -> JSONResponse:
        if is_outage(exc):
            return JSONResponse({"error": "the database is unavailable; retry later"}, status_code=503)
        raise exc

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if request.url.path.startswith("/api/"):
            response.headers["cache-control"] = "no-store"
        return response

    app.state.authenticator = authenticator
    allow = gate.allow

    async def every_page(fetch: Callable[[str], Page[T]]) -> list[T]:
        """Every item of a listing, page after page (``fetch(page_token)`` runs off the loop)."""
        items: list[T] = []
        token = ""
        while True:
            page = await blocking(fetch, token)
            items += page.items
            token = page.next_token
            if not token:
                return items

    async def every_group(query: GroupQuery) -> list[SessionGroup]:
        """Every session group the query selects, page after page."""
        found: list[SessionGroup] = []
        while True:
            page = await blocking(
                compare.session_groups, db, cache, replace(query, offset=len(found), page_size=PAGE)
            )
            found += page.groups
            if not page.groups or len(found) >= page.total:
                return found

    @app.get("/api/whoami", tags=["users"])
    async def whoami(caller: Caller) -> dict[str, Any]:
        """Who the token speaks for, and how this server authenticates."""
        return {"user": caller.user, "is_admin": caller.is_admin, "auth": authenticator.mode}

    @app.get("/api/projects", tags=["projects"])
    async def projects(caller: Caller) -> list[dict[str, Any]]:
        """The caller's projects (every project, for a server admin), by name."""
        member = None if caller.is_admin else caller.user_id
        found = await every_page(lambda token: runs.list_projects(db, size=PAGE, token=token, member=member))
        return [{"name": p.name, "created_at": _time(p.created_at), "run_count": p.run_count} for p in found]

    @app.get("/api/projects/{project}/runs", tags=["projects"])
    async def project_runs(project: str, caller: Caller) -> dict[str, Any]:
        """Every run of the project, oldest first, with its hyperparameters and the last value of
        each scalar tag (``metrics``); ``hparams`` and ``metrics`` list the column names."""
        await allow(caller, Action.READ, Target(project=project))
        listed = await every_page(lambda token: runs.list_runs(db, project, size=PAGE, token=token))
        ungrouped = await every_group(GroupQuery(project=project, grouped=False))
        last = {run.id: run.metrics for group in ungrouped for run in group.runs}
        return {
            "hparams": sorted({name for run in listed for name in run.hparams}),
            "metrics": sorted({tag for values in last.values() for tag in values}),
            "runs": [
                {
                    "id": run.id,
                    "name": run.name,
                    "status": run.status,
                    "created_at": _time(run.created_at),
                    "finished_at": _time(run.finished_at),
                    "created_by": run.created_by,
                    "hparams": {name: hparam(value) for name, value in run.hparams.items()},
                    "metrics": {tag: number(value) for tag, value in last.get(run.id, {}).items()},
                }
                for run in listed
            ],
        }

    @app.get("/api/projects/{project}/experiment", tags=["compare"])
    async def experiment(project: str, caller: Caller) -> dict[str, Any]:
        """The project's hyperparameters (type, domain, whether they differ) and metrics."""
        await allow(caller, Action.READ, Target(project=project))
        found = await blocking(compare.experiment, db, cache, project)
        return {
            "project": found.project,
            "run_count": found.run_count,
            "hparams": [
                {
                    "name": h.name,
                    "type": h.type,
                    "domain": _interval(h.domain),
                    "differs": h.differs,
                    "run_count": h.run_count,
                }
                for h in found.hparams
            ],
            "metrics": [
                {"tag": m.tag, "run_count": m.run_count, "domain": _interval(m.domain)} for m in found.metrics
            ],
        }

    @app.get("/api/projects/{project}/groups", tags=["compare"])
    async def groups(
        project: str,
        caller: Caller,
        grouped: bool = True,
        metric_value: MetricValue = "last",
        aggregate: Aggregate = "mean",
        where: str = "",
        ignore: Annotated[
            list[str] | None, Query(description="hparams that do not separate groups, e.g. seed")
        ] = None,
    ) -> dict[str, Any]:
        """Runs grouped by identical hyperparameters (seeds of one combination form a group), with
        each group's aggregated metrics and its runs' own: the HParams views' data."""
        await allow(caller, Action.READ, Target(project=project))
        query = GroupQuery(
            project=project,
            grouped=grouped,
            metric_value=metric_value,
            aggregate=aggregate,
            where=where,
            ignore_hparams=tuple(ignore or ()),
        )
        found = await every_group(query)
        return {
            "total": len(found),
            "groups": [
                {
                    "key": g.key,
                    "hparams": {name: hparam(v) for name, v in g.hparams.items()},
                    "metrics": {tag: number(v) for tag, v in g.metrics.items()},
                    "runs": [
                        {
                            "id": r.id,
                            "name": r.name,
                            "status": r.status,
                            "metrics": {tag: number(v) for tag, v in r.metrics.items()},
                        }
                        for r in g.runs
                    ],
                }
                for g in found
            ],
        }

    @app.get("/api/runs/{run_id}/tags", tags=["series"])
    async def tags(run_id: str, caller: Caller) -> list[dict[str, Any]]:
        """The run's tags with their kind and point count, and for scalars a summary."""
        await allow(caller, Action.READ, Target(run_ids=(run_id,)))
        found = await every_page(lambda token: reads.list_tags(db, run_id, size=PAGE, token=token))
        return [
            {
                "tag": t.tag,
                "kind": t.kind,
                "count": t.count,
                "summary": None
                if (s := t.summary) is None
                else {
                    "last_step": s.last_step,
                    "last_value": number(s.last_value),
                    "min_value": number(s.min_value),
                    "max_value": number(s.max_value),
                    "first_nonfinite_step": s.first_nonfinite_step,
                },
            }
            for t in found
        ]

    @app.get("/api/scalars", tags=["series"])
    async def scalars(
        caller: Caller,
        run: Annotated[list[str], Query(description="run ids (repeat the parameter)")],
        tag: Annotated[list[str], Query(description="scalar tags (repeat the parameter)")],
        max_points: int = 0,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> dict[str, Any]:
        """Every run x tag series with points in [start_step, end_step]: in full, or downsampled to
        at most ``max_points`` (the extremes and non-finite points of each bucket are kept)."""
        await allow(caller, Action.READ, Target(run_ids=tuple(dict.fromkeys(run)), field="run"))
        window = Window(start_step, end_step, max_points)
        found = await blocking(read_many, db, list(dict.fromkeys(run)), list(dict.fromkeys(tag)), window)
        return {
            "series": [
                {
                    "run": run_id,
                    "tag": name,
                    "steps": series.steps.tolist(),
                    "wall_times": numbers(series.wall_times),
                    "values": numbers(series.values),
                    "total_points": series.total_points,
                }
                for run_id, name, series in found
            ]
        }

    @app.get("/api/runs/{run_id}/histograms", tags=["series"])
    async def histograms(run_id: str, tag: str, caller: Caller, bins: int = 30) -> dict[str, Any]:
        """Every histogram of the tag by step, re-binned to ``bins`` buckets over one shared range
        (0: as stored): each with its bucket edges and counts."""
        await allow(caller, Action.READ, Target(run_ids=(run_id,)))
        found = await blocking(reads.read_histograms, db, run_id, tag, bins=bins)
        return {
            "histograms": [
                {
                    "step": h.step,
                    "wall_time": h.wall_time,
                    "min": number(h.min),
                    "max": number(h.max),
                    "count": h.count,
                    "limits": numbers(h.bucket_limits),
                    "counts": numbers(h.bucket_counts),
                }
                for h in found
            ]
        }

    @app.get("/api/runs/{run_id}/distributions", tags=["series"])
    async def distributions(run_id: str, tag: str, caller: Caller) -> dict[str, Any]:
        """Per step, the values at TensorBoard's basis points (in basis points of the normal
        distribution: ``basis_points``), to draw the distribution bands."""
        await allow(caller, Action.READ, Target(run_ids=(run_id,)))
        found = await blocking(reads.read_distributions, db, run_id, tag)
        return {
            "basis_points": list(BASIS_POINTS),
            "steps": [h.step for h, _ in found],
            "wall_times": [h.wall_time for h, _ in found],
            "values": [numbers(v) for _, v in found],
        }

    @app.get("/api/runs/{run_id}/pr_curves", tags=["series"])
    async def pr_curves(run_id: str, tag: str, caller: Caller) -> dict[str, Any]:
        """Every PR curve of the tag by step: precision and recall per threshold."""
        await allow(caller, Action.READ, Target(run_ids=(run_id,)))
        found = await blocking(reads.read_pr_curves, db, run_id, tag)
        return {
            "curves": [
                {
                    "step": c.step,
                    "wall_time": c.wall_time,
                    "precision": numbers(c.data[4]),
                    "recall": numbers(c.data[5]),
                }
                for c in found
            ]
        }

    @app.get("/api/runs/{run_id}/texts", tags=["series"])
    async def texts(run_id: str, tag: str, caller: Caller) -> dict[str, Any]:
        """Every text of the tag by step (plain text: the UI never renders it as HTML)."""
        await allow(caller, Action.READ, Target(run_ids=(run_id,)))
        found = await blocking(reads.read_texts, db, run_id, tag)
        return {"texts": [{"step": t.step, "wall_time": t.wall_time, "text": t.text} for t in found]}

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(WEB_ROOT / "index.html", headers={"cache-control": "no-cache"})

    app.mount("/static", StaticFiles(directory=WEB_ROOT / "static"), name="static")
    return app
