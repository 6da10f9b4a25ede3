"""The verification guard under sleeping, spinning and memory-hungry verifiers, from threads and processes."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import time

import pytest

from thinkgym.rewards.guard import VerifierPool, guarded_verify, time_limited, VerifyTimeout
from thinkgym.rewards.verdict import InvalidAnswer, Verdict


def spin(problem, answer):
    x = 0
    while True:
        x += 1


def sleepy(problem, answer):
    time.sleep(float(answer))
    return 1.0


def swallowing(problem, answer):
    # A verifier whose own broad handler must not swallow the timeout.
    while True:
        try:
            sum(range(10_000))
        except Exception:
            pass


def hungry(problem, answer):
    blocks = []
    while True:
        blocks.append(bytearray(50 * 1024 * 1024))


def fine(problem, answer):
    if answer == "bad":
        raise InvalidAnswer("not a number")
    if answer == "bug":
        raise KeyError("oops")
    return Verdict(1.0, canonical=answer) if answer == problem else 0.0


def test_results_and_errors_pass_through():
    assert guarded_verify(fine, "7", "7") == (Verdict(1.0, canonical="7"), True)
    verdict, parsed = guarded_verify(fine, "7", "8")
    assert verdict.score == 0.0 and parsed
    verdict, parsed = guarded_verify(fine, "7", "bad")
    assert not parsed and "not a number" in verdict.reason
    verdict, parsed = guarded_verify(fine, "7", "bug")
    assert not parsed and "verifier error: KeyError" in verdict.reason


@pytest.mark.parametrize("verify", [spin, swallowing], ids=["spin", "swallowing"])
def test_time_limit_in_main_thread(verify):
    start = time.perf_counter()
    verdict, parsed = guarded_verify(verify, None, "", time_limit=0.2)
    assert time.perf_counter() - start < 1.0
    assert verdict.score == 0.0 and "longer than 0.2s" in verdict.reason and not parsed


def test_time_limit_in_worker_threads():
    with cf.ThreadPoolExecutor(4) as pool:
        start = time.perf_counter()
        results = list(pool.map(lambda _: guarded_verify(spin, None, "", time_limit=0.2), range(4)))
    assert time.perf_counter() - start < 2.0
    assert all(v.score == 0.0 and "longer than" in v.reason for v, _ in results)


def _in_child(queue):
    verdict, _ = guarded_verify(spin, None, "", time_limit=0.2)
    queue.put(verdict.reason)


def test_time_limit_in_a_forked_worker_process():
    guarded_verify(fine, "1", "1")  # start the watchdog in the parent first
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_in_child, args=(queue,))
    proc.start()
    assert "longer than" in queue.get(timeout=10)
    proc.join(5)


def test_no_stray_timeout_after_a_fast_block():
    for _ in range(200):
        with time_limited(0.001):
            pass
    time.sleep(0.05)  # a late alarm would raise here
    with pytest.raises(VerifyTimeout):
        with time_limited(0.05):
            time.sleep(1)


def test_pool_kills_sleepy_and_hungry_workers_and_recovers():
    with VerifierPool(1, time_limit=1.0, memory_limit_mb=300) as pool:
        pool.time_limit = 30  # the first job imports this test module in the worker
        assert pool.verify(sleepy, None, "0") == (Verdict(1.0, ""), True)
        pool.time_limit = 1.0
        start = time.perf_counter()
        verdict, parsed = pool.verify(sleepy, None, "30")
        assert time.perf_counter() - start < 3 and "longer than" in verdict.reason and not parsed
        verdict, parsed = pool.verify(hungry, None, "")
        assert verdict.score == 0.0 and not parsed
        assert pool.restarts >= 1
        assert pool.verify(sleepy, None, "0")[0].score == 1.0  # the replacement worker works


def test_pool_from_threads():
    with VerifierPool(2, time_limit=30) as pool:
        with cf.ThreadPoolExecutor(4) as ex:
            results = list(ex.map(lambda a: pool.verify(fine, "7", a), ["7", "8", "bad", "7"]))
    assert [v.score for v, _ in results] == [1.0, 0.0, 0.0, 1.0]


def test_pool_rejects_bad_settings():
    with pytest.raises(ValueError, match="workers"):
        VerifierPool(0)
