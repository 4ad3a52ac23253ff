"""The engines hold no test-data code: no engine module imports :mod:`openidv.synth`.

Uses the import graph of ``tests/test_import_cycles.py`` (every import anywhere in a module,
function-level and ``TYPE_CHECKING`` imports included), so a generator pulled back into an
engine through a lazy import fails here too.
"""

from __future__ import annotations

from tests.test_import_cycles import import_graph

ENGINES = ("openidv.face", "openidv.document", "openidv.liveness", "openidv.decision")


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_engines_do_not_import_the_generators() -> None:
    graph = import_graph()
    offending = sorted(
        f"{name} -> {target}"
        for name, targets in graph.items()
        if any(_in(name, engine) for engine in ENGINES)
        for target in targets
        if _in(target, "openidv.synth")
    )
    assert offending == []


def test_the_check_sees_an_engine_importing_a_generator() -> None:
    """The graph names ``openidv.synth`` modules, so the test above can fail."""
    graph = import_graph()
    assert "openidv.synth.forgery" in graph["openidv.eval.forgery"]
    assert any(_in(t, "openidv.synth") for t in graph["openidv.synth.forgery"])
