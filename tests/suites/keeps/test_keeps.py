"""A test that keeps what it allocated (a cache that grows): tracemalloc names the line."""
CACHE = []


def test_keeps_a_block():
    CACHE.append(bytearray(5 << 20))
