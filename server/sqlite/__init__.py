"""The SQLite fast paths behind one seam: a write gate, reads and writes inline on the
event loop's thread, and WAL checkpoints (tests/db pins the private adapter surface they
rely on)."""
