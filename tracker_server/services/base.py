"""What every servicer shares: blocking calls off the event loop, and registration from descriptors."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
from google.protobuf import message_factory

from tracker_client._proto import tracker_pb2 as pb

T = TypeVar("T")


class Blocking:
    """Runs blocking domain calls (database work) on a bounded thread pool, off the event loop.

    The pool is as large as the database connection pool, so a call never waits for a connection
    while holding a thread. A call whose RPC is cancelled still runs to its end: a batch that began
    its transaction commits or rolls back, never stops half-way.
    """

    def __init__(self, workers: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tracker-db")

    async def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        future = asyncio.get_running_loop().run_in_executor(
            self.executor, functools.partial(fn, *args, **kwargs)
        )
        return await asyncio.shield(future)

    def shutdown(self) -> None:
        """Wait for every call already started, then stop the threads."""
        self.executor.shutdown(wait=True)


def register(
    server: grpc.aio.Server,
    service: str,
    servicer: object,
    messages: dict[str, tuple[type[Any], type[Any]]] | None = None,
) -> None:
    """Register ``servicer``'s methods for ``service`` as the descriptor declares them.

    ``messages`` overrides (request, response) classes for a method, to use the wire-identical
    ``*Bytes`` views. A method the servicer does not implement fails here, at start-up.
    """
    descriptor = pb.DESCRIPTOR.services_by_name[service]
    handlers = {}
    for method in descriptor.methods:
        request_cls, response_cls = (messages or {}).get(method.name) or (
            message_factory.GetMessageClass(method.input_type),
            message_factory.GetMessageClass(method.output_type),
        )
        behavior = getattr(servicer, method.name)
        make = {
            (False, False): grpc.unary_unary_rpc_method_handler,
            (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler,
            (True, True): grpc.stream_stream_rpc_method_handler,
        }[(method.client_streaming, method.server_streaming)]
        handlers[method.name] = make(
            behavior,
            request_deserializer=request_cls.FromString,
            response_serializer=response_cls.SerializeToString,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(descriptor.full_name, handlers),))
