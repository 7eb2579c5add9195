def pytest_configure(config):
    # The marker a two-phase run selects on (pytest -m memory_intensive): the bench's baseline.
    config.addinivalue_line("markers", "memory_intensive: a heavy test, run apart by hand")


def pytest_collection_modifyitems(items):
    """Heavy and light tests alternate, as in a suite where heavy ones are spread over its
    files: pytest-xdist hands each worker consecutive tests, so every worker starts with a
    heavy one."""
    heavy = [i for i in items if i.get_closest_marker("memory_intensive")]
    light = [i for i in items if not i.get_closest_marker("memory_intensive")]
    mixed = []
    while heavy or light:
        mixed += heavy[:1] + light[:1]
        heavy, light = heavy[1:], light[1:]
    items[:] = mixed
