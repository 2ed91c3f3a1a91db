"""Domain errors. The transport maps each to one gRPC status code in one place (services.errors)."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses, with a message meant for the user."""


class InvalidArgument(DomainError):
    """Bad input regardless of state; the message names the offending field."""


class NotFound(DomainError):
    pass


class FailedPrecondition(DomainError):
    """Valid input that the current state forbids (a finished run, a gap in a writer's sequence)."""


class Unavailable(DomainError):
    """Temporarily unable to serve (shutting down, database unreachable): the client should retry."""


class Unauthenticated(DomainError):
    """No valid credentials: a missing, malformed, unknown, expired or revoked token."""


class PermissionDenied(DomainError):
    """Valid credentials without the role the call needs."""
