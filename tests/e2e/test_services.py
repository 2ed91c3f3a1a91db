"""What the server offers besides the tracker.v1 methods themselves, seen through a raw gRPC channel:
health, reflection, the message size limit, paging, and that every declared method is implemented."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import numpy as np
import pytest
from google.protobuf import descriptor_pb2, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tracker_client._proto import tracker_pb2 as pb
from tracker_client._proto import tracker_pb2_grpc as pb_grpc
from tracker_server.domain import limits

TIMEOUT = 30.0
TRACKER_SERVICES = (
    "tracker.v1.RunService",
    "tracker.v1.IngestService",
    "tracker.v1.ReadService",
    "tracker.v1.CompareService",
    "tracker.v1.AdminService",
)


@pytest.fixture
def channel(address: str) -> Iterator[grpc.Channel]:
    # Large enough to send what the server must refuse, so the refusal is the server's.
    opened = grpc.insecure_channel(
        address,
        options=[
            ("grpc.max_send_message_length", 4 * limits.MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", 4 * limits.MAX_MESSAGE_BYTES),
        ],
    )
    yield opened
    opened.close()


def new_run(channel: grpc.Channel, name: str = "r") -> str:
    return str(
        pb_grpc.RunServiceStub(channel)
        .CreateRun(pb.CreateRunRequest(project="p", name=name), timeout=TIMEOUT)
        .run.id
    )


def column(tag: str, n: int) -> pb.ScalarColumn:
    steps = np.arange(n, dtype=np.int64)
    return pb.ScalarColumn(
        tag=tag, steps=steps.tolist(), wall_times=(steps + 1.0e9).tolist(), values=(steps * 0.25).tolist()
    )


# ---------------------------------------------------------------------------------------------
# Health and reflection


def test_health_reports_serving_for_the_server_and_each_service(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", *TRACKER_SERVICES):
        response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=TIMEOUT)
        assert response.status == health_pb2.HealthCheckResponse.SERVING, service
    with pytest.raises(grpc.RpcError) as caught:
        health.Check(health_pb2.HealthCheckRequest(service="tracker.v1.NoSuchService"), timeout=TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def _reflect(
    channel: grpc.Channel,
    *requests: reflection_pb2.ServerReflectionRequest,
) -> list[reflection_pb2.ServerReflectionResponse]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    return list(stub.ServerReflectionInfo(iter(requests), timeout=TIMEOUT))


def test_reflection_lists_every_service(channel: grpc.Channel) -> None:
    (response,) = _reflect(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    listed = [s.name for s in response.list_services_response.service]
    assert sorted(listed) == sorted(
        [
            *TRACKER_SERVICES,
            "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection",
        ]
    )
    # The declared services are exactly the ones the server lists under tracker.v1.
    declared = {s.full_name for s in pb.DESCRIPTOR.services_by_name.values()}
    assert declared == {name for name in listed if name.startswith("tracker.v1.")}


def test_reflection_serves_the_contract_file(channel: grpc.Channel) -> None:
    """A client with no generated code can fetch tracker.proto from the server and find every method."""
    (response,) = _reflect(
        channel, reflection_pb2.ServerReflectionRequest(file_containing_symbol="tracker.v1.IngestService")
    )
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in response.file_descriptor_response.file_descriptor_proto
    ]
    (contract,) = [f for f in files if f.name == pb.DESCRIPTOR.name]
    assert contract.package == "tracker.v1"
    served = {(s.name, m.name) for s in contract.service for m in s.method}
    assert served == {(s.name, m.name) for s in pb.DESCRIPTOR.services_by_name.values() for m in s.methods}


# ---------------------------------------------------------------------------------------------
# Message size limit


def test_a_message_over_the_receive_limit_is_resource_exhausted(channel: grpc.Channel) -> None:
    run = new_run(channel)
    ingest = pb_grpc.IngestServiceStub(channel)
    reads = pb_grpc.ReadServiceStub(channel)
    too_big = pb.WriteBatch(
        run_id=run, writer_id="w", seq=1, scalars=[column("big", limits.MAX_MESSAGE_BYTES // 24 + 1000)]
    )
    assert too_big.ByteSize() > limits.MAX_MESSAGE_BYTES
    with pytest.raises(grpc.RpcError) as caught:
        ingest.WriteOne(too_big, timeout=TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    with pytest.raises(grpc.RpcError) as caught:
        list(ingest.Write(iter([too_big]), timeout=TIMEOUT))
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert list(reads.ListTags(pb.ListTagsRequest(run_id=run), timeout=TIMEOUT).tags) == []

    # Just under the limit is accepted, as the first batch of the writer (nothing was claimed before).
    n = (limits.MAX_MESSAGE_BYTES - 1024) // 24
    fits = pb.WriteBatch(run_id=run, writer_id="w", seq=1, scalars=[column("big", n)])
    assert fits.ByteSize() < limits.MAX_MESSAGE_BYTES
    ack = ingest.WriteOne(fits, timeout=TIMEOUT)
    assert (ack.writer_id, ack.seq, ack.duplicate) == ("w", 1, False)
    (info,) = reads.ListTags(pb.ListTagsRequest(run_id=run), timeout=TIMEOUT).tags
    assert (info.tag, info.count, info.summary.count) == ("big", n, n)
    assert (info.summary.last_step, info.summary.last_value) == (n - 1, (n - 1) * 0.25)


# ---------------------------------------------------------------------------------------------
# Paging


def test_list_tags_pages_through_every_tag_once_scalars_first(channel: grpc.Channel) -> None:
    """Ordered by (kind, tag), tags compared by code point (as Python sorts them) on either database."""
    run = new_run(channel)
    scalar_tags = ["z", "B", "a/1"]
    histogram_tags = ["h", "a/1"]
    histogram = pb.Histogram(step=0, wall_time=1.0, count=1.0, bucket_limits=[1.0], bucket_counts=[1.0])
    pb_grpc.IngestServiceStub(channel).WriteOne(
        pb.WriteBatch(
            run_id=run,
            writer_id="w",
            seq=1,
            scalars=[column(tag, i + 1) for i, tag in enumerate(scalar_tags)],
            histograms=[
                pb.HistogramColumn(tag=tag, histograms=[histogram] * (i + 1))
                for i, tag in enumerate(histogram_tags)
            ],
        ),
        timeout=TIMEOUT,
    )
    expected = [
        *((pb.SERIES_KIND_SCALAR, tag, scalar_tags.index(tag) + 1) for tag in sorted(scalar_tags)),
        *((pb.SERIES_KIND_HISTOGRAM, tag, histogram_tags.index(tag) + 1) for tag in sorted(histogram_tags)),
    ]
    reads = pb_grpc.ReadServiceStub(channel)
    seen, sizes, token = [], [], ""
    for _ in range(10):  # bounded: 3 pages expected
        page = reads.ListTags(pb.ListTagsRequest(run_id=run, page_size=2, page_token=token), timeout=TIMEOUT)
        seen += [(t.kind, t.tag, t.count) for t in page.tags]
        sizes.append(len(page.tags))
        token = page.next_page_token
        if not token:
            break
    assert sizes == [2, 2, 1]
    assert seen == expected
    # Scalar tags carry a summary; histogram tags do not.
    whole = reads.ListTags(pb.ListTagsRequest(run_id=run), timeout=TIMEOUT)
    assert whole.next_page_token == ""
    assert [(t.kind, t.tag, t.count) for t in whole.tags] == expected
    assert [t.HasField("summary") for t in whole.tags] == [True, True, True, False, False]
    exact = reads.ListTags(pb.ListTagsRequest(run_id=run, page_size=5), timeout=TIMEOUT)
    assert len(exact.tags) == 5 and exact.next_page_token == ""


def test_list_projects_pages_through_every_project_once(channel: grpc.Channel) -> None:
    runs = pb_grpc.RunServiceStub(channel)
    names = ["delta", "Alpha", "charlie", "bravo", "echo"]
    for i, name in enumerate(names):
        for j in range(i + 1):
            runs.CreateRun(pb.CreateRunRequest(project=name, name=f"run-{j}"), timeout=TIMEOUT)
    seen, sizes, token = [], [], ""
    for _ in range(10):
        page = runs.ListProjects(pb.ListProjectsRequest(page_size=2, page_token=token), timeout=TIMEOUT)
        seen += [(p.name, p.run_count) for p in page.projects]
        sizes.append(len(page.projects))
        token = page.next_page_token
        if not token:
            break
    assert sizes == [2, 2, 1]
    assert seen == sorted((name, i + 1) for i, name in enumerate(names))


# ---------------------------------------------------------------------------------------------
# Every declared method is implemented

# What an empty request gets from each method; the stream is tried with no message and one empty one.
EMPTY_REQUEST_OUTCOME: dict[str, grpc.StatusCode] = {
    "RunService.CreateRun": grpc.StatusCode.INVALID_ARGUMENT,  # project is empty
    "RunService.SetHParams": grpc.StatusCode.INVALID_ARGUMENT,  # run_id is empty
    "RunService.FinishRun": grpc.StatusCode.INVALID_ARGUMENT,  # status is unspecified
    "RunService.GetRun": grpc.StatusCode.INVALID_ARGUMENT,  # run_id is empty
    "RunService.ListRuns": grpc.StatusCode.INVALID_ARGUMENT,  # project is empty
    "RunService.ListProjects": grpc.StatusCode.OK,
    "IngestService.Write": grpc.StatusCode.INVALID_ARGUMENT,  # one empty batch: run_id is empty
    "IngestService.WriteOne": grpc.StatusCode.INVALID_ARGUMENT,
    "ReadService.ListTags": grpc.StatusCode.INVALID_ARGUMENT,  # run_id is empty
    "ReadService.ReadScalars": grpc.StatusCode.INVALID_ARGUMENT,
    "ReadService.ReadHistograms": grpc.StatusCode.INVALID_ARGUMENT,
    "ReadService.ReadScalarsMany": grpc.StatusCode.OK,  # no runs asked for: no series
    "ReadService.ReadDistributions": grpc.StatusCode.INVALID_ARGUMENT,
    "CompareService.GetExperiment": grpc.StatusCode.INVALID_ARGUMENT,  # project is empty
    "CompareService.ListSessionGroups": grpc.StatusCode.INVALID_ARGUMENT,
    "CompareService.GetImportance": grpc.StatusCode.INVALID_ARGUMENT,  # metric is empty
}


def _call(
    channel: grpc.Channel, service: str, method: str, requests: list[object]
) -> tuple[grpc.StatusCode, int]:
    """Call a method generically from its descriptor: (status code, number of responses)."""
    descriptor = pb.DESCRIPTOR.services_by_name[service].methods_by_name[method]
    request_cls = message_factory.GetMessageClass(descriptor.input_type)
    response_cls = message_factory.GetMessageClass(descriptor.output_type)
    kind = {
        (False, False): channel.unary_unary,
        (False, True): channel.unary_stream,
        (True, False): channel.stream_unary,
        (True, True): channel.stream_stream,
    }[(descriptor.client_streaming, descriptor.server_streaming)]
    callable_ = kind(
        f"/{descriptor.containing_service.full_name}/{method}",
        request_serializer=request_cls.SerializeToString,
        response_deserializer=response_cls.FromString,
    )
    argument = iter(requests) if descriptor.client_streaming else requests[0]
    try:
        result = callable_(argument, timeout=TIMEOUT)
        return grpc.StatusCode.OK, len(list(result)) if descriptor.server_streaming else 1
    except grpc.RpcError as error:
        return error.code(), 0


def test_every_declared_method_is_implemented(channel: grpc.Channel) -> None:
    declared = {
        f"{service.name}.{method.name}": method
        for service in pb.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    assert set(EMPTY_REQUEST_OUTCOME) <= set(declared)
    outcomes = {}
    for name, method in declared.items():
        service, method_name = name.split(".")
        empty = message_factory.GetMessageClass(method.input_type)()
        attempts = [[], [empty]] if method.client_streaming else [[empty]]
        for requests in attempts:
            code, _ = _call(channel, service, method_name, requests)
            assert code != grpc.StatusCode.UNIMPLEMENTED, f"{name} is not implemented"
        outcomes[name] = code
    assert {n: c for n, c in outcomes.items() if n in EMPTY_REQUEST_OUTCOME} == EMPTY_REQUEST_OUTCOME
    # A stream that sends nothing ends cleanly with no acks.
    assert _call(channel, "IngestService", "Write", []) == (grpc.StatusCode.OK, 0)
    # An undeclared method is UNIMPLEMENTED: the check above can tell the difference.
    assert (
        _call(channel, "RunService", "GetRun", [pb.GetRunRequest(run_id="nope")])[0]
        == grpc.StatusCode.NOT_FOUND
    )
    bogus = channel.unary_unary(
        "/tracker.v1.RunService/NoSuchMethod",
        request_serializer=lambda m: b"",
        response_deserializer=lambda b: b,
    )
    with pytest.raises(grpc.RpcError) as caught:
        bogus(b"", timeout=TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
