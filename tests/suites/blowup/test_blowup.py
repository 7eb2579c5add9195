"""One test blows up; the ones around it must still run, and be reported once."""


def test_before():
    assert sum(range(10)) == 45


def test_blowup():
    hog = []
    while True:
        hog.append(bytearray(64 << 20))


def test_after_one():
    assert bytearray(10 << 20)


def test_after_two():
    assert "after" in "after two"
