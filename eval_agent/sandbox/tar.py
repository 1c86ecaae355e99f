"""Tar archives built in memory from (name, mode, data) entries: the engine's build contexts and
the files put into containers (put_archive)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable


def tar_archive(entries: Iterable[tuple[str, int, bytes]], mtime: int = 0) -> bytes:
    """Owners root, times `mtime`: a fixed time (the default) keeps a build context's layer cache
    valid across checkouts; files put into a running container take the current time."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, mode, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, mtime
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
