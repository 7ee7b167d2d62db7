"""Cutting a document's text into overlapping chunks for retrieval.

Chunks of about `size` characters end at a paragraph, a sentence or a word boundary when
one is near, and the next chunk starts `overlap` characters earlier, so a passage cut in
two is still found whole in one of them. Offsets are in characters of the original text.
"""

from __future__ import annotations

from routeur_grpc.domain.documents import DocumentChunk

CHUNK_CHARS = 800
OVERLAP_CHARS = 120
_BOUNDARIES = ("\n\n", ". ", "! ", "? ", "\n", " ")


def chunk_text(text: str, size: int = CHUNK_CHARS, overlap: int = OVERLAP_CHARS) -> list[DocumentChunk]:
    """The chunks of `text` (none for blank text), in order."""
    chunks: list[DocumentChunk] = []
    start = 0
    length = len(text)
    while start < length:
        end = min(start + size, length)
        if end < length:
            end = _boundary(text, start + size // 2, end)
        piece = text[start:end]
        if piece.strip():
            chunks.append(DocumentChunk(start, piece))
        if end >= length:
            break
        start = max(end - overlap, start + 1)
        # Start on a word, not inside one.
        space = text.find(" ", start, end)
        if 0 <= space < end - 1:
            start = space + 1
    return chunks


def _boundary(text: str, earliest: int, latest: int) -> int:
    """The end of the chunk: just after the strongest boundary in [earliest, latest)."""
    for mark in _BOUNDARIES:
        at = text.rfind(mark, earliest, latest)
        if at >= 0:
            return at + len(mark)
    return latest
