"""openidv: open-source identity verification (document, liveness, face match)."""

__version__ = "0.1.0"
