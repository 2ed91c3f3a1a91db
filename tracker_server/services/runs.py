"""RunService: create or resume runs, hyperparameters, status, listing."""

from __future__ import annotations

import grpc

from tracker_client._proto import tracker_pb2 as pb
from tracker_server.domain import ingest, runs
from tracker_server.domain.errors import InvalidArgument
from tracker_server.services.auth import current_principal
from tracker_server.services.base import Blocking
from tracker_server.services.convert import (
    STATUS_FROM_PROTO,
    hparams_from_proto,
    project_to_proto,
    run_to_proto,
)
from tracker_server.store.engine import Database


class RunService:
    def __init__(self, db: Database, blocking: Blocking) -> None:
        self._db = db
        self._blocking = blocking

    async def CreateRun(
        self, request: pb.CreateRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateRunResponse:
        created = await self._blocking(
            runs.create_or_resume,
            self._db,
            project=request.project,
            name=request.name,
            hparams=hparams_from_proto("hparams", request.hparams),
            creator=current_principal().user_id,
        )
        return pb.CreateRunResponse(
            run=run_to_proto(created.run), resumed=created.resumed, next_step=created.next_step
        )

    async def SetHParams(
        self, request: pb.SetHParamsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetHParamsResponse:
        run = await self._blocking(
            runs.set_hparams, self._db, request.run_id, hparams_from_proto("hparams", request.hparams)
        )
        return pb.SetHParamsResponse(run=run_to_proto(run))

    async def FinishRun(
        self, request: pb.FinishRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.FinishRunResponse:
        status = STATUS_FROM_PROTO.get(request.status)
        if status is None or status == "running":
            raise InvalidArgument(
                "status must be RUN_STATUS_FINISHED, RUN_STATUS_FAILED or RUN_STATUS_KILLED"
            )
        run = await self._blocking(runs.finish, self._db, request.run_id, status)
        return pb.FinishRunResponse(run=run_to_proto(run))

    async def SetCustomScalars(
        self, request: pb.SetCustomScalarsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetCustomScalarsResponse:
        run = await self._blocking(runs.set_custom_scalars, self._db, request.run_id, request.layout)
        return pb.SetCustomScalarsResponse(run=run_to_proto(run))

    async def PurgeSteps(
        self, request: pb.PurgeStepsRequest, context: grpc.aio.ServicerContext
    ) -> pb.PurgeStepsResponse:
        removed = await self._blocking(ingest.purge_steps, self._db, request.run_id, request.from_step)
        return pb.PurgeStepsResponse(removed=removed)

    async def DeleteRun(
        self, request: pb.DeleteRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteRunResponse:
        await self._blocking(runs.delete, self._db, request.run_id)
        return pb.DeleteRunResponse()

    async def GetRun(self, request: pb.GetRunRequest, context: grpc.aio.ServicerContext) -> pb.GetRunResponse:
        run = await self._blocking(runs.get, self._db, request.run_id)
        return pb.GetRunResponse(run=run_to_proto(run))

    async def ListRuns(
        self, request: pb.ListRunsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRunsResponse:
        page = await self._blocking(
            runs.list_runs, self._db, request.project, size=request.page_size, token=request.page_token
        )
        return pb.ListRunsResponse(
            runs=[run_to_proto(r) for r in page.items], next_page_token=page.next_token
        )

    async def ListProjects(
        self, request: pb.ListProjectsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListProjectsResponse:
        principal = current_principal()
        page = await self._blocking(
            runs.list_projects,
            self._db,
            size=request.page_size,
            token=request.page_token,
            member=None if principal.is_admin else principal.user_id,
        )
        return pb.ListProjectsResponse(
            projects=[project_to_proto(p) for p in page.items], next_page_token=page.next_token
        )
