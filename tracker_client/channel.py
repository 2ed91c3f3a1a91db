"""One gRPC channel to a Tracker server, with deadlines and error translation on every call."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import grpc

from tracker_client._proto import tracker_pb2 as pb
from tracker_client._proto import tracker_pb2_grpc as pb_grpc
from tracker_client.config import resolve_server, resolve_token
from tracker_client.errors import translate_rpc_error

DEFAULT_TIMEOUT = 30.0

# gRPC's own retries (gRFC A6) for every call but the ingest stream: every Tracker call is
# idempotent (runs are created or resumed by name, writes are deduplicated by (writer_id, seq)),
# so a call that found the server unreachable is tried again after an exponential backoff with
# jitter, within its deadline.
# The ingest stream is resumed by tracker_client.delivery instead.
_RETRY_POLICY = {
    "maxAttempts": 5,
    "initialBackoff": "0.1s",
    "maxBackoff": "2s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}
_SERVICE_CONFIG = {
    "methodConfig": [
        {
            "name": [
                {"service": service.full_name, "method": method.name}
                for service in pb.DESCRIPTOR.services_by_name.values()
                for method in service.methods
                if not method.client_streaming
            ],
            "retryPolicy": _RETRY_POLICY,
        }
    ]
}
CHANNEL_OPTIONS = [
    # Pages and batches stay under 4 MiB; the margin covers future growth of small messages.
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    ("grpc.max_send_message_length", 16 * 1024 * 1024),
    ("grpc.enable_retries", 1),
    ("grpc.service_config", json.dumps(_SERVICE_CONFIG)),
    # Reconnect soon after a server restart (gRPC's default backoff grows to 120 s).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 5000),
]

Response = TypeVar("Response")


def method_path(service: str, method: str) -> str:
    """The HTTP/2 path of an RPC, taken from the descriptor rather than spelled by hand."""
    full_name: str = pb.DESCRIPTOR.services_by_name[service].methods_by_name[method].full_name
    return "/" + full_name.rsplit(".", 1)[0] + "/" + method


class Connection:
    """A channel plus stubs. Unary calls get a deadline; failures become TrackerError subclasses.

    Three methods move packed arrays as raw bytes, through the wire-identical ``*Bytes`` views:
    the ingest stream (requests are pre-serialised ``WriteBatchBytes``), ``ReadScalars`` and
    ``ReadScalarsMany``.
    """

    def __init__(
        self,
        server: str | None = None,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        tls_ca: str | Path | None = None,
    ) -> None:
        address = resolve_server(server)
        https = address.startswith("https://")
        self.server = address.removeprefix("https://")
        self.timeout = timeout
        token = resolve_token(token)
        self.metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),) if token else ()
        ca = tls_ca or os.environ.get("TRACKER_TLS_CA") or None
        if ca is not None or https:
            # TLS: the server's certificate must be signed by ``ca`` (a PEM file), else by a CA the
            # system trusts (an https:// address).
            roots = Path(ca).expanduser().read_bytes() if ca is not None else None
            credentials = grpc.ssl_channel_credentials(root_certificates=roots)
            self.channel = grpc.secure_channel(self.server, credentials, options=CHANNEL_OPTIONS)
        else:
            self.channel = grpc.insecure_channel(self.server, options=CHANNEL_OPTIONS)
        self.runs = pb_grpc.RunServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.reads = pb_grpc.ReadServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.ingest = pb_grpc.IngestServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.compare = pb_grpc.CompareServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.admin = pb_grpc.AdminServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.write_stream = self.channel.stream_stream(
            method_path("IngestService", "Write"),
            request_serializer=None,  # requests are already serialised WriteBatchBytes
            response_deserializer=pb.WriteAck.FromString,
        )
        self.read_scalars = self.channel.unary_stream(
            method_path("ReadService", "ReadScalars"),
            request_serializer=pb.ReadScalarsRequest.SerializeToString,
            response_deserializer=pb.ScalarPageBytes.FromString,
        )
        self.read_scalars_many = self.channel.unary_stream(
            method_path("ReadService", "ReadScalarsMany"),
            request_serializer=pb.ReadScalarsManyRequest.SerializeToString,
            response_deserializer=pb.SeriesPageBytes.FromString,
        )

    def call(
        self, method: Callable[..., Response], request: Any, *, timeout: float | None = None
    ) -> Response:
        """Make a unary call with a deadline, raising TrackerError on failure."""
        try:
            return method(request, timeout=timeout or self.timeout, metadata=self.metadata)
        except grpc.RpcError as error:
            raise translate_rpc_error(error, server=self.server) from None

    def stream(
        self, method: Callable[..., Iterator[Response]], request: Any, *, timeout: float | None = None
    ) -> Iterator[Response]:
        """Iterate a server-streaming call with a deadline, raising TrackerError on failure."""
        try:
            yield from method(request, timeout=timeout or self.timeout, metadata=self.metadata)
        except grpc.RpcError as error:
            raise translate_rpc_error(error, server=self.server) from None

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
