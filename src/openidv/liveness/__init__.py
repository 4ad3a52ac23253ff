"""Liveness engine: randomised challenge-response over live camera frames, presentation-attack checks."""
