"""How strong a screen lattice seen both on the document and around it must be to count.

A screen shows the whole picture, the document and the table around it, through one
lattice of pixels: photographed, the lattice (or its moire against the camera's sensor)
is the same periodic pattern on the document and on its surroundings. Print stops at
the document's edge; a table, a hand or a sheet of paper carry no pattern at the
document's print frequencies. :func:`openidv.document.integrity._shared_lattice` measures
the smaller of the two peak prominences (natural log of the Welch power over its local
median, 128-px tiles) at one frequency, on the document and around it; this module says
how far above chance that value must lie.

Chance is what noise reaches: the largest prominence a Welch spectrum of ``n`` tiles of
white noise shows anywhere is about ``4.5 / sqrt(n)``
(:data:`openidv.document.integrity.SCREEN_NOISE_PROMINENCE`). The surroundings of a
genuine card photo are such noise at print frequencies, so the shared value of genuine
photos sits at that floor; a screen's surroundings rise above it at the lattice's
frequency, however faint the lattice is on the document, as long as both sides show it
at the same place. The limit is therefore a multiple of the floor for the number of
tiles around the document, and never above the fixed limit
(:data:`openidv.document.integrity.SCREEN_SHARED_THRESHOLD`), which still holds where few
tiles lie around it.

Measured on generated licence photos (seeds 211 and 223, :mod:`openidv.document.forgery`):
genuine fronts reach at most 1.17 times the floor (N=280; 1.05 on seed 211); the screen
recaptures that no other cue caught reach 1.40-1.76 times it in 6 of 18 (the others: a screen
filling the frame, no tiles around the document, or a lattice under 1.3 times the floor).
"""

from __future__ import annotations

#: The shared-lattice value fails above this multiple of the noise floor of the tiles around
#: the document (genuine generated fronts: at most 1.17; see the module docstring).
SHARED_LATTICE_FLOOR_FACTOR = 1.3


def shared_lattice_limit(outside_noise_floor: float, fixed_limit: float) -> float:
    """The prominence above which a peak shared by the document and its surroundings is a screen's.

    ``outside_noise_floor``: the largest prominence white noise reaches over the tiles
    taken around the document (:func:`openidv.document.integrity._noise_floor` of their
    count). Many tiles around the document give a low floor and so a lower limit,
    :data:`SHARED_LATTICE_FLOOR_FACTOR` times it; few tiles keep ``fixed_limit``.
    """
    if outside_noise_floor <= 0:
        return fixed_limit
    return min(fixed_limit, SHARED_LATTICE_FLOOR_FACTOR * outside_noise_floor)
