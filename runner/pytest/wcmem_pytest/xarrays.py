"""The xarray datasets a test leaves open, for its log entry ("Open xarray datasets: N")."""
import sys
import weakref


class XarrayTracker:
    """xarray datasets that are alive and not closed, counted once xarray is imported.

    A Dataset is not hashable (its __hash__ is None), so no WeakSet: each is kept by its
    id() with a weak reference whose callback drops it when the dataset dies. Datasets are
    made by Dataset.__init__ and, for most derived ones (open_dataset's, copy, isel),
    by Dataset._construct_direct, which skips __init__: both are watched. close() drops
    one too, so a closed dataset still referenced is not counted."""

    def __init__(self):
        self.live = {}
        self.patched = False

    def _add(self, ds):
        key, live = id(ds), self.live

        def gone(ref):
            if live.get(key) is ref:
                del live[key]

        try:
            live[key] = weakref.ref(ds, gone)
        except TypeError:  # an xarray without a __weakref__ slot: not counted
            pass

    def watch(self):
        xr = sys.modules.get("xarray")
        if xr is None or self.patched or not hasattr(xr, "Dataset"):
            return
        self.patched = True
        cls, add, live = xr.Dataset, self._add, self.live
        init, close = cls.__init__, getattr(cls, "close", None)

        def tracked_init(ds, *args, **kwargs):
            init(ds, *args, **kwargs)
            add(ds)

        cls.__init__ = tracked_init
        direct = cls.__dict__.get("_construct_direct")
        if isinstance(direct, classmethod):
            def tracked_direct(klass, *args, **kwargs):
                ds = direct.__func__(klass, *args, **kwargs)
                add(ds)
                return ds

            cls._construct_direct = classmethod(tracked_direct)
        if close is not None:
            def tracked_close(ds, *args, **kwargs):
                live.pop(id(ds), None)
                return close(ds, *args, **kwargs)

            cls.close = tracked_close

    def count(self):
        return sum(1 for ref in list(self.live.values()) if ref() is not None)
