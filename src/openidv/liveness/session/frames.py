"""The session's kept frames as a lazy sequence for the presentation-attack checks."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import overload

import numpy as np

from openidv.liveness.frame import decode_frame


class FrameSequence(Sequence[np.ndarray]):
    """The session's frames, decoded on access (JPEG bytes) with a small cache; slices stay lazy."""

    def __init__(self, items: list[bytes | np.ndarray], cache_size: int = 8) -> None:
        self._items = items
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> np.ndarray: ...

    @overload
    def __getitem__(self, index: slice) -> FrameSequence: ...

    def __getitem__(self, index: int | slice) -> np.ndarray | FrameSequence:
        if isinstance(index, slice):
            return FrameSequence(self._items[index], self._cache_size)
        i = range(len(self._items))[index]  # IndexError as for a list
        item = self._items[i]
        if isinstance(item, np.ndarray):
            return item
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        rgb = decode_frame(item)  # decoded once already when the frame arrived
        self._cache[i] = rgb
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return rgb
