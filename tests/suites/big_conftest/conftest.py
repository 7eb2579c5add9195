"""120 MB held from import on, as a project that loads a big table or model at collection:
the command's own unit holds it, under --limit, never under the test limit."""
TABLE = bytearray(120 << 20)
TABLE[::4096] = b"\x01" * len(TABLE[::4096])  # touched: charged now, at import
