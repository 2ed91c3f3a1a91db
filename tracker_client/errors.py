"""The client's exceptions, and the one place that turns a gRPC error into one of them."""

from __future__ import annotations

from pathlib import Path

import grpc


class TrackerError(Exception):
    """Base class of every error the client raises on purpose."""

    code: grpc.StatusCode | None = None


class InvalidArgumentError(TrackerError, ValueError):
    """The server rejected a request as malformed; the message names the field."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFoundError(TrackerError, LookupError):
    code = grpc.StatusCode.NOT_FOUND


class FailedPreconditionError(TrackerError):
    """The request is valid but the state forbids it (e.g. logging to a finished run)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class UnauthenticatedError(TrackerError):
    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDeniedError(TrackerError):
    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhaustedError(TrackerError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class UnavailableError(TrackerError, ConnectionError):
    """The server could not be reached, or is shutting down; retrying later may succeed."""

    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceededError(TrackerError, TimeoutError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class DeliveryError(TrackerError):
    """Logged data is not on the server yet (``flush()`` or ``finish()`` ran out of time, or the
    server refused the run's data). Nothing is lost: it is still being retried in the background,
    or kept in the spool file ``spool_path`` for ``tracker sync``."""

    spool_path: Path | None = None


_BY_CODE: dict[grpc.StatusCode, type[TrackerError]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        NotFoundError,
        FailedPreconditionError,
        UnauthenticatedError,
        PermissionDeniedError,
        ResourceExhaustedError,
        UnavailableError,
        DeadlineExceededError,
    )
    if cls.code is not None
}


def translate_rpc_error(error: grpc.RpcError, *, server: str) -> TrackerError:
    """Turn a failed call into the matching TrackerError, with a hint on what to do next."""
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (error.details() if isinstance(error, grpc.Call) else None) or str(error)
    cls = _BY_CODE.get(code, TrackerError)
    if code is grpc.StatusCode.UNAVAILABLE:
        details = (
            f"Tracker server at {server} is not reachable ({details}). Start one with "
            "`tracker server`, or point TRACKER_SERVER (or server=...) at a running server."
        )
    elif code is grpc.StatusCode.DEADLINE_EXCEEDED:
        details = f"Tracker server at {server} did not answer in time ({details})."
    elif cls is TrackerError:
        details = f"{code.name if code else 'UNKNOWN'}: {details}"
    err = cls(details)
    err.code = code
    return err
