"""Turns engine reports into approve / reject / review with reasons (see :mod:`.policy`)."""

from openidv.decision.policy import DEFAULT_POLICY, Outcome, PolicyConfig, Recommendation, recommend

__all__ = ["DEFAULT_POLICY", "Outcome", "PolicyConfig", "Recommendation", "recommend"]
