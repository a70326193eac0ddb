"""Lines that native code writes to the process's standard error, kept back.

torch's TorchScript ONNX exporter warns from C++, through its own logger on file
descriptor 2 rather than through Python's ``warnings``, that ``prim::PackPadded`` and
``prim::PadPacked`` have no shape inference. The export does not need it (ONNX's LSTM
takes the sequence lengths itself; the export is tested equal to the network), so the
lines only alarm. :func:`without_lines` holds descriptor 2 in a temporary file while the
exporter runs and passes on every other line when it is done.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["without_lines"]


@contextmanager
def without_lines(*fragments: str) -> Iterator[None]:
    """Run the block with file descriptor 2 captured; afterwards write the captured lines
    that contain none of ``fragments`` to ``sys.stderr``. Where descriptor 2 cannot be
    duplicated (no standard error), the block runs as it is."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode("utf-8", "replace").splitlines(keepends=True):
                if not any(fragment in line for fragment in fragments):
                    sys.stderr.write(line)
