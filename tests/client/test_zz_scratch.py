import time
import tracker_client as tracker
from .fake_server import FakeServer, wait_until

def test_overflow_step(address):
    with tracker.init(project="p", name="r", server=address) as run:
        run.log({"a": 1.0}, step=0)
        try:
            run.log({"a": 2.0}, step=2**63)
        except BaseException as e:
            print("EXC", type(e), e)
        run.log({"a": 3.0}, step=1)
    with tracker.Api(server=address) as api:
        s = api.scalars(run.id, "a")
        print(s.steps.tolist(), s.values.tolist())

def test_flush_after_finish(address):
    run = tracker.init(project="p", name="r", server=address)
    run.finish()
    t = time.monotonic()
    try:
        run.flush(timeout=2)
    except BaseException as e:
        print("EXC", type(e), e)
    print("took", time.monotonic() - t)

def test_stream_end():
    with FakeServer() as fake:
        fake.end_after = 1
        run = tracker.init(project="p", name="r", server=fake.address, flush_interval=0.05)
        run.log({"a": 1.0})
        run.flush(timeout=3)
        run.log({"a": 2.0})
        t = time.monotonic()
        try:
            run.flush(timeout=3)
        except BaseException as e:
            print("EXC", type(e), e)
        print("took", time.monotonic() - t, fake.write_calls, fake.received_seqs())
        try:
            run.finish(timeout=2)
        except BaseException as e:
            print("EXC", type(e), e)
