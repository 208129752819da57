"""Per-user token buckets on a fake clock: burst, one notice per refused burst, refill, independence, eviction."""

from __future__ import annotations

from answering.ratelimit import UserRateLimiter, Verdict
from tests.conftest import FakeClock

ALLOW, TELL, SILENT = Verdict.ALLOW, Verdict.REFUSE_AND_TELL, Verdict.REFUSE_SILENTLY


def checks(limiter: UserRateLimiter, user: int, count: int) -> list[Verdict]:
    return [limiter.check(user) for _ in range(count)]


def test_a_burst_is_allowed_then_refused(clock: FakeClock) -> None:
    limiter = UserRateLimiter(burst=3, per_second=1.0, clock=clock)
    assert checks(limiter, 1, 3) == [ALLOW] * 3
    assert limiter.check(1) is TELL


def test_the_user_is_told_once_per_refused_burst_then_silence(clock: FakeClock) -> None:
    limiter = UserRateLimiter(burst=2, per_second=1.0, clock=clock)
    assert checks(limiter, 1, 6) == [ALLOW, ALLOW, TELL, SILENT, SILENT, SILENT]
    # Half a token is not enough: still refused, and still silently (this burst was already told).
    clock.advance(0.5)
    assert limiter.check(1) is SILENT
    clock.advance(0.5)
    # One token back: allowed; the next flood is a new burst and is told once again.
    assert checks(limiter, 1, 4) == [ALLOW, TELL, SILENT, SILENT]


def test_tokens_come_back_at_per_second_up_to_the_burst(clock: FakeClock) -> None:
    limiter = UserRateLimiter(burst=5, per_second=2.0, clock=clock)
    assert checks(limiter, 1, 5) == [ALLOW] * 5
    clock.advance(1.0)  # 2 tokens
    assert checks(limiter, 1, 3) == [ALLOW, ALLOW, TELL]
    clock.advance(0.25)  # half a token
    assert limiter.check(1) is SILENT
    clock.advance(0.25)  # the half token from the refused check above is kept: one whole token now
    assert checks(limiter, 1, 2) == [ALLOW, TELL]
    clock.advance(3600.0)  # an hour of quiet refills the bucket to the burst, not beyond
    assert checks(limiter, 1, 6) == [ALLOW] * 5 + [TELL]


def test_a_steady_rate_at_per_second_is_never_refused(clock: FakeClock) -> None:
    limiter = UserRateLimiter(burst=1, per_second=4.0, clock=clock)
    for _ in range(100):
        assert limiter.check(1) is ALLOW
        clock.advance(0.25)


def test_users_are_independent(clock: FakeClock) -> None:
    limiter = UserRateLimiter(burst=2, per_second=1.0, clock=clock)
    assert checks(limiter, 1, 4) == [ALLOW, ALLOW, TELL, SILENT]
    # A flooding user neither uses up nor silences anyone else.
    assert checks(limiter, 2, 3) == [ALLOW, ALLOW, TELL]
    assert limiter.check(1) is SILENT
    clock.advance(1.0)
    assert checks(limiter, 2, 2) == [ALLOW, TELL]
    assert checks(limiter, 1, 2) == [ALLOW, TELL]


def test_the_least_recently_seen_user_is_forgotten_beyond_max_users(clock: FakeClock) -> None:
    limiter = UserRateLimiter(burst=1, per_second=1.0, max_users=2, clock=clock)  # the clock never moves: no refill
    assert limiter.check(1) is ALLOW
    assert limiter.check(2) is ALLOW
    assert limiter.check(1) is TELL  # user 1 is now the most recently seen, even though refused
    assert limiter.check(3) is ALLOW  # a third user: user 2, the least recently seen, is forgotten
    assert limiter.check(1) is SILENT  # user 1 was kept, with its empty bucket and its "told"
    assert limiter.check(2) is ALLOW  # user 2 starts again with a full bucket; user 3 is forgotten
    assert limiter.check(1) is SILENT
    assert limiter.check(3) is ALLOW


def test_a_new_user_is_never_the_one_evicted(clock: FakeClock) -> None:
    limiter = UserRateLimiter(burst=1, per_second=1.0, max_users=1, clock=clock)
    assert limiter.check(1) is ALLOW
    assert limiter.check(2) is ALLOW
    assert limiter.check(2) is TELL  # user 2 was remembered
    assert limiter.check(1) is ALLOW  # user 1 was not
