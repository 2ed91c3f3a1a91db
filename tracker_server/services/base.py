"""What every servicer shares: blocking calls off the event loop, and registration from descriptors."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
from google.protobuf import message_factory
from google.protobuf.message import DecodeError

from tracker_client._proto import tracker_pb2 as pb
from tracker_server.domain.errors import InvalidArgument
from tracker_server.services.auth import Gate, Rule, rule_for

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
    gate: Gate,
    messages: dict[str, tuple[type[Any], type[Any]]] | None = None,
) -> None:
    """Register ``servicer``'s methods for ``service`` as the descriptor declares them.

    ``messages`` overrides (request, response) classes for a method, to use the wire-identical
    ``*Bytes`` views. A method the servicer does not implement, or whose access rule is missing,
    fails here, at start-up. Every request message is authorized by ``gate`` before the servicer
    sees it.

    Requests arrive as bytes and are parsed here, in the handler, rather than by gRPC: a request
    that is not a valid protobuf message of its type is then INVALID_ARGUMENT naming the type
    (gRPC's own deserializer failure would be UNKNOWN, or INTERNAL on a stream).
    """
    descriptor = pb.DESCRIPTOR.services_by_name[service]
    handlers = {}
    for method in descriptor.methods:
        request_cls, response_cls = (messages or {}).get(method.name) or (
            message_factory.GetMessageClass(method.input_type),
            message_factory.GetMessageClass(method.output_type),
        )
        parse = _checked(_parser(request_cls, method.input_type.full_name), gate, rule_for(method))
        behavior = getattr(servicer, method.name)
        wrap, make = _HANDLERS[(method.client_streaming, method.server_streaming)]
        handlers[method.name] = make(
            wrap(behavior, parse),
            request_deserializer=None,  # bytes in: parsed by ``parse``
            response_serializer=response_cls.SerializeToString,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(descriptor.full_name, handlers),))


Parse = Callable[[bytes, int], Awaitable[Any]]


def _checked(parse: Callable[[bytes, int], Any], gate: Gate, rule: Rule) -> Parse:
    """``parse`` followed by authorization of the parsed request."""

    async def checked(raw: bytes, n: int) -> Any:
        request = parse(raw, n)
        await gate.check(rule, request, n)
        return request

    return checked


def _parser(request_cls: type[Any], declared: str) -> Callable[[bytes, int], Any]:
    """``parse(raw, n)``: the message, or InvalidArgument naming the declared type (and, for the
    n-th message of a client stream, n >= 1, its place in the stream)."""
    from_string = request_cls.FromString

    def parse(raw: bytes, n: int = 0) -> Any:
        try:
            return from_string(raw)
        except DecodeError as exc:
            # "Error parsing message with type 'tracker.v1.X': <reason>": keep the reason only,
            # since X may be the server's *Bytes view of the declared type.
            reason = str(exc).partition("': ")[2] or str(exc)
            where = f"message {n} of the request stream" if n else "the request"
            raise InvalidArgument(f"{where} could not be parsed as {declared}: {reason}") from None

    return parse


def _unary_unary(behavior: Callable[..., Awaitable[Any]], parse: Parse) -> Callable[..., Awaitable[Any]]:
    async def handler(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
        return await behavior(await parse(raw, 0), context)

    return handler


def _unary_stream(
    behavior: Callable[..., AsyncIterator[Any]], parse: Parse
) -> Callable[..., AsyncIterator[Any]]:
    async def handler(raw: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        async for response in behavior(await parse(raw, 0), context):
            yield response

    return handler


async def _parsed(requests: AsyncIterator[bytes], parse: Parse) -> AsyncIterator[Any]:
    n = 0
    async for raw in requests:
        n += 1
        yield await parse(raw, n)


def _stream_unary(behavior: Callable[..., Awaitable[Any]], parse: Parse) -> Callable[..., Awaitable[Any]]:
    async def handler(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> Any:
        return await behavior(_parsed(requests, parse), context)

    return handler


def _stream_stream(
    behavior: Callable[..., AsyncIterator[Any]], parse: Parse
) -> Callable[..., AsyncIterator[Any]]:
    async def handler(
        requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        async for response in behavior(_parsed(requests, parse), context):
            yield response

    return handler


# (client streaming, server streaming) -> (parsing wrapper, gRPC handler factory)
_Wrap = Callable[[Any, Parse], Any]
_HANDLERS: dict[tuple[bool, bool], tuple[_Wrap, Callable[..., grpc.RpcMethodHandler]]] = {
    (False, False): (_unary_unary, grpc.unary_unary_rpc_method_handler),
    (False, True): (_unary_stream, grpc.unary_stream_rpc_method_handler),
    (True, False): (_stream_unary, grpc.stream_unary_rpc_method_handler),
    (True, True): (_stream_stream, grpc.stream_stream_rpc_method_handler),
}
