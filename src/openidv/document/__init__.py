"""Document engine: locate, read (MRZ, PDF417, printed zone), cross-check and forensic checks.

The synthetic documents the tests and evaluations use live in :mod:`openidv.synth`.
"""
