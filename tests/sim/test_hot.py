"""`fnlb load --hot`: parsing PATH:RATE:EXEC and the merged chooser's share (pure, no sockets)."""

import random

import pytest

from fnlb.sim.load import Hot, function_paths, parse_hot, with_hot, zipf_chooser


def test_parse_hot():
    assert parse_hot("/r/app/hot:100:100ms") == Hot("/r/app/hot", 100.0, 100.0)
    assert parse_hot(" /r/app/hot : 2.5 : 0.25 ") == Hot("/r/app/hot", 2.5, 250.0)
    assert parse_hot("/r/app/a:b:10:1s") == Hot("/r/app/a:b", 10.0, 1000.0)  # ':' in the path
    assert parse_hot("") is None and parse_hot("  ") is None


@pytest.mark.parametrize("text, reason", [
    ("/r/app/hot", "PATH:RATE:EXEC"),
    ("/r/app/hot:100", "PATH:RATE:EXEC"),
    (":100:100ms", "PATH:RATE:EXEC"),
    ("/r/app/hot::100ms", "PATH:RATE:EXEC"),
    ("r/app/hot:100:100ms", "must start with /"),
    ("/r/app/hot?ms=3:100:100ms", "query"),
    ("/r/app/hot:fast:100ms", "rate 'fast' is not a number"),
    ("/r/app/hot:0:100ms", "positive"),
    ("/r/app/hot:-5:100ms", "positive"),
    ("/r/app/hot:nan:100ms", "positive"),
    ("/r/app/hot:100:soon", "exec"),
    ("/r/app/hot:100:-1ms", "exec"),
])
def test_parse_hot_rejects(text, reason):
    with pytest.raises(ValueError, match=reason.replace("?", r"\?")):
        parse_hot(text)


def test_without_hot_the_rate_and_chooser_are_unchanged():
    choose = zipf_chooser(function_paths(3), 1.0)
    assert with_hot(40.0, choose, None) == (40.0, choose)


def test_hot_share_is_its_rate_over_the_sum():
    mix = function_paths(20)
    rate, choose = with_hot(40.0, zipf_chooser(mix, 1.0), Hot("/r/app/hot", 100.0, 100.0))
    assert rate == 140.0
    rng = random.Random(1)
    draws = [choose(0.0, rng) for _ in range(20000)]
    hot = [q for p, q in draws if p == "/r/app/hot"]
    # 100 / 140 = 0.714; the binomial's standard deviation over 20000 draws is 0.0032
    assert abs(len(hot) / len(draws) - 100 / 140) < 0.015
    assert set(hot) == {"ms=100"}
    others = [p for p, q in draws if p != "/r/app/hot"]
    assert set(others) <= set(mix) and all(q == "" for p, q in draws if p != "/r/app/hot")
    # the mix keeps its own Zipf order among the remaining calls
    assert others.count("/r/app/fn1") > others.count("/r/app/fn2") > others.count("/r/app/fn20")


def test_hot_chooser_replays_with_the_same_seed():
    _, choose = with_hot(10.0, zipf_chooser(function_paths(5), 1.0), Hot("/r/x/hot", 10.0, 1.5))
    a, b = random.Random(7), random.Random(7)
    assert [choose(0.0, a) for _ in range(200)] == [choose(0.0, b) for _ in range(200)]
    assert ("/r/x/hot", "ms=1.5") in [choose(0.0, a) for _ in range(200)]
