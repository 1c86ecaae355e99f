"""Task families, one module per theme; each module lists its families in FAMILIES."""
