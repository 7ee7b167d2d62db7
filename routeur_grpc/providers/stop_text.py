"""Stop sequences for a model that has none of its own: generated text cut at the first one.

Text is sent as it comes, except its end when that could be the start of a stop sequence:
that part waits for the next piece, which either completes the sequence (the answer ends
before it) or shows it was not one (it is sent).
"""

from __future__ import annotations

from collections.abc import Sequence


class StopText:
    """Feeds generated text through; `stopped` once a stop sequence has appeared."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(stop for stop in stops if stop)
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """What of the text so far can be sent now (nothing more once `stopped`)."""
        if self.stopped:
            return ""
        if not self._stops:
            return text
        text = self._held + text
        found = [at for at in (text.find(stop) for stop in self._stops) if at >= 0]
        if found:
            self.stopped = True
            self._held = ""
            return text[: min(found)]
        held = self._longest_start(text)
        self._held = text[len(text) - held :]
        return text[: len(text) - held]

    def flush(self) -> str:
        """The text held back, once generation has ended without a stop sequence."""
        held, self._held = self._held, ""
        return "" if self.stopped else held

    def _longest_start(self, text: str) -> int:
        """Length of the longest end of `text` that begins a stop sequence."""
        longest = max(len(stop) for stop in self._stops) - 1
        for size in range(min(longest, len(text)), 0, -1):
            end = text[-size:]
            if any(stop.startswith(end) for stop in self._stops):
                return size
        return 0
