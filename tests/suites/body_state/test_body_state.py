"""Memory a test's body leaves for the tests after it, which no fixture names: a module's
cache filled by whichever test asks first, an lru_cache, and pymalloc's arenas, which a test
that keeps one object in each leaves resident for the next test's objects. In a full run
the first test pays for each; run alone, the others do."""
import functools

MB = 1 << 20
CACHE = {}
KEPT = []


def table():
    if "table" not in CACHE:
        CACHE["table"] = bytearray(b"c" * (64 * MB))  # every page written
    return CACHE["table"]


@functools.lru_cache(maxsize=None)
def squares():
    return bytearray(b"s" * (48 * MB))


def small_objects(mb):
    """mb MB of 200-byte objects, each in pymalloc's pools."""
    return [bytes(200) + bytes([i & 0xFF]) for i in range(mb * MB // 256)]


def test_a_fills_the_cache():
    assert table()[0] == ord("c")


def test_b_reads_the_cache():
    assert table()[-1] == ord("c")


def test_c_fills_the_lru_cache():
    assert squares()[0] == ord("s")


def test_d_reads_the_lru_cache():
    assert squares()[-1] == ord("s")


def test_e_leaves_arenas():
    objs = small_objects(64)
    KEPT.extend(objs[::1000])  # one object an arena or so: every arena stays resident
    assert len(objs) > 1000


def test_f_fills_arenas():
    objs = small_objects(48)
    assert objs[-1][-1] == (len(objs) - 1) & 0xFF


def test_g_small():
    assert sum(bytearray(2 * MB)) == 0
