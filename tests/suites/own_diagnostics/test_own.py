"""Tests around one that its limit OOM-kills, with the project's own diagnostics on."""


def test_before():
    assert bytearray(8 << 20)


def test_blowup():
    hog = []
    while True:
        hog.append(bytearray(32 << 20))


def test_after():
    assert bytearray(8 << 20)
