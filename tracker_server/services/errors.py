"""The one place that turns domain errors and database outages into gRPC status codes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from tracker_server.domain.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from tracker_server.store.engine import is_outage

log = logging.getLogger("tracker.server")

STATUS_OF: dict[type[DomainError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
}


OutageHook = Callable[[BaseException], Awaitable[None]]


def status_for(exc: BaseException, method: str) -> tuple[grpc.StatusCode, str]:
    """The status code and client-facing message for an exception raised by a handler."""
    if isinstance(exc, DomainError):
        return STATUS_OF.get(type(exc), grpc.StatusCode.INTERNAL), str(exc)
    if is_outage(exc):
        # Reported once per outage by the database watchdog, not once per failed call.
        log.debug("database unreachable during %s: %s", method, type(exc).__name__)
        return grpc.StatusCode.UNAVAILABLE, "the database is unavailable; retry later"
    if isinstance(exc, OperationalError | PoolTimeoutError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        log.warning("database unavailable during %s: %s", method, type(exc).__name__)
        return grpc.StatusCode.UNAVAILABLE, "the database is unavailable; retry later"
    # Engines are created with hide_parameters=True, so no logged value comes from a request.
    log.exception("internal error in %s", method)
    return grpc.StatusCode.INTERNAL, f"internal error in {method} (the server log has the details)"


class ErrorInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps every handler so a raised exception becomes ``context.abort(code, message)``.

    ``on_outage`` is awaited with every exception that says the database is unreachable, before
    the call is answered UNAVAILABLE (the server uses it to report NOT_SERVING at once).
    """

    def __init__(self, on_outage: OutageHook | None = None) -> None:
        self._on_outage = on_outage

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None:
            return None
        method = details.method
        if handler.unary_unary is not None:
            return handler._replace(unary_unary=_wrap_unary(handler.unary_unary, method, self._abort))
        if handler.stream_unary is not None:
            return handler._replace(stream_unary=_wrap_unary(handler.stream_unary, method, self._abort))
        if handler.unary_stream is not None:
            return handler._replace(unary_stream=_wrap_stream(handler.unary_stream, method, self._abort))
        return handler._replace(stream_stream=_wrap_stream(handler.stream_stream, method, self._abort))

    async def _abort(self, context: grpc.aio.ServicerContext, exc: Exception, method: str) -> None:
        if isinstance(exc, grpc.aio.AbortError):  # the handler aborted on purpose
            raise exc
        code, message = status_for(exc, method)
        if self._on_outage is not None and is_outage(exc):
            await self._on_outage(exc)
        await context.abort(code, message)


Abort = Callable[[grpc.aio.ServicerContext, Exception, str], Awaitable[None]]


def _wrap_unary(
    behavior: Callable[..., Awaitable[Any]], method: str, abort: Abort
) -> Callable[..., Awaitable[Any]]:
    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await behavior(request, context)
        except Exception as exc:
            await abort(context, exc, method)

    return wrapped


def _wrap_stream(
    behavior: Callable[..., AsyncIterator[Any]], method: str, abort: Abort
) -> Callable[..., AsyncIterator[Any]]:
    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        try:
            async for response in behavior(request, context):
                yield response
        except Exception as exc:
            await abort(context, exc, method)

    return wrapped
