"""Evaluation harnesses: labelled data in, error rates and timings out."""
