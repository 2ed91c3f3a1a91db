"""AdminService: the operator commands of `tracker admin` (users, tokens, project members) over
the wire, for server admins and project admins; who may call what is declared in tracker.proto."""

from __future__ import annotations

import grpc

from tracker_client._proto import tracker_pb2 as pb
from tracker_server.domain import members, users
from tracker_server.domain.errors import InvalidArgument
from tracker_server.services.auth import current_principal
from tracker_server.services.base import Blocking
from tracker_server.services.convert import timestamp
from tracker_server.store.engine import Database

ROLE_TO_PROTO = {"viewer": pb.ROLE_VIEWER, "writer": pb.ROLE_WRITER, "admin": pb.ROLE_ADMIN}
ROLE_FROM_PROTO = {code: name for name, code in ROLE_TO_PROTO.items()}


def token_to_proto(info: users.TokenInfo) -> pb.Token:
    message = pb.Token(
        id=info.id, user=info.user, name=info.name, hint=info.hint, created_at=timestamp(info.created_at)
    )
    if info.expires_at is not None:
        message.expires_at.CopyFrom(timestamp(info.expires_at))
    if info.revoked_at is not None:
        message.revoked_at.CopyFrom(timestamp(info.revoked_at))
    return message


class AdminService:
    def __init__(self, db: Database, blocking: Blocking) -> None:
        self._db = db
        self._blocking = blocking

    async def WhoAmI(self, request: pb.WhoAmIRequest, context: grpc.aio.ServicerContext) -> pb.WhoAmIResponse:
        principal = current_principal()
        return pb.WhoAmIResponse(user=principal.user, is_admin=principal.is_admin)

    async def CreateUser(
        self, request: pb.CreateUserRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateUserResponse:
        await self._blocking(users.create_user, self._db, request.name, admin=request.is_admin)
        return pb.CreateUserResponse()

    async def CreateToken(
        self, request: pb.CreateTokenRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateTokenResponse:
        expires = users.parse_duration(request.expires_in) if request.expires_in else None
        secret, info = await self._blocking(
            users.create_token, self._db, request.user, name=request.name, expires_in=expires
        )
        return pb.CreateTokenResponse(secret=secret, token=token_to_proto(info))

    async def ListTokens(
        self, request: pb.ListTokensRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTokensResponse:
        found = await self._blocking(users.list_tokens, self._db, request.user or None)
        return pb.ListTokensResponse(tokens=[token_to_proto(info) for info in found])

    async def RevokeToken(
        self, request: pb.RevokeTokenRequest, context: grpc.aio.ServicerContext
    ) -> pb.RevokeTokenResponse:
        await self._blocking(users.revoke_token, self._db, request.id)
        return pb.RevokeTokenResponse()

    async def CreateProject(
        self, request: pb.CreateProjectRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateProjectResponse:
        await self._blocking(members.create_project, self._db, request.project, owner=request.owner)
        return pb.CreateProjectResponse()

    async def SetMember(
        self, request: pb.SetMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetMemberResponse:
        role = ROLE_FROM_PROTO.get(request.role)
        if role is None:
            raise InvalidArgument("role must be ROLE_VIEWER, ROLE_WRITER or ROLE_ADMIN")
        await self._blocking(members.grant, self._db, request.project, request.user, role)
        return pb.SetMemberResponse()

    async def RemoveMember(
        self, request: pb.RemoveMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.RemoveMemberResponse:
        await self._blocking(members.revoke, self._db, request.project, request.user)
        return pb.RemoveMemberResponse()

    async def ListMembers(
        self, request: pb.ListMembersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMembersResponse:
        found = await self._blocking(members.members, self._db, request.project)
        return pb.ListMembersResponse(
            members=[pb.Member(user=user, role=ROLE_TO_PROTO[role]) for user, role in found]
        )
