# Some 40 MB of Python objects made at collection, before the copy that stands by is forked.
HEAP = [[i] for i in range(400_000)]
