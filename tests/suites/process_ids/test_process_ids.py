"""Tests whose ids depend on the process: ids=repr of objects holds their addresses, so a
pytest started again collects them under other ids. A hog between them is OOM-killed."""
import pytest


class Setting:
    def __init__(self, n):
        self.n = n


RAN = []


@pytest.mark.parametrize("setting", [Setting(1), Setting(2)], ids=repr)
def test_before(setting):
    print(f"ran before {setting.n}")


def test_hog():
    blocks = []
    while True:
        blocks.append(bytearray(16 << 20))


@pytest.mark.parametrize("setting", [Setting(3), Setting(4)], ids=repr)
def test_after(setting):
    print(f"ran after {setting.n}")
