"""Evaluation sets larger than memory: memory maps read in chunks, folders of shards, dask arrays.

``_reduce`` applies a per-chunk function and adds the results, so any metric
whose state is a sum over rows (:class:`~logitsviz.calibration.Summary`, the
temperature fit's NLL sums) works on all three sources in one pass.
"""

from __future__ import annotations

import mmap
import operator
import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from logitsviz import inputs
from logitsviz.errors import InputError

CHUNK_BYTES = 64 << 20  # rows read at a time from a file or a memory map


# ------------------------------------------------------- out of memory ----


class Shards:
    """An evaluation set stored as a folder of shards, read one shard at a time (see :func:`open_shards`)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        root = Path(folder)
        if not root.is_dir():
            raise InputError("calib.shards_missing", path=str(root))
        self.folder = root
        self.parts = _find_shards(root)  # (logits, labels file or None when inside an .npz)
        headers = [_shard_header(p) for p, _ in self.parts]
        shapes = [h[0] for h in headers]
        self.dtype = np.result_type(*[h[1] for h in headers])
        if len({s[1] for s in shapes}) != 1 or any(len(s) != 2 for s in shapes):
            raise InputError("calib.shards_classes", shapes=", ".join(str(s) for s in shapes[:5]))
        self.rows = sum(s[0] for s in shapes)
        self.classes = shapes[0][1]

    def __len__(self) -> int:
        return len(self.parts)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(logits, labels)`` of each shard in name order; an ``.npy`` shard as a read-only memory map."""
        for logits_path, labels_path in self.parts:
            if labels_path is None:
                with np.load(logits_path, allow_pickle=False) as npz:
                    yield npz["logits"], npz["labels"]
            else:
                yield np.load(logits_path, mmap_mode="r", allow_pickle=False), np.load(labels_path, allow_pickle=False)


def _find_shards(root: Path) -> list[tuple[Path, Path | None]]:
    parts: list[tuple[Path, Path | None]] = []
    for path in sorted(root.iterdir()):
        if path.suffix == ".npz":
            parts.append((path, None))
        elif path.suffix == ".npy" and not path.name.endswith(".labels.npy"):
            labels = path.with_name(path.stem + ".labels.npy")
            if not labels.is_file():
                raise InputError("calib.shard_labels", path=path.name, labels=labels.name)
            parts.append((path, labels))
    if not parts:
        raise InputError("calib.shards_empty", path=str(root))
    return parts


def _shard_header(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """A shard's logits shape and dtype from its header alone."""
    if path.suffix == ".npy":
        with open(path, "rb") as f:
            return inputs.npy_header(f)
    with zipfile.ZipFile(path) as zf:
        if not {"logits.npy", "labels.npy"} <= set(zf.namelist()):
            raise InputError("calib.shard_keys", path=path.name)
        with zf.open("logits.npy") as f:
            return inputs.npy_header(f)


def open_shards(folder: str | os.PathLike) -> Shards:
    """A folder of evaluation-set shards, for :func:`summarize`, :func:`fit_temperature` and every metric here.

    Each shard is an ``.npz`` with ``logits`` (rows, C) and ``labels`` (rows,),
    or a ``NAME.npy`` of logits beside ``NAME.labels.npy``; shards are taken in
    name order and must agree on C. Memory: one shard (an ``.npy`` shard is
    memory-mapped and read in chunks).
    """
    return Shards(folder)


def _is_dask(x) -> bool:
    return type(x).__module__.split(".")[0] == "dask"


def _out_of_memory(logits) -> bool:
    """Whether the logits are read in chunks: a memory map, a dask array or shards (not a plain array in memory)."""
    return isinstance(logits, (np.memmap, Shards)) or _is_dask(logits)


def _mapping(a: np.ndarray) -> mmap.mmap | None:
    base = a
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    return base


def _chunks(z: np.ndarray, y: np.ndarray, offset: int = 0,
            budget: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """``(rows of z, the same rows of y, first row)`` at most ``budget`` bytes of ``z`` (:data:`CHUNK_BYTES`) at a
    time; ``y`` is the labels, or another set of logits (the divergence module's second side). A memory map's pages
    are released (``MADV_DONTNEED``) once a chunk is done, so the process never holds more than one chunk of the file."""
    if z.ndim != 2 or z.shape[1] == 0:
        raise InputError("calib.shape", shape=z.shape)
    if np.shape(y)[0] != z.shape[0]:
        raise InputError("calib.labels_shape", n=z.shape[0], shape=np.shape(y))
    maps = [(a, m, np.frombuffer(m, np.uint8).__array_interface__["data"][0])
            for a in (z, y) if isinstance(a, np.memmap) and (m := _mapping(a)) is not None]
    step = max(1, (budget or CHUNK_BYTES) // max(1, z.shape[1] * z.itemsize))
    for i in range(0, z.shape[0], step):
        yield np.asarray(z[i:i + step]), np.asarray(y[i:i + step]), offset + i
        for a, mapped, start_address in maps:
            part = a[i:i + step]
            if part.flags.c_contiguous and part.nbytes:
                first = part.__array_interface__["data"][0] - start_address
                aligned = first - first % mmap.PAGESIZE
                mapped.madvise(mmap.MADV_DONTNEED, aligned, min(part.nbytes + first - aligned, len(mapped) - aligned))


def _reduce(logits, labels, work: Callable[[np.ndarray, np.ndarray, int], Any],
            progress: Callable[[int, int], None] | None = None):
    """``work(rows, labels, first_row)`` on every chunk of the set, added up with ``+``."""
    if _is_dask(logits):
        return _reduce_dask(logits, labels, work)
    if isinstance(logits, Shards):
        parts, total = iter(logits), logits.rows
    else:
        if labels is None:
            raise InputError("calib.no_labels")
        z = logits if isinstance(logits, np.memmap) else np.asarray(logits)
        if not isinstance(z, np.memmap):  # in memory: one chunk, the thread pool cuts it into blocks
            return work(z, labels, 0)
        parts, total = iter([(z, labels)]), z.shape[0]
    result, done = None, 0
    for z, y in parts:
        for rows, ys, first in _chunks(z, y, done):
            part = work(rows, ys, first)
            result = part if result is None else result + part
            if progress is not None:
                progress(first + rows.shape[0], total)
        done += z.shape[0]
    return result


def _reduce_dask(logits, labels, work):
    """One ``work`` per row block where the block lives, added up pairwise on the cluster: only sums travel."""
    import dask
    import dask.array as da

    z = logits.rechunk({1: -1})
    y = labels if _is_dask(labels) else da.from_array(np.asarray(labels))
    if y.shape[0] != z.shape[0]:
        raise InputError("calib.labels_shape", n=z.shape[0], shape=y.shape)
    y = y.rechunk({0: z.chunks[0], **{axis: -1 for axis in range(1, y.ndim)}})  # labels, or the other side's logits
    firsts = np.concatenate([[0], np.cumsum(z.chunks[0])[:-1]])
    parts = [dask.delayed(work)(zb, yb, int(first)) for zb, yb, first in zip(z.to_delayed().ravel(), y.to_delayed().ravel(), firsts)]
    while len(parts) > 1:
        parts = [dask.delayed(operator.add)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return dask.compute(parts[0])[0]
