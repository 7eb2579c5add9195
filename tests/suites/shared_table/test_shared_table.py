"""test_a builds the shared table; the others read it and allocate a little of their own."""


def test_a(table):
    assert table[0] == ord("t")


def test_b(table):
    mine = bytearray(b"b" * (2 << 20))
    assert table[-1] == ord("t") and mine[0] == ord("b")


def test_c(index):
    assert index[0] == ord("i")


def test_d(table, index):
    mine = bytearray(b"d" * (4 << 20))
    assert table[1] + index[1] + mine[1]
