"""Bad input, end to end: random batches judged against docs/limits.md, names that look like paths,
hyperparameters and limits, and what the Python client does with input the server would refuse.

Everything goes through a real gRPC channel to a real server on a fresh SQLite or PostgreSQL
database. A refused request must be INVALID_ARGUMENT (RESOURCE_EXHAUSTED for the message size)
whose message names the offending field, and the limit where one was passed; nothing of it may be
stored; and the server must keep answering. What tests/e2e/test_ingest_contract.py and
tests/e2e/test_malformed_requests.py already check one case at a time is not repeated here: the
property test below mixes those cases at random, with the run's state checked before and after.
"""

from __future__ import annotations

import copy
import itertools
import math
import os
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

import tracker_client as tracker
from tests.e2e import test_ingest_contract
from tests.e2e.test_ingest_contract import (
    MAX_STEP,
    TIMEOUT,
    Stubs,
    batch,
    col,
    each_case,
    hcol,
    hist,
    rpc_error,
    scalars,
    tags,
    write,
)
from tests.e2e.test_malformed_requests import METHODS, call_raw
from tracker_client._proto import tracker_pb2 as pb
from tracker_server.domain import limits

stubs = test_ingest_contract.stubs  # the raw stubs fixture, reused

MAX_SEQ = 2**63 - 1  # seq and position are uint64 on the wire, BIGINT in the database
RUN_ID_MAX = 32  # what the server accepts as the shape of a run id (it issues 12 characters)
NAN_PAYLOADS = np.array(
    [0x7FF8000000000001, 0xFFF8000000000000, 0x7FF0000000000001, 0xFFFFFFFFFFFFFFFF], dtype=np.uint64
).view(np.float64)


# ---------------------------------------------------------------------------------------------
# The rules of docs/limits.md, written out independently of the server's code


_NOT_PRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})


def printable(text: str) -> bool:
    """Printable Unicode: no control, format, surrogate, private-use or unassigned characters, no
    line or paragraph separators, and no spaces other than U+0020."""
    return all(c == " " or unicodedata.category(c) not in _NOT_PRINTABLE for c in text)


def name_ok(name: str, longest: int = limits.MAX_NAME_LENGTH) -> bool:
    return 1 <= len(name) <= longest and printable(name)


Problem = tuple[str, ...]  # words the server's message must all hold to name this problem


def scalar_problems(i: int, column: pb.ScalarColumn) -> list[Problem]:
    where = f"scalars[{i}]"
    found: list[Problem] = []
    if not name_ok(column.tag):
        found.append((f"{where}.tag",))
    n = len(column.steps)
    if n == 0:
        found.append((where, "no points"))
    if len(column.wall_times) != n or len(column.values) != n:
        found.append((where, "equal lengths"))
    if any(s < 0 for s in column.steps):
        found.append((where, "steps", ">= 0"))
    if not all(math.isfinite(w) for w in column.wall_times):
        found.append((where, "wall_times", "finite"))
    return found


def histogram_problems(where: str, h: pb.Histogram) -> list[Problem]:
    found: list[Problem] = []
    if h.step < 0:
        found.append((where, "step"))
    if not math.isfinite(h.wall_time):
        found.append((where, "wall_time", "finite"))
    edges, counts = list(h.bucket_limits), list(h.bucket_counts)
    if len(edges) > limits.MAX_HISTOGRAM_BUCKETS:
        found.append((where, str(len(edges)), str(limits.MAX_HISTOGRAM_BUCKETS)))
    if len(edges) != len(counts):
        found.append((where, "bucket_limits", "bucket_counts"))
    if any(math.isnan(e) for e in edges) or any(b < a for a, b in itertools.pairwise(edges)):
        found.append((where, "bucket_limits"))
    if not all(math.isfinite(c) and c >= 0 for c in counts):
        found.append((where, "bucket_counts"))
    for name in ("count", "nan_count"):
        value = getattr(h, name)
        if not math.isfinite(value) or value < 0:
            found.append((where, name))
    # The test's counts are small dyadic numbers: every sum is exact, so "add up" means equal.
    if math.fsum(counts) + h.nan_count != h.count:
        found.append((where, "add up"))
    return found


def batch_problems(message: pb.WriteBatch) -> list[Problem]:
    """Every reason docs/limits.md gives to refuse ``message``; empty when it is valid."""
    found: list[Problem] = []
    if not name_ok(message.run_id, RUN_ID_MAX):
        found.append(("run_id",))
    if not name_ok(message.writer_id, limits.MAX_WRITER_ID_LENGTH):
        found.append(("writer_id",))
    if not 1 <= message.seq <= MAX_SEQ:
        found.append(("seq",))
    for i, column in enumerate(message.scalars):
        found += scalar_problems(i, column)
    for i, hcolumn in enumerate(message.histograms):
        if not name_ok(hcolumn.tag):
            found.append((f"histograms[{i}].tag",))
        if not hcolumn.histograms:
            found.append((f"histograms[{i}]", "no histograms"))
        for j, h in enumerate(hcolumn.histograms):
            found += histogram_problems(f"histograms[{i}].histograms[{j}]", h)
    return found


# ---------------------------------------------------------------------------------------------
# Random batches

PATH_LIKE = ("../../etc/passwd", "%2e%2e/", "..\\..\\x", "/abs")
GOOD_TAGS = ("loss", "base", "acc/train", "ü/🙂 ✓", "t" * 256, *PATH_LIKE)
BAD_NAMES = (
    "",
    "t" * 257,
    "a\x00b",
    "a\nb",
    "tab\t",
    "\x7f",
    "a\u2028b",
    "rtl\u202e",
    "\x1b[31m",
    "nb\xa0sp",
)

good_tags = st.one_of(
    st.sampled_from(GOOD_TAGS),
    st.text(st.characters(categories=("L", "N", "P", "S")), min_size=1, max_size=12),
)
any_tags = st.one_of(
    good_tags,
    st.sampled_from(BAD_NAMES),
    st.text(max_size=12),  # any Unicode: control and format characters included
    st.text("ab\x01", min_size=255, max_size=258),  # around the length limit
)
bad_tags = st.one_of(
    st.sampled_from(BAD_NAMES),
    st.builds(  # one character that is not printable, anywhere
        lambda head, bad, tail: head + bad + tail,
        st.text(max_size=6),
        st.characters(categories=("Cc", "Cf", "Co", "Cn", "Zl", "Zp")) | st.sampled_from(["\x00", "\xa0"]),
        st.text(max_size=6),
    ),
    st.text("ab", min_size=257, max_size=260),
)
good_steps = st.one_of(
    st.integers(0, 1000), st.sampled_from([0, MAX_STEP, MAX_STEP - 1, 2**53 + 1]), st.integers(0, MAX_STEP)
)
# Steps are sfixed64: a step past 2**63 - 1 reaches the server as the negative number of its bits.
bad_steps = st.one_of(st.sampled_from([-1, -(2**63), (2**63 + 5) - 2**64]), st.integers(-(2**63), -1))
good_walls = st.floats(allow_nan=False, allow_infinity=False)
bad_walls = st.sampled_from([math.nan, math.inf, -math.inf])
values = st.one_of(
    st.floats(),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 5e-324, -1.7976931348623157e308]),
    st.sampled_from(NAN_PAYLOADS.tolist()),
)
bucket_counts = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.25, 1e6])


Draw = Callable[[st.SearchStrategy[Any]], Any]  # st.composite's draw, or st.DataObject.draw


@st.composite
def scalar_columns(draw: st.DrawFn) -> pb.ScalarColumn:
    n = draw(st.integers(1, 6))
    return pb.ScalarColumn(
        tag=draw(good_tags),
        steps=draw(st.lists(good_steps, min_size=n, max_size=n)),
        wall_times=draw(st.lists(good_walls, min_size=n, max_size=n)),
        values=draw(st.lists(values, min_size=n, max_size=n)),
    )


@st.composite
def histograms(draw: st.DrawFn) -> pb.Histogram:
    k = draw(st.integers(0, 5))
    counts = draw(st.lists(bucket_counts, min_size=k, max_size=k))
    nan_count = draw(st.sampled_from([0.0, 0.0, 1.0, 2.5]))
    return pb.Histogram(
        step=draw(good_steps),
        wall_time=draw(good_walls),
        count=math.fsum(counts) + nan_count,
        min=draw(values),
        max=draw(values),
        sum=draw(values),
        sum_squares=draw(values),
        bucket_limits=sorted(draw(st.lists(st.floats(allow_nan=False), min_size=k, max_size=k))),
        bucket_counts=counts,
        nan_count=nan_count,
    )


@st.composite
def histogram_columns(draw: st.DrawFn) -> pb.HistogramColumn:
    return pb.HistogramColumn(
        tag=draw(good_tags), histograms=draw(st.lists(histograms(), min_size=1, max_size=3))
    )


def _break_scalars(draw: Draw, column: pb.ScalarColumn, fault: str) -> None:
    n = len(column.steps)
    if fault == "tag":
        column.tag = draw(bad_tags)
    elif fault == "no points":
        del column.steps[:], column.wall_times[:], column.values[:]
    elif fault == "a step short":
        del column.steps[-1]
    elif fault == "a wall time short":
        del column.wall_times[-1]
    elif fault == "a value too many":
        column.values.append(1.0)
    elif fault == "negative step":
        column.steps[draw(st.integers(0, n - 1))] = draw(bad_steps)
    elif fault == "wall time not finite":
        column.wall_times[draw(st.integers(0, n - 1))] = draw(bad_walls)
    else:
        raise AssertionError(fault)


def _break_histogram(draw: Draw, h: pb.Histogram, fault: str) -> None:
    k = len(h.bucket_limits)
    if fault == "count off":
        h.count += draw(st.sampled_from([0.5, 1.0, -0.5, 1e6]))
    elif fault == "negative bucket count":  # still adds up
        h.bucket_limits.extend([math.inf, math.inf])
        h.bucket_counts.extend([-1.0, 1.0])
    elif fault == "NaN bucket count":
        h.bucket_limits.append(math.inf)
        h.bucket_counts.append(math.nan)
    elif fault == "limits decrease":
        edges = list(h.bucket_limits)
        if not edges:
            h.bucket_limits[:] = [1.0, 0.0]
        elif edges[-1] > -math.inf:
            h.bucket_limits[:] = [*edges, -math.inf]
        else:  # every limit is -inf
            h.bucket_limits[:] = [math.inf, *edges]
        h.bucket_counts.extend([0.0] * (len(h.bucket_limits) - k))
    elif fault == "NaN limit":
        if not k:
            h.bucket_limits.append(0.0)
            h.bucket_counts.append(0.0)
        h.bucket_limits[0] = math.nan
    elif fault == "a count too many":
        h.bucket_counts.append(0.0)
    elif fault == "infinite count":
        h.count = math.inf
    elif fault == "negative nan_count":
        h.count, h.nan_count = h.count - h.nan_count - 1.0, -1.0  # adds up, but below zero
    elif fault == "negative step":
        h.step = draw(bad_steps)
    elif fault == "wall time not finite":
        h.wall_time = draw(bad_walls)
    else:
        raise AssertionError(fault)


SCALAR_FAULTS = (
    "tag",
    "no points",
    "a step short",
    "a wall time short",
    "a value too many",
    "negative step",
    "wall time not finite",
)
HISTOGRAM_FAULTS = (
    "count off",
    "negative bucket count",
    "NaN bucket count",
    "limits decrease",
    "NaN limit",
    "a count too many",
    "infinite count",
    "negative nan_count",
    "negative step",
    "wall time not finite",
)
FAULTS = (
    "run_id",
    "writer_id",
    "seq",
    *(f"scalars: {f}" for f in SCALAR_FAULTS),
    "histograms: tag",
    "histograms: none in the column",
    *(f"histogram: {f}" for f in HISTOGRAM_FAULTS),
)


@dataclass
class Case:
    target: str  # "running", "finished" (a run finished after its baseline) or "unknown"
    run_id: str | None  # None: the target's id
    writer_id: str
    seq: int
    scalars: list[pb.ScalarColumn]
    histograms: list[pb.HistogramColumn]
    stream: bool

    def message(self, run_id: str) -> pb.WriteBatch:
        return pb.WriteBatch(
            run_id=run_id if self.run_id is None else self.run_id,
            writer_id=self.writer_id,
            seq=self.seq,
            scalars=self.scalars,
            histograms=self.histograms,
        )


@st.composite
def clean_cases(draw: st.DrawFn, targets: Sequence[str] = ("running",)) -> Case:
    """A valid batch (two to seven columns) to a run of one of ``targets``."""
    target = draw(st.sampled_from(targets))
    return Case(
        target=target,
        run_id=draw(st.sampled_from(["nosuchrun123", "../../etc/passwd", "%2e%2e/"]))
        if target == "unknown"
        else None,
        writer_id=draw(st.sampled_from(["w", "w" * 64, "../w"])),
        seq=1,
        scalars=draw(st.lists(scalar_columns(), min_size=1, max_size=4)),
        histograms=draw(st.lists(histogram_columns(), min_size=1, max_size=3)),
        stream=draw(st.booleans()),
    )


def inject(draw: Draw, case: Case, fault: str) -> None:
    """Break ``case`` in the way ``fault`` names, at a random place of the batch."""
    note(f"fault: {fault}")
    if fault == "run_id":
        case.run_id = ""
    elif fault == "writer_id":
        case.writer_id = draw(st.sampled_from(["", "w" * 65, "w\x00", "w\n", "\u2028"]))
    elif fault == "seq":
        case.seq = draw(st.sampled_from([0, 2**63, 2**64 - 1]))
    elif fault.startswith("scalars: "):
        column = draw(st.sampled_from(case.scalars))
        _break_scalars(draw, column, fault.removeprefix("scalars: "))
    else:
        hcolumn = draw(st.sampled_from(case.histograms))
        if fault == "histograms: tag":
            hcolumn.tag = draw(bad_tags)
        elif fault == "histograms: none in the column":
            del hcolumn.histograms[:]
        elif hcolumn.histograms:  # (emptied by an earlier fault)
            _break_histogram(
                draw, draw(st.sampled_from(hcolumn.histograms)), fault.removeprefix("histogram: ")
            )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A batch to a running, finished or unknown run: valid, or with one fault or several."""
    case = draw(clean_cases(["running"] * 5 + ["finished", "unknown"]))
    case.scalars = case.scalars[: draw(st.integers(0, 4))]
    case.histograms = case.histograms[: draw(st.integers(0, 3))]
    faults = draw(st.sampled_from([0, 0, 1, 1, 1, 2, 3]))
    for fault in draw(st.lists(st.sampled_from(FAULTS), min_size=faults, max_size=faults)):
        if fault.startswith("scalars") and not case.scalars:
            case.scalars.append(draw(scalar_columns()))
        if fault.startswith("histogram") and not case.histograms:
            case.histograms.append(draw(histogram_columns()))
        inject(draw, case, fault)
    return case


# The state every running or finished target has before the random batch arrives.
BASE_WRITER = "base"
BASE_POINTS = [(0, 10.0, 1.0), (5, 15.0, math.nan), (10, 20.0, -0.0)]


def baseline(run_id: str) -> pb.WriteBatch:
    steps, walls, points = zip(*BASE_POINTS, strict=True)
    column = pb.ScalarColumn(tag="base", steps=steps, wall_times=walls, values=points)
    return batch(run_id, 1, column, writer=BASE_WRITER, histograms=(hcol("base", hist(3)),))


def send(stubs: Stubs, message: pb.WriteBatch, stream: bool) -> tuple[grpc.StatusCode, str]:
    try:
        if stream:
            (ack,) = list(stubs.ingest.Write(iter([message]), timeout=TIMEOUT))
        else:
            ack = write(stubs, message)
    except grpc.RpcError as error:
        assert isinstance(error, grpc.Call)
        return error.code(), error.details() or ""
    assert (ack.writer_id, ack.seq, ack.duplicate) == (message.writer_id, message.seq, False)
    return grpc.StatusCode.OK, ""


def same_floats(got: npt.ArrayLike, want: npt.ArrayLike, *, zero_sign: bool = True) -> bool:
    """Equal bit for bit, except that any NaN matches any NaN and, unless ``zero_sign``, -0.0 matches
    0.0."""
    a, b = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    keep = ~np.isnan(a)
    if not zero_sign:
        return bool(np.array_equal(a[keep], b[keep]))
    return a[keep].tobytes() == b[keep].tobytes()


@dataclass
class Expected:
    """What a run must hold: per tag, its points (or histograms) in the order they were logged."""

    points: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)
    histograms: dict[str, list[pb.Histogram]] = field(default_factory=dict)

    def add(self, message: pb.WriteBatch) -> None:
        for column in message.scalars:
            self.points.setdefault(column.tag, []).extend(
                zip(column.steps, column.wall_times, column.values, strict=True)
            )
        for hcolumn in message.histograms:
            self.histograms.setdefault(hcolumn.tag, []).extend(hcolumn.histograms)

    def check(self, stubs: Stubs, run_id: str, backend: str) -> None:
        assert tags(stubs, run_id) == sorted(
            [(pb.SERIES_KIND_SCALAR, tag, len(p)) for tag, p in self.points.items()]
            + [(pb.SERIES_KIND_HISTOGRAM, tag, len(h)) for tag, h in self.histograms.items()]
        )
        for tag, logged in self.points.items():
            ordered = sorted(logged, key=lambda p: p[0])  # stable: equal steps keep their logged order
            steps, walls, got = scalars(stubs, run_id, tag)
            assert steps.tolist() == [p[0] for p in ordered], tag
            assert same_floats(walls, [p[1] for p in ordered]), tag
            assert same_floats(got, [p[2] for p in ordered]), tag
        for tag, sent in self.histograms.items():
            request = pb.ReadHistogramsRequest(run_id=run_id, tag=tag)
            stored = [
                h for page in stubs.reads.ReadHistograms(request, timeout=TIMEOUT) for h in page.histograms
            ]
            want = sorted(sent, key=lambda h: h.step)
            assert [h.step for h in stored] == [h.step for h in want], tag
            for a, b in zip(stored, want, strict=True):
                assert same_floats(a.bucket_limits, b.bucket_limits), tag
                assert same_floats(a.bucket_counts, b.bucket_counts), tag
                numbers = ("wall_time", "count", "nan_count", "min", "max", "sum", "sum_squares")
                # docs/design.md: SQLite reads a stored -0.0 back as +0.0 outside the byte arrays.
                assert same_floats(
                    [getattr(a, n) for n in numbers],
                    [getattr(b, n) for n in numbers],
                    zero_sign=backend == "postgresql",
                ), (tag, a, b)


def cursor(stubs: Stubs, run_id: str, writer_id: str) -> int:
    request = pb.GetCursorRequest(run_id=run_id, writer_id=writer_id)
    return int(stubs.ingest.GetCursor(request, timeout=TIMEOUT).last_seq)


_runs = itertools.count()


def check_case(stubs: Stubs, backend: str, case: Case) -> grpc.StatusCode:
    """Send the case's batch to a fresh run (after its baseline) and check the answer and the run's
    contents against the model; return the status code the server answered."""
    if case.target == "unknown":
        assert case.run_id is not None
        run_id = case.run_id
    else:
        run_id = stubs.runs.CreateRun(
            pb.CreateRunRequest(project="prop", name=f"r{next(_runs)}"), timeout=TIMEOUT
        ).run.id
        write(stubs, baseline(run_id))
        if case.target == "finished":
            request = pb.FinishRunRequest(run_id=run_id, status=pb.RUN_STATUS_FINISHED)
            stubs.runs.FinishRun(request, timeout=TIMEOUT)
    message = case.message(run_id)
    problems = batch_problems(message)
    note(f"problems: {problems}")
    code, details = send(stubs, message, case.stream)
    note(f"answer: {code.name} {details!r}")

    if problems:
        assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, details)
        assert any(all(word in details for word in problem) for problem in problems), details
    elif case.target == "unknown":
        assert (code, details) == (grpc.StatusCode.NOT_FOUND, f"run {run_id!r} does not exist")
    elif case.target == "finished":
        assert code == grpc.StatusCode.FAILED_PRECONDITION, (code, details)
        assert repr(run_id) in details and "finished" in details
    else:
        assert code == grpc.StatusCode.OK, (code, details)

    if case.target == "unknown":
        # Nothing was created under that id, and the server answers.
        get = pb.GetRunRequest(run_id=run_id)
        expected_code = grpc.StatusCode.NOT_FOUND if run_id else grpc.StatusCode.INVALID_ARGUMENT
        rpc_error(lambda: stubs.runs.GetRun(get, timeout=TIMEOUT), expected_code)
        return code
    expected = Expected()
    expected.add(baseline(run_id))
    if code == grpc.StatusCode.OK:
        expected.add(message)
    expected.check(stubs, run_id, backend)
    assert cursor(stubs, run_id, BASE_WRITER) == 1
    if name_ok(message.writer_id, limits.MAX_WRITER_ID_LENGTH) and message.writer_id != BASE_WRITER:
        assert cursor(stubs, run_id, message.writer_id) == (message.seq if code == grpc.StatusCode.OK else 0)
    if case.target == "running" and code != grpc.StatusCode.OK:
        # The server still answers, and the run takes the next valid batch.
        assert write(stubs, batch(run_id, 1, col("fixed", [0]), writer="fix")).duplicate is False
    return code


# The server and channel are shared by the examples; each example makes a run of its own.
SHARED_SERVER = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=60, deadline=None, suppress_health_check=SHARED_SERVER)
@given(case=cases())
def test_random_batches_are_stored_exactly_or_refused_whole(stubs: Stubs, backend: str, case: Case) -> None:
    code = check_case(stubs, backend, case)
    event(f"{case.target}: {code.name}")


# No shrinking: the example sends ~30 batches, and the note() of a failure names its fault already.
@settings(max_examples=1, deadline=None, suppress_health_check=SHARED_SERVER, phases=[Phase.generate])
@given(data=st.data())
def test_every_fault_alone_in_a_random_batch_is_refused_naming_it(
    stubs: Stubs, backend: str, data: st.DataObject
) -> None:
    """A few dozen examples do not draw every kind of fault, nor every target: here one random
    valid batch goes to a running, a finished and an unknown run, and then to a running run with
    each fault alone (at a random place, beside valid columns), and to the others with one."""
    base = data.draw(clean_cases(), label="batch")
    answers = {
        "running": grpc.StatusCode.OK,
        "finished": grpc.StatusCode.FAILED_PRECONDITION,
        "unknown": grpc.StatusCode.NOT_FOUND,
    }
    for target, code in answers.items():
        for fault in (None, "scalars: negative step"):
            case = copy.deepcopy(base)
            case.target, case.run_id = target, "nosuchrun123" if target == "unknown" else None
            if fault is not None:
                inject(data.draw, case, fault)
            assert check_case(stubs, backend, case) == (
                code if fault is None else grpc.StatusCode.INVALID_ARGUMENT
            )
    for fault in FAULTS:
        case = copy.deepcopy(base)
        inject(data.draw, case, fault)
        assert batch_problems(case.message("x")), f"{fault} did not break the batch"
        assert check_case(stubs, backend, case) == grpc.StatusCode.INVALID_ARGUMENT, fault


def test_the_property_test_model_agrees_with_the_documented_examples() -> None:
    """The model above is the test's own reading of docs/limits.md; pin it on clear cases."""
    assert name_ok("a b/c.d") and name_ok("t" * 256) and name_ok("../../etc/passwd")
    for bad in BAD_NAMES:
        assert not name_ok(bad), repr(bad)
    assert batch_problems(batch("r", 1, col("x", [0]))) == []
    assert batch_problems(batch("r", 0, col("x", [-1]))) == [("seq",), ("scalars[0]", "steps", ">= 0")]
    assert batch_problems(batch("r", 1, histograms=(hcol("h", hist(count=7.0)),))) == [
        ("histograms[0].histograms[0]", "add up")
    ]


# ---------------------------------------------------------------------------------------------
# Names that look like paths are data


def _files(*roots: Path) -> set[Path]:
    return {p for root in roots for p in root.rglob("*")}


PATH_NAMES = (*PATH_LIKE, "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "~/.ssh/x", "..")


def test_path_like_names_are_stored_verbatim_and_never_become_paths(
    stubs: Stubs, address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each name as project, run, hparam name and value, writer id and tag of every kind, through
    the wire and through the client (online, and offline into a spool file); afterwards no file
    exists that any of them would name, relative to the working directory or the data directory."""
    work = tmp_path / "jail" / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)  # the server runs in this process: its working directory too
    data_dir = Path(os.environ["TRACKER_DATA_DIR"])
    watched = [tmp_path, data_dir]
    bases = (work, data_dir, data_dir / "spool", tmp_path)
    candidates = {Path(os.path.normpath(base / name)) for base in bases for name in PATH_NAMES}
    candidates |= {Path(name).expanduser() for name in PATH_NAMES}
    existed = {p for p in candidates if p.exists()}
    before = _files(*watched)

    def check(name: str) -> None:
        hparams = {name: pb.HParamValue(string_value=name)}
        created = stubs.runs.CreateRun(
            pb.CreateRunRequest(project=name, name=name, hparams=hparams), timeout=TIMEOUT
        )
        run_id = created.run.id
        text = pb.TextColumn(tag=name, texts=[pb.Text(step=0, wall_time=1.0, text=name)])
        message = pb.WriteBatch(
            run_id=run_id,
            writer_id=name,
            seq=1,
            scalars=[col(name, [0], values=[0.5])],
            histograms=[hcol(name, hist(0))],
            texts=[text],
        )
        assert write(stubs, message).duplicate is False
        run = stubs.runs.GetRun(pb.GetRunRequest(run_id=run_id), timeout=TIMEOUT).run
        assert (run.project, run.name, dict(run.hparams)) == (name, name, hparams)
        projects = stubs.runs.ListProjects(pb.ListProjectsRequest(), timeout=TIMEOUT).projects
        assert name in [p.name for p in projects]
        listed = stubs.runs.ListRuns(pb.ListRunsRequest(project=name), timeout=TIMEOUT).runs
        assert [(r.id, r.name) for r in listed] == [(run_id, name)]
        assert tags(stubs, run_id) == [
            (pb.SERIES_KIND_SCALAR, name, 1),
            (pb.SERIES_KIND_HISTOGRAM, name, 1),
            (pb.SERIES_KIND_TEXT, name, 1),
        ]
        assert scalars(stubs, run_id, name)[2].tolist() == [0.5]
        texts = stubs.reads.ReadTexts(pb.ReadTextsRequest(run_id=run_id, tag=name), timeout=TIMEOUT)
        assert [t.text for page in texts for t in page.texts] == [name]
        assert cursor(stubs, run_id, name) == 1

        with tracker.init(project=name, name=name, hparams={"opt": {name: 1}}, server=address) as online:
            assert online.id == run_id
            online.log({name: 2.0}, step=1)
            online.log_histogram(name, [1.0, 2.0], step=1)
        with tracker.Api(server=address) as api:
            assert api.scalars(run_id, name).steps.tolist() == [0, 1]
            assert [h.step for h in api.histograms(run_id, name)] == [0, 1]
            assert api.run(run_id).hparams == {name: name, f"opt.{name}": 1}
        offline = tracker.init(project=name, name=name, mode="offline")
        offline.log({name: 3.0})
        offline.finish()

    each_case(dict.fromkeys(PATH_NAMES), check)
    new = _files(*watched) - before
    allowed = re.compile(r"tracker\.db-(wal|shm|journal)|spool|[0-9a-f]{32}\.spool")
    assert sorted(str(p) for p in new if not allowed.fullmatch(p.name)) == []
    assert sum(p.suffix == ".spool" for p in new) == len(PATH_NAMES)  # the offline runs' spool files
    assert {p for p in candidates if p.exists()} == existed


# ---------------------------------------------------------------------------------------------
# Hyperparameters


def _hp(**kind: object) -> pb.HParamValue:
    return pb.HParamValue(**kind)  # type: ignore[arg-type]


def _unknown_kind() -> pb.HParamValue:
    """A value of a type this server does not know (a field number it has never heard of, as a
    newer client might send): its oneof is unset."""
    value = pb.HParamValue.FromString(b"\x2a\x03abc")  # field 5, length-delimited
    assert value.WhichOneof("kind") is None and value.SerializeToString() == b"\x2a\x03abc"
    return value


BAD_HPARAMS: dict[str, tuple[dict[str, pb.HParamValue], tuple[str, ...]]] = {
    "unset value": ({"bad": pb.HParamValue()}, ("hparams['bad']", "no value")),
    "value of an unknown type": ({"bad": _unknown_kind()}, ("hparams['bad']", "no value")),
    "string of 8,193 characters": (
        {"bad": _hp(string_value="x" * 8193)},
        ("hparams['bad']", "8193", str(limits.MAX_HPARAM_STRING_LENGTH)),
    ),
    "string of 8,193 two-byte characters": (
        {"bad": _hp(string_value="é" * 8193)},
        ("hparams['bad']", "8193", str(limits.MAX_HPARAM_STRING_LENGTH)),
    ),
    "NUL in a string": ({"bad": _hp(string_value="a\x00b")}, ("hparams['bad']", "NUL")),
    "NUL in a name": ({"a\x00b": _hp(int_value=1)}, ("hparams name", "'\\x00'")),
    "empty name": ({"": _hp(int_value=1)}, ("hparams name", "empty")),
    "name of 257 characters": ({"n" * 257: _hp(int_value=1)}, ("hparams name", "257", "256")),
    "1,001 hparams": (
        {f"h{i}": _hp(int_value=i) for i in range(limits.MAX_HPARAMS_PER_REQUEST + 1)},
        ("hparams has", "entries", f"the limit is {limits.MAX_HPARAMS_PER_REQUEST}"),
    ),
}


def test_bad_hparams_are_refused_by_set_hparams_and_nothing_of_the_request_is_stored(stubs: Stubs) -> None:
    before = {"lr": _hp(float_value=0.1), "ok": _hp(int_value=1)}
    run_id = stubs.runs.CreateRun(
        pb.CreateRunRequest(project="p", name="r", hparams=before), timeout=TIMEOUT
    ).run.id

    def check(case: str) -> None:
        bad, words = BAD_HPARAMS[case]
        request = pb.SetHParamsRequest(
            run_id=run_id, hparams={"ok": _hp(int_value=2), "new": _hp(bool_value=True), **bad}
        )
        rpc_error(
            lambda: stubs.runs.SetHParams(request, timeout=TIMEOUT), grpc.StatusCode.INVALID_ARGUMENT, *words
        )
        assert dict(stubs.runs.GetRun(pb.GetRunRequest(run_id=run_id), timeout=TIMEOUT).run.hparams) == before

    each_case(BAD_HPARAMS, check)
    # At the limits: 1,000 per request, 8,192 characters of any width.
    at_limits = {f"h{i}": _hp(int_value=i) for i in range(limits.MAX_HPARAMS_PER_REQUEST - 2)}
    at_limits |= {"wide": _hp(string_value="🙂" * 8192), "../../etc/passwd": _hp(string_value="%2e%2e/")}
    response = stubs.runs.SetHParams(pb.SetHParamsRequest(run_id=run_id, hparams=at_limits), timeout=TIMEOUT)
    assert dict(response.run.hparams) == before | at_limits


def test_bad_hparams_are_refused_by_create_run_and_create_nothing(stubs: Stubs) -> None:
    """The cases test_ingest_contract.BAD_CREATES does not cover."""
    cases = (
        "value of an unknown type",
        "1,001 hparams",
        "NUL in a name",
        "string of 8,193 two-byte characters",
    )

    def check(case: str) -> None:
        bad, words = BAD_HPARAMS[case]
        request = pb.CreateRunRequest(project="p", name="r", hparams={"ok": _hp(int_value=1), **bad})
        rpc_error(
            lambda: stubs.runs.CreateRun(request, timeout=TIMEOUT), grpc.StatusCode.INVALID_ARGUMENT, *words
        )
        assert list(stubs.runs.ListProjects(pb.ListProjectsRequest(), timeout=TIMEOUT).projects) == []

    each_case(dict.fromkeys(cases), check)


# ---------------------------------------------------------------------------------------------
# Limits


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field, byte for byte."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_a_histogram_over_the_bucket_limit_is_refused_naming_both(stubs: Stubs) -> None:
    run_id = stubs.runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id
    n = limits.MAX_HISTOGRAM_BUCKETS + 1
    over = hist(0, tuple(float(i) for i in range(n)), (1.0,) * n)
    message = batch(run_id, 1, col("good", [0]), histograms=(hcol("ok", hist(0)), hcol("big", hist(1), over)))
    rpc_error(
        lambda: write(stubs, message),
        grpc.StatusCode.INVALID_ARGUMENT,
        "histograms[1].histograms[1]",
        f"{n} buckets",
        f"limit is {limits.MAX_HISTOGRAM_BUCKETS}",
    )
    assert tags(stubs, run_id) == []
    assert cursor(stubs, run_id, "w") == 0


def test_a_batch_over_the_points_limit_is_refused_naming_it(stubs: Stubs) -> None:
    """Scalars cost 24 bytes a point, so only entries reach 1,000,000 points under the 8 MiB message
    limit: 1,000,001 empty histograms (2 bytes each, 2 MB) after two valid scalar points. Decoding
    that many takes the server ~20 s; it counts them first and refuses at once."""
    run_id = stubs.runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id
    n = limits.MAX_POINTS_PER_BATCH + 1
    head = batch(run_id, 1, col("good", [0, 1])).SerializeToString()
    payload = head + _field(5, _field(1, b"h") + b"\x12\x00" * n)  # HistogramColumn(tag="h", n empty ones)
    assert len(payload) < limits.MAX_MESSAGE_BYTES
    code, details = call_raw(stubs.channel, METHODS["IngestService.WriteOne"], [payload])
    assert code == grpc.StatusCode.INVALID_ARGUMENT, (code, details)
    assert "points" in details and f"{n + 2}" in details and f"{limits.MAX_POINTS_PER_BATCH}" in details
    assert tags(stubs, run_id) == []
    assert cursor(stubs, run_id, "w") == 0


def test_a_message_over_the_size_limit_names_the_limit_and_sets_nothing(stubs: Stubs) -> None:
    run_id = stubs.runs.CreateRun(
        pb.CreateRunRequest(project="p", name="r", hparams={"lr": _hp(float_value=0.1)}), timeout=TIMEOUT
    ).run.id
    big = {f"h{i}": _hp(string_value="x" * limits.MAX_HPARAM_STRING_LENGTH) for i in range(1030)}
    request = pb.SetHParamsRequest(run_id=run_id, hparams=big)
    assert request.ByteSize() > limits.MAX_MESSAGE_BYTES
    rpc_error(
        lambda: stubs.runs.SetHParams(request, timeout=TIMEOUT),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        str(limits.MAX_MESSAGE_BYTES),
    )
    run = stubs.runs.GetRun(pb.GetRunRequest(run_id=run_id), timeout=TIMEOUT).run
    assert dict(run.hparams) == {"lr": _hp(float_value=0.1)}


def test_a_seq_past_the_signed_64_bit_range_is_refused(stubs: Stubs) -> None:
    run_id = stubs.runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id
    for seq in (2**63, 2**64 - 1):  # a uint64 on the wire; the cursor is a signed BIGINT
        rpc_error(
            lambda seq=seq: write(stubs, batch(run_id, seq, col("x", [0]))),
            grpc.StatusCode.INVALID_ARGUMENT,
            "seq",
            str(MAX_SEQ),
        )
    assert tags(stubs, run_id) == []
    assert cursor(stubs, run_id, "w") == 0
    assert write(stubs, batch(run_id, 1, col("x", [0]))).duplicate is False  # the cursor did not move


NUL_NAMES: dict[str, tuple[Callable[[Stubs, str], object], tuple[str, ...]]] = {
    "project": (
        lambda s, run: s.runs.CreateRun(pb.CreateRunRequest(project="a\x00b", name="r"), timeout=TIMEOUT),
        ("project", "'\\x00'"),
    ),
    "run name": (
        lambda s, run: s.runs.CreateRun(pb.CreateRunRequest(project="p", name="a\x00b"), timeout=TIMEOUT),
        ("name", "'\\x00'"),
    ),
    "scalar tag": (lambda s, run: write(s, batch(run, 1, col("a\x00b", [0]))), ("scalars[0].tag", "'\\x00'")),
    "histogram tag": (
        lambda s, run: write(s, batch(run, 1, histograms=(hcol("a\x00b", hist()),))),
        ("histograms[0].tag", "'\\x00'"),
    ),
    "text tag": (
        lambda s, run: write(
            s,
            pb.WriteBatch(
                run_id=run, writer_id="w", seq=1, texts=[pb.TextColumn(tag="\x00", texts=[pb.Text()])]
            ),
        ),
        ("texts[0].tag", "'\\x00'"),
    ),
    "writer_id": (lambda s, run: write(s, batch(run, 1, col("x", [0]), writer="w\x00")), ("writer_id",)),
    "run_id of SetHParams": (
        lambda s, run: s.runs.SetHParams(
            pb.SetHParamsRequest(run_id=run + "\x00", hparams={"a": _hp(int_value=1)}), timeout=TIMEOUT
        ),
        ("run_id",),
    ),
    "run_id of FinishRun": (
        lambda s, run: s.runs.FinishRun(
            pb.FinishRunRequest(run_id="\x00" + run, status=pb.RUN_STATUS_FINISHED), timeout=TIMEOUT
        ),
        ("run_id",),
    ),
    "run_id of PurgeSteps": (
        lambda s, run: s.runs.PurgeSteps(pb.PurgeStepsRequest(run_id=run + "\x00"), timeout=TIMEOUT),
        ("run_id",),
    ),
}


def test_a_nul_in_any_name_is_invalid_argument_naming_the_field(stubs: Stubs) -> None:
    """PostgreSQL cannot store NUL in text at all: the server must refuse it before the database does."""
    run_id = stubs.runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id
    write(stubs, batch(run_id, 1, col("x", [0]), writer="first"))

    def check(case: str) -> None:
        call, words = NUL_NAMES[case]
        rpc_error(lambda: call(stubs, run_id), grpc.StatusCode.INVALID_ARGUMENT, *words)

    each_case(NUL_NAMES, check)
    run = stubs.runs.GetRun(pb.GetRunRequest(run_id=run_id), timeout=TIMEOUT).run
    assert (run.status, dict(run.hparams)) == (pb.RUN_STATUS_RUNNING, {})
    assert tags(stubs, run_id) == [(pb.SERIES_KIND_SCALAR, "x", 1)]
    assert [p.name for p in stubs.runs.ListProjects(pb.ListProjectsRequest(), timeout=TIMEOUT).projects] == [
        "p"
    ]


# ---------------------------------------------------------------------------------------------
# Wire encodings a conformant protobuf encoder may produce


def _packed(number: int, fmt: str, items: Sequence[float]) -> bytes:
    return _field(number, np.asarray(items, dtype=fmt).tobytes())


def _column_bytes(tag: str, *parts: bytes) -> bytes:
    return _field(4, _field(1, tag.encode()) + b"".join(parts))  # WriteBatch.scalars


def test_an_array_that_is_not_whole_8_byte_values_is_refused_naming_it(stubs: Stubs) -> None:
    """Through the server's bytes view a packed array of 7 bytes is not a parse error; it must still
    be refused, naming the array."""
    run_id = stubs.runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id
    head = pb.WriteBatch(run_id=run_id, writer_id="w", seq=1).SerializeToString()
    good = _column_bytes("good", _packed(2, "<i8", [0]), _packed(3, "<f8", [1.0]), _packed(4, "<f8", [2.0]))
    torn = _column_bytes("x", _field(2, b"\x00" * 7), _packed(3, "<f8", [1.0]), _packed(4, "<f8", [2.0]))
    code, details = call_raw(stubs.channel, METHODS["IngestService.WriteOne"], [head + good + torn])
    assert code == grpc.StatusCode.INVALID_ARGUMENT, details
    assert "scalars[1].steps" in details and "8-byte" in details
    assert tags(stubs, run_id) == []


def test_unpacked_arrays_are_stored_whole_or_refused(stubs: Stubs) -> None:
    """Protobuf parsers must accept a packed field sent unpacked (one record per value). The server's
    bytes view does not see such values; it must then refuse the column, never store part of it."""
    run_id = stubs.runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id
    head = pb.WriteBatch(run_id=run_id, writer_id="w", seq=1).SerializeToString()

    def one_by_one(number: int, fmt: str, items: Sequence[float]) -> bytes:
        return b"".join(_varint(number << 3 | 1) + np.asarray([v], dtype=fmt).tobytes() for v in items)

    column = _column_bytes(
        "u",
        one_by_one(2, "<i8", [0, 1, 2]),
        one_by_one(3, "<f8", [1.0, 2.0, 3.0]),
        one_by_one(4, "<f8", [0.5, 1.5, 2.5]),
    )
    assert list(pb.WriteBatch.FromString(head + column).scalars[0].steps) == [0, 1, 2]  # well-formed
    code, details = call_raw(stubs.channel, METHODS["IngestService.WriteOne"], [head + column])
    if code == grpc.StatusCode.OK:
        assert scalars(stubs, run_id, "u")[0].tolist() == [0, 1, 2]
    else:
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "scalars[0]" in details, (code, details)
        assert tags(stubs, run_id) == []


def test_a_packed_array_split_into_several_records_is_stored_whole(stubs: Stubs) -> None:
    """A packed array may arrive as several records, which mean their concatenation (protobuf's
    encoding rules, and what concatenating two serialised messages means). The server's bytes view
    once kept only the last record: the first points were dropped and the batch acknowledged."""
    run_id = stubs.runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id
    head = pb.WriteBatch(run_id=run_id, writer_id="w", seq=1).SerializeToString()
    column = _column_bytes(
        "s",
        _packed(2, "<i8", [0, 1]),
        _packed(3, "<f8", [1.0, 2.0]),
        _packed(4, "<f8", [0.5, 1.5]),
        _packed(2, "<i8", [2]),
        _packed(3, "<f8", [3.0]),
        _packed(4, "<f8", [2.5]),
    )
    assert list(pb.WriteBatch.FromString(head + column).scalars[0].steps) == [0, 1, 2]  # what it means
    assert call_raw(stubs.channel, METHODS["IngestService.WriteOne"], [head + column]) == (
        grpc.StatusCode.OK,
        "",
    )
    steps, walls, got = scalars(stubs, run_id, "s")
    assert (steps.tolist(), walls.tolist(), got.tolist()) == ([0, 1, 2], [1.0, 2.0, 3.0], [0.5, 1.5, 2.5])
    assert tags(stubs, run_id) == [(pb.SERIES_KIND_SCALAR, "s", 3)]


@pytest.mark.parametrize("backend", ["sqlite"])  # decoding comes before any database work
def test_a_large_batch_does_not_stall_other_calls(stubs: Stubs, backend: str) -> None:
    """Decoding a batch is Python work in proportion to its entries (~20 us a histogram). Done on
    the event loop, as it once was, 60,000 empty histograms (120 KB) held up every other call for
    over a second; off the loop, other calls are answered meanwhile."""
    run_id = stubs.runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id
    n = 60_000  # under every limit; the empty writer_id makes it invalid, so nothing is stored
    payload = pb.WriteBatch(run_id=run_id, writer_id="", seq=1).SerializeToString()
    payload += _field(5, _field(1, b"h") + b"\x12\x00" * n)  # HistogramColumn(tag="h", n empty histograms)
    answered: list[tuple[grpc.StatusCode, str]] = []
    big = threading.Thread(
        target=lambda: answered.append(call_raw(stubs.channel, METHODS["IngestService.WriteOne"], [payload]))
    )
    waits = [0.0]
    began = time.monotonic()
    big.start()
    try:
        while big.is_alive():  # other calls, one after the other, while the big one is on the server
            started = time.monotonic()
            stubs.runs.GetRun(pb.GetRunRequest(run_id=run_id), timeout=TIMEOUT)
            waits.append(time.monotonic() - started)
    finally:
        big.join(TIMEOUT)
    took = time.monotonic() - began
    assert answered and answered[0][0] == grpc.StatusCode.INVALID_ARGUMENT, answered
    # Blocked, one call would wait nearly as long as the big one took; shared, each waits a little
    # (the decoding thread still holds the GIL most of the time).
    assert max(waits) < took / 2, f"GetRun waited {max(waits):.2f}s of the big call's {took:.2f}s"


# ---------------------------------------------------------------------------------------------
# The Python client


def test_the_client_refuses_on_the_callers_line_exactly_the_tags_the_server_would(address: str) -> None:
    """run.log() checks tag names where they are logged: a bad one is a ValueError naming the
    problem, and every tag it lets through is one the server stores (flush() would raise otherwise)."""
    accepted: list[str] = []
    with tracker.init(project="p", name="tags", server=address) as run:

        @given(tag=any_tags)
        @settings(max_examples=60, deadline=None)
        def log_one(tag: str) -> None:
            try:
                run.log({"ok": 1.0, tag: 2.0}, step=0)
            except ValueError as error:
                assert not name_ok(tag), (tag, error)
                assert str(error).startswith("tag ")
            else:
                assert name_ok(tag), tag
                accepted.append(tag)

        log_one()
        run.flush()
        with tracker.Api(server=address) as api:
            stored = {t.tag: t.summary.count for t in api.tags(run.id) if t.summary is not None}
    # Each accepted call logged "ok" once, and its tag once more unless that was "ok" too.
    others = [tag for tag in accepted if tag != "ok"]
    assert stored == {tag: others.count(tag) for tag in others} | {"ok": len(accepted)}


def test_integer_hparams_past_64_bits_are_a_value_error_before_anything_is_sent(
    stubs: Stubs, address: str
) -> None:
    for seed in (2**63, -(2**63) - 1, 10**30):
        with pytest.raises(ValueError, match=r"'seed'.*64 bits"):
            tracker.init(project="p", name="r", hparams={"ok": 1, "seed": seed}, server=address)
    assert list(stubs.runs.ListProjects(pb.ListProjectsRequest(), timeout=TIMEOUT).projects) == []
    with tracker.init(project="p", name="r", hparams={"lr": 0.1}, server=address) as run:
        with pytest.raises(ValueError, match=r"'seed'.*64 bits"):
            run.log_hparams({"ok": 2, "seed": 2**63})
        with pytest.raises(ValueError, match=r"'nested.seed'.*64 bits"):
            run.log_hparams({"ok": 2, "nested": {"seed": -(2**63) - 1}})
        run.log_hparams({"big": 2**63 - 1, "small": -(2**63)})  # the edges fit
        run.log({"loss": 1.0})
    with tracker.Api(server=address) as api:
        assert api.run(run.id).hparams == {"lr": 0.1, "big": 2**63 - 1, "small": -(2**63)}
        assert [t.tag for t in api.tags(run.id)] == ["loss"]


def test_a_string_hparam_over_the_limit_is_refused_on_the_callers_line_and_nothing_is_sent(
    stubs: Stubs, address: str
) -> None:
    """The client checks string hparams as the server would (docs/limits.md), in the server's words,
    so a bad value never reaches the run's queue, where it would hold up everything after it."""
    too_long = "x" * (limits.MAX_HPARAM_STRING_LENGTH + 1)
    with pytest.raises(ValueError, match=r"hparams\['s'\] is 8193 characters long; the limit is 8192"):
        tracker.init(project="p", name="r", hparams={"ok": 1, "s": too_long}, server=address)
    assert list(stubs.runs.ListProjects(pb.ListProjectsRequest(), timeout=TIMEOUT).projects) == []

    run = tracker.init(project="p", name="r", hparams={"lr": 0.1}, server=address, timeout=5)
    for bad in ({"ok": 2, "s": too_long}, {"s": "a\x00b"}, {f"h{i}": i for i in range(1001)}):
        with pytest.raises(
            ValueError, match=r"hparams(\['s'\] is 8193 characters|\['s'\] contains a NUL| has 1001)"
        ):
            run.log_hparams(bad)
    for step in range(3):
        run.log({"loss": float(step)})  # the training loop goes on
    run.finish()
    with tracker.Api(server=address) as api:
        assert api.run(run.id).hparams == {"lr": 0.1}
        assert api.scalars(run.id, "loss").values.tolist() == [0.0, 1.0, 2.0]
