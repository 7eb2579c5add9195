"""ANSWERS_ORDER=reversed runs the tests last to first."""
import os


def pytest_collection_modifyitems(items):
    if os.environ.get("ANSWERS_ORDER") == "reversed":
        items.reverse()
