"""Bytes that are not a valid protobuf message, sent to every method of every Tracker service.

The methods are enumerated from the descriptor, so a method added to the proto is covered without
touching this file. Each malformed request must be INVALID_ARGUMENT saying which message type it
could not be parsed as (gRPC's own deserializer would answer UNKNOWN, or INTERNAL on a stream),
must store nothing, and must leave the server serving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tracker_client._proto import tracker_pb2 as pb
from tracker_client._proto import tracker_pb2_grpc as pb_grpc

TIMEOUT = 30.0
METHODS: dict[str, MethodDescriptor] = {
    f"{service.name}.{method.name}": method
    for service in pb.DESCRIPTOR.services_by_name.values()
    for method in service.methods
}

# Not a protobuf message of any type: each fails protobuf's parser, whatever the message type.
MALFORMED: dict[str, bytes] = {
    "garbage": b"\xff\xff\xff",
    "truncated varint": b"\x08\x80",
    "truncated length-delimited field": b"\x0a\x05ab",
    "length past the end": b"\x0a\xff\xff\xff\xff\x0f",
    "wire type 6": b"\x0e\x00",
    "wire type 7": b"\x0f\x00",
    "end of a group never started": b"\x0c",
    "group never ended": b"\x0b\x08\x01",
    "field number 0": b"\x02\x00",
}


def invalid_utf8(method: MethodDescriptor) -> dict[str, bytes]:
    """The method's request with its first string field holding bytes that are not UTF-8 (nothing
    for a request without string fields)."""
    strings = [f.number for f in method.input_type.fields if f.type == FieldDescriptor.TYPE_STRING]
    return (
        {"invalid UTF-8 in a string field": bytes([strings[0] << 3 | 2, 3]) + b"a\xff\xfe"} if strings else {}
    )


def batch_with_tag(run_id: str, tag: bytes) -> bytes:
    """A WriteBatch of one scalar column whose tag field holds ``tag``, byte for byte."""
    points = pb.ScalarColumn(steps=[0], wall_times=[1.0], values=[2.0]).SerializeToString()
    column = b"\x0a" + bytes([len(tag)]) + tag + points
    head = pb.WriteBatch(run_id=run_id, writer_id="w", seq=1).SerializeToString()
    return head + b"\x22" + bytes([len(column)]) + column


def call_raw(
    channel: grpc.Channel, method: MethodDescriptor, requests: list[bytes]
) -> tuple[grpc.StatusCode, str]:
    """Send raw request bytes (no serializer) and return the status the call ends with."""
    kind = {
        (False, False): channel.unary_unary,
        (False, True): channel.unary_stream,
        (True, False): channel.stream_unary,
        (True, True): channel.stream_stream,
    }[(method.client_streaming, method.server_streaming)]
    callable_ = kind(
        f"/{method.containing_service.full_name}/{method.name}",
        request_serializer=None,
        response_deserializer=None,
    )
    argument = iter(requests) if method.client_streaming else requests[0]
    try:
        result = callable_(argument, timeout=TIMEOUT)
        if method.server_streaming:
            list(result)
    except grpc.RpcError as error:
        return error.code(), error.details() or ""
    return grpc.StatusCode.OK, ""


@pytest.fixture
def channel(address: str) -> Iterator[grpc.Channel]:
    opened = grpc.insecure_channel(address)
    yield opened
    opened.close()


def _server_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "tracker.server" and r.levelno >= logging.ERROR
    ]


def test_every_method_refuses_bytes_that_are_not_its_message(
    channel: grpc.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    runs = pb_grpc.RunServiceStub(channel)
    run = runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id
    failed = []
    for name, method in METHODS.items():
        where = "message 1 of the request stream" if method.client_streaming else "the request"
        expected = f"{where} could not be parsed as {method.input_type.full_name}: "
        payloads = {**MALFORMED, **invalid_utf8(method)}
        if not method.input_type.fields:
            # upb parses a field number 0 as an unknown field when the message declares no fields.
            del payloads["field number 0"]
        for case, payload in payloads.items():
            code, details = call_raw(channel, method, [payload])
            if (
                code != grpc.StatusCode.INVALID_ARGUMENT
                or not details.startswith(expected)
                or details == expected
            ):
                failed.append(f"{name} / {case}: {code.name} {details!r}")
    assert not failed, "\n".join(failed)
    assert _server_errors(caplog) == []

    # Nothing was stored, and the server serves.
    health = health_pb2_grpc.HealthStub(channel)
    status = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT).status
    assert status == health_pb2.HealthCheckResponse.SERVING
    projects = runs.ListProjects(pb.ListProjectsRequest(), timeout=TIMEOUT).projects
    assert [(p.name, p.run_count) for p in projects] == [("p", 1)]
    assert (
        list(pb_grpc.ReadServiceStub(channel).ListTags(pb.ListTagsRequest(run_id=run), timeout=TIMEOUT).tags)
        == []
    )
    ingest = pb_grpc.IngestServiceStub(channel)
    ack = ingest.WriteOne(
        pb.WriteBatch(
            run_id=run,
            writer_id="w",
            seq=1,
            scalars=[pb.ScalarColumn(tag="x", steps=[0], wall_times=[1.0], values=[2.0])],
        ),
        timeout=TIMEOUT,
    )
    assert (ack.seq, ack.duplicate) == (1, False)


def test_invalid_utf8_inside_a_nested_message_is_refused_and_stores_nothing(channel: grpc.Channel) -> None:
    runs = pb_grpc.RunServiceStub(channel)
    run = runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id
    assert pb.WriteBatch.FromString(batch_with_tag(run, b"ok")).scalars[0].tag == "ok"  # well-formed
    payload = batch_with_tag(run, b"\xc3\x28")  # a lead byte followed by no continuation byte
    for method, where in (("WriteOne", "the request"), ("Write", "message 1 of the request stream")):
        code, details = call_raw(channel, METHODS[f"IngestService.{method}"], [payload])
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert details.startswith(f"{where} could not be parsed as tracker.v1.WriteBatch: ")
    assert (
        list(pb_grpc.ReadServiceStub(channel).ListTags(pb.ListTagsRequest(run_id=run), timeout=TIMEOUT).tags)
        == []
    )
    cursor = pb_grpc.IngestServiceStub(channel).GetCursor(
        pb.GetCursorRequest(run_id=run, writer_id="w"), timeout=TIMEOUT
    )
    assert (cursor.last_seq, cursor.position) == (0, 0)


def test_a_malformed_message_mid_stream_ends_it_after_the_batches_before(channel: grpc.Channel) -> None:
    runs = pb_grpc.RunServiceStub(channel)
    run = runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id

    def good(seq: int) -> bytes:
        column = pb.ScalarColumn(tag="x", steps=[seq], wall_times=[1.0], values=[seq / 2])
        return pb.WriteBatch(run_id=run, writer_id="w", seq=seq, scalars=[column]).SerializeToString()

    method = METHODS["IngestService.Write"]
    stream = channel.stream_stream(
        f"/{method.containing_service.full_name}/{method.name}",
        request_serializer=None,
        response_deserializer=pb.WriteAck.FromString,
    )
    acks: list[tuple[int, bool]] = []
    with pytest.raises(grpc.RpcError) as caught:
        for ack in stream(iter([good(1), good(2)[:-3], good(3)]), timeout=TIMEOUT):
            acks.append((ack.seq, ack.duplicate))
    assert acks == [(1, False)]
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (caught.value.details() or "").startswith(
        "message 2 of the request stream could not be parsed as tracker.v1.WriteBatch: "
    )
    pages = pb_grpc.ReadServiceStub(channel).ReadScalars(
        pb.ReadScalarsRequest(run_id=run, tag="x"), timeout=TIMEOUT
    )
    assert [s for p in pages for s in p.steps] == [1]
    cursor = pb_grpc.IngestServiceStub(channel).GetCursor(
        pb.GetCursorRequest(run_id=run, writer_id="w"), timeout=TIMEOUT
    )
    assert cursor.last_seq == 1


def test_a_well_formed_field_of_an_unexpected_wire_type_is_an_unknown_field(channel: grpc.Channel) -> None:
    """Protobuf's rule: a field whose wire type does not match its declaration is kept as an unknown
    field, not a parse error; the request is then judged by the fields it does carry."""
    runs = pb_grpc.RunServiceStub(channel)
    code, details = call_raw(channel, METHODS["RunService.GetRun"], [b"\x08\x05"])  # run_id as a varint
    assert (code, details) == (grpc.StatusCode.INVALID_ARGUMENT, "run_id is empty")
    run = runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id
    request = pb.GetRunRequest(run_id=run).SerializeToString() + b"\x15\x00\x00\x00\x00"  # + field 2, fixed32
    code, _ = call_raw(channel, METHODS["RunService.GetRun"], [request])
    assert code == grpc.StatusCode.OK


def test_an_unknown_method_is_unimplemented_not_a_parse_error(channel: grpc.Channel) -> None:
    call: Callable[[bytes], bytes] = channel.unary_unary(
        "/tracker.v1.IngestService/NoSuchMethod", request_serializer=None, response_deserializer=None
    )
    with pytest.raises(grpc.RpcError) as caught:
        call(b"\xff\xff\xff", timeout=TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
