"""Authentication and authorization of every call: the one interceptor and the one gate.

``AuthInterceptor`` authenticates each call to a Tracker service from its ``authorization: Bearer``
metadata with ``Authenticator`` (on a server without authentication, every call is the local
user's) and makes the principal the call's ``current_principal()``. ``Gate.check`` authorizes each
request message (every message of a stream) with ``domain.access.authorize``, by the method's rule:
the ``(tracker.v1.access)`` option the method declares in tracker.proto, and the request field
naming the project (``project``, ``run_id`` or ``run_ids``). A method without a rule stops the
server at start-up. The HTTP API uses the same ``Authenticator`` and ``Gate.allow``.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import grpc
from google.protobuf.descriptor import MethodDescriptor

from tracker_client._proto import tracker_pb2 as pb
from tracker_server.domain.access import Action, Target, authorize
from tracker_server.domain.errors import Unauthenticated
from tracker_server.domain.users import Principal, authenticate
from tracker_server.store.engine import Database

if TYPE_CHECKING:
    from tracker_server.services.base import Blocking

AuthMode = Literal["token", "none"]
AUTH_MODES: tuple[AuthMode, ...] = ("token", "none")

_principal: contextvars.ContextVar[Principal] = contextvars.ContextVar("tracker_principal")

_ACTIONS: dict[int, Action] = {
    pb.ACCESS_SIGNED_IN: Action.SIGNED_IN,
    pb.ACCESS_READ: Action.READ,
    pb.ACCESS_WRITE: Action.WRITE,
    pb.ACCESS_MANAGE: Action.MANAGE,
    pb.ACCESS_SERVER_ADMIN: Action.SERVER_ADMIN,
}
_TARGET_FIELDS = ("project", "run_id", "run_ids")
_PROTECTED = tuple(f"/{service.full_name}/" for service in pb.DESCRIPTOR.services_by_name.values())

MISSING_CREDENTIALS = (
    "this server requires an API token: pass token=... (or set TRACKER_TOKEN); a server admin "
    "creates one with `tracker admin token create USER`"
)
BAD_HEADER = "the authorization header must be 'Bearer <token>'"
INVALID_CREDENTIALS = (
    "the API token is not valid (unknown, expired or revoked); ask a server admin for a new one "
    "(`tracker admin token create USER`)"
)


def current_principal() -> Principal:
    """Who the current call speaks for (set by AuthInterceptor before any handler runs)."""
    return _principal.get()


@dataclass(frozen=True, slots=True)
class Rule:
    """How one method is authorized: the action, and the request field naming its project."""

    method: str
    action: Action
    field: str | None

    def target(self, request: Any) -> Target:
        if self.field == "project":
            return Target(project=request.project)
        if self.field == "run_id":
            return Target(run_ids=(request.run_id,))
        if self.field == "run_ids":
            return Target(run_ids=tuple(dict.fromkeys(request.run_ids)), field="run_ids")
        return Target()


def rule_for(method: MethodDescriptor) -> Rule:
    """The method's rule from its descriptor; ValueError when it declares none (or no project
    field where its action needs one), so an unguarded method cannot be served."""
    access: int = method.GetOptions().Extensions[pb.access]  # type: ignore[index]
    if access not in _ACTIONS:
        raise ValueError(f"{method.full_name} declares no (tracker.v1.access) option in tracker.proto")
    action = _ACTIONS[access]
    fields = method.input_type.fields_by_name
    field = next((name for name in _TARGET_FIELDS if name in fields), None)
    if action in (Action.READ, Action.WRITE, Action.MANAGE) and field is None:
        raise ValueError(
            f"{method.full_name} needs a project role but {method.input_type.name} has none of "
            f"the fields {', '.join(_TARGET_FIELDS)} to find its project"
        )
    return Rule(method.full_name, action, field)


class Gate:
    """Authorizes request messages by their method's rule, off the event loop."""

    def __init__(self, db: Database, blocking: Blocking) -> None:
        self._db = db
        self._blocking = blocking

    async def check(self, rule: Rule, request: Any, n: int) -> None:
        """Authorize ``request``, the n-th message of a client stream (n >= 1) or the request of
        any other call (n = 0). Stream messages also re-check the token: a revoked token stops an
        open stream at its next batch."""
        await self.allow(current_principal(), rule.action, rule.target(request), recheck_token=n >= 1)

    async def allow(
        self, principal: Principal, action: Action, target: Target, *, recheck_token: bool = False
    ) -> None:
        """``domain.access.authorize`` off the event loop, skipped when there is nothing to look up."""
        recheck = recheck_token and principal.token_id is not None
        if principal.is_admin and not recheck:
            return  # a server admin may do everything
        await self._blocking(authorize, self._db, principal, action, target, recheck_token=recheck)


class Authenticator:
    """Who a call speaks for, from its ``authorization`` value (gRPC metadata or HTTP header).

    ``mode`` "token": a valid ``Bearer trk_...`` is required, else Unauthenticated. ``mode``
    "none": every call speaks for ``local`` (single-user servers on loopback only; ``tracker
    server`` refuses it elsewhere).
    """

    def __init__(self, db: Database, blocking: Blocking, mode: AuthMode, local: Principal | None) -> None:
        if mode == "none" and local is None:
            raise ValueError("a server without authentication needs the local principal")
        self.mode = mode
        self._db = db
        self._blocking = blocking
        self._local = local if mode == "none" else None

    async def __call__(self, header: str | None) -> Principal:
        if self._local is not None:
            return self._local
        if header is None:
            raise Unauthenticated(MISSING_CREDENTIALS)
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(BAD_HEADER)
        principal = await self._blocking(authenticate, self._db, token.strip())
        if principal is None:
            raise Unauthenticated(INVALID_CREDENTIALS)
        return principal


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Authenticates every call to a Tracker service (health checks and reflection stay open)
    with ``authenticator``, from the call's ``authorization`` metadata."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    async def _authenticate(self, context: grpc.aio.ServicerContext) -> Principal:
        metadata = context.invocation_metadata() or ()
        header = next((str(value) for key, value in metadata if key == "authorization"), None)
        return await self._authenticator(header)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or not details.method.startswith(_PROTECTED):
            return handler
        authenticate = self._authenticate
        if handler.unary_unary is not None:
            return handler._replace(unary_unary=_unary(handler.unary_unary, authenticate))
        if handler.stream_unary is not None:
            return handler._replace(stream_unary=_unary(handler.stream_unary, authenticate))
        if handler.unary_stream is not None:
            return handler._replace(unary_stream=_stream(handler.unary_stream, authenticate))
        return handler._replace(stream_stream=_stream(handler.stream_stream, authenticate))


Authenticate = Callable[[grpc.aio.ServicerContext], Awaitable[Principal]]


def _unary(
    behavior: Callable[..., Awaitable[Any]], authenticate: Authenticate
) -> Callable[..., Awaitable[Any]]:
    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
        _principal.set(await authenticate(context))
        return await behavior(request, context)

    return wrapped


def _stream(
    behavior: Callable[..., AsyncIterator[Any]], authenticate: Authenticate
) -> Callable[..., AsyncIterator[Any]]:
    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        _principal.set(await authenticate(context))
        async for response in behavior(request, context):
            yield response

    return wrapped
