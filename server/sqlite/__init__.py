"""The SQLite fast paths behind one seam: a write gate, inline reads and WAL
checkpoints (tests/db pins the private adapter surface they rely on)."""
