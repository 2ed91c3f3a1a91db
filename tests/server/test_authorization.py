"""Authentication and authorization of every method of every service, on both databases, through a
real server run with ``--auth token``.

The methods come from the proto descriptors, so a method added later is in the matrix at once, and
one without an ``(tracker.v1.access)`` rule fails ``test_every_method_declares_a_rule``.

The team: ``root`` (server admin); in project ``alpha``, ``alice`` (admin), ``carol`` (writer),
``bob`` and ``erin`` (viewers); ``dave`` is admin of project ``beta`` only.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import MethodDescriptor

import tracker_client as tracker
from tests.conftest import BACKENDS, TokenScan, fresh_database_url
from tracker_client._proto import tracker_pb2 as pb
from tracker_client._proto import tracker_pb2_grpc as pb_grpc
from tracker_client.errors import PermissionDeniedError, UnauthenticatedError
from tracker_server.app import ServerThread
from tracker_server.domain import members, users
from tracker_server.domain.access import Action
from tracker_server.services.auth import rule_for
from tracker_server.store.engine import Database

TIMEOUT = 10.0
METHODS: list[MethodDescriptor] = [
    method for service in pb.DESCRIPTOR.services_by_name.values() for method in service.methods
]
DENIED = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}


@dataclass
class Team:
    server: ServerThread
    db: Database
    tokens: dict[str, str]  # user -> secret
    bad_tokens: dict[str, str]  # kind -> a token that must not authenticate
    alpha_run: str
    spare_run: str
    spare_token_id: int
    log: list[str] = field(default_factory=list)

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.server.address)


class _Capture(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # the message, arguments and any traceback


@pytest.fixture(scope="module", params=BACKENDS)
def team(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    urls = fresh_database_url(request.param, request, tmp_path_factory.mktemp("team"))
    url = next(urls)
    db = Database(url, pool_size=4)
    for name in ("alice", "bob", "carol", "dave", "erin"):
        users.create_user(db, name)
    users.create_user(db, "root", admin=True)
    members.create_project(db, "alpha", owner="alice")
    members.grant(db, "alpha", "carol", "writer")
    members.grant(db, "alpha", "bob", "viewer")
    members.grant(db, "alpha", "erin", "viewer")
    members.create_project(db, "beta", owner="dave")
    tokens = {name: users.create_token(db, name)[0] for name in ("root", "alice", "bob", "carol", "dave")}
    expired, _ = users.create_token(db, "alice", name="expired", expires_in=-dt.timedelta(seconds=1))
    revoked, revoked_info = users.create_token(db, "alice", name="revoked")
    users.revoke_token(db, revoked_info.id)
    _, spare = users.create_token(db, "bob", name="spare")
    unknown = "trk_" + "A" * 43
    bad = {"expired": expired, "revoked": revoked, "unknown": unknown, "malformed": "trk_short"}

    lines: list[str] = []
    capture = _Capture(lines)
    logger = logging.getLogger()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(capture)
    with ServerThread(db, auth="token") as server:
        with grpc.insecure_channel(server.address) as channel:
            admin = [("authorization", f"Bearer {tokens['root']}")]
            create = channel.unary_unary(
                "/tracker.v1.RunService/CreateRun",
                request_serializer=pb.CreateRunRequest.SerializeToString,
                response_deserializer=pb.CreateRunResponse.FromString,
            )
            alpha_run = create(pb.CreateRunRequest(project="alpha", name="r1"), metadata=admin).run.id
            spare_run = create(pb.CreateRunRequest(project="alpha", name="spare"), metadata=admin).run.id
        try:
            yield Team(server, db, tokens, bad, alpha_run, spare_run, spare.id, lines)
        finally:
            logger.removeHandler(capture)
            logger.setLevel(previous)
    db.dispose()
    next(urls, None)


def request_for(method: MethodDescriptor, team: Team, *, project: str = "alpha", run_id: str = "") -> Any:
    """A well-formed request of the method's type aimed at ``project`` (or one of its runs)."""
    cls = message_factory.GetMessageClass(method.input_type)
    fields = method.input_type.fields_by_name
    values: dict[str, Any] = {}
    if "project" in fields:
        values["project"] = project
    if "run_id" in fields:
        values["run_id"] = run_id or team.alpha_run
    if "run_ids" in fields:
        values["run_ids"] = [run_id or team.alpha_run]
    values.update(
        {
            "CreateRun": {"name": "made-by-matrix"},
            "FinishRun": {"status": pb.RUN_STATUS_FINISHED},
            "ReadScalars": {"tag": "loss"},
            "ReadScalarsMany": {"tags": ["loss"]},
            "ReadHistograms": {"tag": "w"},
            "ReadDistributions": {"tag": "w"},
            "ReadPrCurves": {"tag": "pr"},
            "ReadTexts": {"tag": "t"},
            "Write": {"writer_id": "matrix", "seq": 1},
            "WriteOne": {"writer_id": "matrix", "seq": 1},
            "GetCursor": {"writer_id": "matrix"},
            "GetImportance": {"metric": "loss"},
            "CreateUser": {"name": "zed"},
            "CreateToken": {"user": "bob"},
            "RevokeToken": {"id": team.spare_token_id},
            "CreateProject": {"owner": "alice"},
            "SetMember": {"user": "bob", "role": pb.ROLE_VIEWER},
            "RemoveMember": {"user": "erin"},
        }.get(method.name, {})
    )
    return cls(**values)


def call(team: Team, method: MethodDescriptor, request: Any, metadata: list[tuple[str, str]]) -> grpc.Call:
    """Make the call whatever its kind; the finished call (code() and details())."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    response_cls = message_factory.GetMessageClass(method.output_type)
    kwargs = {
        "request_serializer": type(request).SerializeToString,
        "response_deserializer": response_cls.FromString,
    }
    with team.channel() as channel:
        if method.client_streaming and method.server_streaming:
            stream = channel.stream_stream(path, **kwargs)(
                iter([request]), metadata=metadata, timeout=TIMEOUT
            )
            try:
                for _ in stream:
                    pass
            except grpc.RpcError:
                pass
            return stream
        if method.server_streaming:
            stream = channel.unary_stream(path, **kwargs)(request, metadata=metadata, timeout=TIMEOUT)
            try:
                for _ in stream:
                    pass
            except grpc.RpcError:
                pass
            return stream
        try:
            _, done = channel.unary_unary(path, **kwargs).with_call(
                request, metadata=metadata, timeout=TIMEOUT
            )
        except grpc.RpcError as error:
            assert isinstance(error, grpc.Call)
            return error
        return done


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def _ids(methods: list[MethodDescriptor]) -> list[str]:
    return [f"{m.containing_service.name}.{m.name}" for m in methods]


def test_every_method_declares_a_rule() -> None:
    rules = {method.full_name: rule_for(method) for method in METHODS}  # raises for a method without one
    assert rules["tracker.v1.RunService.ListRuns"].action is Action.READ
    assert rules["tracker.v1.IngestService.Write"].action is Action.WRITE
    assert rules["tracker.v1.RunService.DeleteRun"].action is Action.MANAGE
    assert rules["tracker.v1.AdminService.CreateToken"].action is Action.SERVER_ADMIN
    assert rules["tracker.v1.ReadService.ReadScalarsMany"].field == "run_ids"


def test_a_method_without_a_rule_is_refused() -> None:
    """What happens to a method someone adds to tracker.proto without an access option."""
    file = descriptor_pb2.FileDescriptorProto(name="unguarded.proto", package="unguarded", syntax="proto3")
    file.message_type.add(name="Request").field.add(
        name="project", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING
    )
    file.message_type.add(name="Response")
    service = file.service.add(name="Service")
    service.method.add(name="Peek", input_type=".unguarded.Request", output_type=".unguarded.Response")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    method = pool.FindServiceByName("unguarded.Service").methods_by_name["Peek"]
    with pytest.raises(ValueError, match=r"unguarded.Service.Peek declares no \(tracker.v1.access\) option"):
        rule_for(method)


@pytest.mark.parametrize("method", METHODS, ids=_ids(METHODS))
def test_every_method_refuses_a_missing_or_invalid_token(team: Team, method: MethodDescriptor) -> None:
    request = request_for(method, team)
    cases: dict[str, list[tuple[str, str]]] = {
        "no token": [],
        "not a bearer header": [("authorization", f"Basic {team.tokens['root']}")],
        "empty bearer": [("authorization", "Bearer ")],
        **{kind: bearer(token) for kind, token in team.bad_tokens.items()},
    }
    for case, metadata in cases.items():
        done = call(team, method, request, metadata)
        assert done.code() == grpc.StatusCode.UNAUTHENTICATED, (case, done.details())
        for secret in (*team.bad_tokens.values(), *team.tokens.values()):
            assert secret not in (done.details() or ""), case
    assert "tracker admin token create" in call(team, method, request, []).details()


@pytest.mark.parametrize("method", METHODS, ids=_ids(METHODS))
def test_another_teams_project_is_permission_denied_whether_or_not_it_exists(
    team: Team, method: MethodDescriptor
) -> None:
    action = rule_for(method).action
    for project in ("alpha", "no-such-project"):
        done = call(team, method, request_for(method, team, project=project), bearer(team.tokens["dave"]))
        if action is Action.SIGNED_IN:
            assert done.code() == grpc.StatusCode.OK, done.details()
            continue
        assert done.code() == grpc.StatusCode.PERMISSION_DENIED, (project, done.details())
        if action is not Action.SERVER_ADMIN and rule_for(method).field == "project":
            # The same words for a project that exists and one that does not: nothing is disclosed.
            assert done.details() == (
                f"'dave' is not a member of project {project!r}; a project admin can grant a role with "
                f"`tracker admin project grant {project} dave {action.value}`"
            )


BELOW = {Action.WRITE: "bob", Action.MANAGE: "carol", Action.SERVER_ADMIN: "alice"}
LEAST = {Action.SIGNED_IN: "dave", Action.READ: "bob", Action.WRITE: "carol", Action.MANAGE: "alice"}


@pytest.mark.parametrize("method", METHODS, ids=_ids(METHODS))
def test_a_role_below_the_rule_is_denied_and_the_least_role_is_let_through(
    team: Team, method: MethodDescriptor
) -> None:
    action = rule_for(method).action
    if action in BELOW:
        done = call(team, method, request_for(method, team), bearer(team.tokens[BELOW[action]]))
        assert done.code() == grpc.StatusCode.PERMISSION_DENIED, done.details()
    # The least role (and a server admin) gets past authorization; the call itself may still say
    # NOT_FOUND or INVALID_ARGUMENT about the (deliberately minimal) request.
    run = team.spare_run if method.name in ("DeleteRun", "FinishRun", "PurgeSteps") else ""
    project = "gamma" if method.name == "CreateProject" else "alpha"
    for user in {LEAST.get(action, "root"), "root"}:
        request = request_for(method, team, project=project, run_id=run)
        if method.name == "CreateUser":
            request.name = f"zed-{user}"
        if method.name == "CreateProject":
            request.project = f"gamma-{user}"
        done = call(team, method, request, bearer(team.tokens[user]))
        assert done.code() not in DENIED, (user, done.code(), done.details())


def test_listings_show_only_the_callers_projects(team: Team) -> None:
    for user, expected in (("dave", ["beta"]), ("bob", ["alpha"]), ("root", None)):
        with tracker.Api(server=team.server.address, token=team.tokens[user]) as api:
            names = [p.name for p in api.projects()]
            assert api.whoami() == user
        if expected is None:
            assert {"alpha", "beta"} <= set(names)
        else:
            assert names == expected


def test_runs_record_who_created_them_and_a_new_project_needs_a_server_admin(team: Team) -> None:
    run = tracker.init(
        project="alpha", name="by-carol", server=team.server.address, token=team.tokens["carol"]
    )
    run.log({"loss": 1.0}, step=0)
    run.finish()
    with tracker.Api(server=team.server.address, token=team.tokens["bob"]) as api:
        (found,) = [r for r in api.runs("alpha") if r.name == "by-carol"]
        assert found.created_by == "carol"
        assert api.scalars(found.id, "loss").values.tolist() == [1.0]
        with pytest.raises(
            PermissionDeniedError, match="managing project 'alpha' needs the admin role; 'bob' is a viewer"
        ):
            api.delete_run(found.id)
    denied = pytest.raises(PermissionDeniedError, match="'carol' is not a member of project 'brand-new'")
    with tracker.Api(server=team.server.address, token=team.tokens["carol"]) as api, denied:
        api._connection.call(
            api._connection.runs.CreateRun, pb.CreateRunRequest(project="brand-new", name="x")
        )
    with tracker.Api(server=team.server.address, token=team.tokens["root"]) as api:
        api._connection.call(
            api._connection.runs.CreateRun, pb.CreateRunRequest(project="root-made", name="x")
        )
        (made,) = api.runs("root-made")
        assert made.created_by == "root"
    assert members.members(team.db, "root-made") == [("root", "admin")]


def test_a_client_without_a_token_is_told_how_to_get_one(team: Team) -> None:
    with tracker.Api(server=team.server.address) as api, pytest.raises(UnauthenticatedError) as caught:
        api.projects()
    assert "TRACKER_TOKEN" in str(caught.value) and "tracker admin token create" in str(caught.value)


def test_a_revoked_token_stops_an_open_ingest_stream_at_its_next_batch(team: Team) -> None:
    secret, info = users.create_token(team.db, "carol", name="streaming")
    requests: queue.Queue[pb.WriteBatch | None] = queue.Queue()

    def batches() -> Iterator[pb.WriteBatch]:
        while (batch := requests.get()) is not None:
            yield batch

    def batch(seq: int) -> pb.WriteBatch:
        column = pb.ScalarColumn(tag="revocation", steps=[seq], wall_times=[1.0], values=[float(seq)])
        return pb.WriteBatch(run_id=team.alpha_run, writer_id="revocation", seq=seq, scalars=[column])

    with team.channel() as channel:
        write = channel.stream_stream(
            "/tracker.v1.IngestService/Write",
            request_serializer=pb.WriteBatch.SerializeToString,
            response_deserializer=pb.WriteAck.FromString,
        )
        stream = write(batches(), metadata=bearer(secret), timeout=TIMEOUT)
        requests.put(batch(1))
        assert next(stream).seq == 1
        users.revoke_token(team.db, info.id)
        requests.put(batch(2))
        with pytest.raises(grpc.RpcError) as caught:
            next(stream)
        requests.put(None)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
    assert "revoked" in caught.value.details()  # type: ignore[attr-defined]
    with tracker.Api(server=team.server.address, token=team.tokens["bob"]) as api:
        assert api.scalars(team.alpha_run, "revocation").values.tolist() == [1.0]  # batch 2 not applied


def test_no_issued_token_appears_in_any_server_log_line(team: Team) -> None:
    """Runs last in this module's order: by then every method has been called with every token."""
    issued = [*team.tokens.values(), *team.bad_tokens.values()]
    assert team.log, "the capture saw no log line at all"
    for line in team.log:
        for secret in issued:
            assert secret not in line, line


def test_auth_none_is_refused_off_loopback_and_token_is_the_default_there(tmp_path: Path) -> None:
    from tracker_server.settings import ServerSettings

    assert ServerSettings(host="0.0.0.0").resolved_auth == "token"
    assert ServerSettings(host="127.0.0.1").resolved_auth == "none"
    assert ServerSettings(host="::1").resolved_auth == "none"
    assert ServerSettings(host="127.0.0.1", auth="token").resolved_auth == "token"
    with pytest.raises(ValueError, match=r"--auth none is refused on 0\.0\.0\.0.*tracker admin token create"):
        ServerSettings(host="0.0.0.0", auth="none")


def test_the_suite_wide_log_scan_recognises_a_token() -> None:
    """conftest's TokenScan watches every log line of the whole suite; this is what it catches."""
    scan = TokenScan()
    logger = logging.getLogger("tracker.scan-check")
    secret = "trk_" + "x" * 43
    scan.emit(logger.makeRecord(logger.name, logging.DEBUG, __file__, 1, "called with %s", (secret,), None))
    scan.emit(logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "no token here", (), None))
    assert scan.leaks == [f"tracker.scan-check DEBUG called with {secret}"]


def test_the_admin_service_does_what_the_cli_does(team: Team) -> None:
    """A server admin manages users, tokens and members over the wire; a project admin manages
    their project's members; the token made over the wire works at once and stops when revoked."""
    with team.channel() as channel:
        admin = pb_grpc.AdminServiceStub(channel)
        root = bearer(team.tokens["root"])
        admin.CreateUser(pb.CreateUserRequest(name="gina"), metadata=root, timeout=TIMEOUT)
        made = admin.CreateToken(
            pb.CreateTokenRequest(user="gina", name="ci", expires_in="2w"), metadata=root, timeout=TIMEOUT
        )
        assert made.secret.startswith("trk_") and len(made.secret) == 47
        assert (made.token.user, made.token.name, made.token.hint) == ("gina", "ci", made.secret[:8])
        assert made.token.HasField("expires_at") and not made.token.HasField("revoked_at")
        me = admin.WhoAmI(pb.WhoAmIRequest(), metadata=bearer(made.secret), timeout=TIMEOUT)
        assert (me.user, me.is_admin) == ("gina", False)
        listed = admin.ListTokens(pb.ListTokensRequest(user="gina"), metadata=root, timeout=TIMEOUT).tokens
        assert [(t.id, t.name) for t in listed] == [(made.token.id, "ci")]
        assert all(made.secret not in str(t) for t in listed)

        # alice administers alpha: she may give gina a role there, not in beta.
        alice = bearer(team.tokens["alice"])
        admin.SetMember(
            pb.SetMemberRequest(project="alpha", user="gina", role=pb.ROLE_WRITER),
            metadata=alice,
            timeout=TIMEOUT,
        )
        members_now = admin.ListMembers(
            pb.ListMembersRequest(project="alpha"), metadata=alice, timeout=TIMEOUT
        )
        assert ("gina", pb.ROLE_WRITER) in [(m.user, m.role) for m in members_now.members]
        with pytest.raises(grpc.RpcError) as caught:
            admin.SetMember(
                pb.SetMemberRequest(project="beta", user="gina", role=pb.ROLE_VIEWER),
                metadata=alice,
                timeout=TIMEOUT,
            )
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
        runs = pb_grpc.RunServiceStub(channel)
        run = runs.CreateRun(
            pb.CreateRunRequest(project="alpha", name="by-gina"),
            metadata=bearer(made.secret),
            timeout=TIMEOUT,
        ).run
        assert run.created_by == "gina"
        admin.RemoveMember(
            pb.RemoveMemberRequest(project="alpha", user="gina"), metadata=alice, timeout=TIMEOUT
        )

        admin.RevokeToken(pb.RevokeTokenRequest(id=made.token.id), metadata=root, timeout=TIMEOUT)
        with pytest.raises(grpc.RpcError) as caught:
            admin.WhoAmI(pb.WhoAmIRequest(), metadata=bearer(made.secret), timeout=TIMEOUT)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]

        admin.CreateProject(
            pb.CreateProjectRequest(project="gamma-wire", owner="gina"), metadata=root, timeout=TIMEOUT
        )
        assert members.members(team.db, "gamma-wire") == [("gina", "admin")]
        with pytest.raises(grpc.RpcError) as caught:
            admin.CreateToken(
                pb.CreateTokenRequest(user="gina", expires_in="soon"), metadata=root, timeout=TIMEOUT
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
        assert "90d" in caught.value.details()  # type: ignore[attr-defined]
