from __future__ import annotations

import pytest

from openidv.errors import ModelUnavailableError
from openidv.models import REGISTRY, ModelRegistry, ModelSpec, get_model


def test_builtin_models_are_available() -> None:
    statuses = REGISTRY.check()
    assert {s.name for s in statuses} == {
        "retinaface",
        "dlib_shape5",
        "dlib_resnet",
        "dlib_hog",
        "rapidocr",
        "face_mesh",
    }
    assert all(s.available for s in statuses), [s.problem for s in statuses]


def test_loaded_once() -> None:
    assert get_model("dlib_resnet") is get_model("dlib_resnet")


def test_lazy_and_once_with_counting_loader() -> None:
    calls = []
    reg = ModelRegistry()
    reg.register(ModelSpec("m", "pkg==1", "test", lambda: "here", lambda: calls.append(1) or object()))
    assert calls == []
    first = reg.get("m")
    assert reg.get("m") is first and calls == [1]


def test_missing_package_names_it() -> None:
    reg = ModelRegistry()

    def locate() -> str:
        raise ModelUnavailableError("Python module 'nope' is missing: install the pip package nope-models==9.9")

    reg.register(ModelSpec("ghost", "nope-models==9.9", "absent", locate, lambda: None))
    with pytest.raises(ModelUnavailableError, match=r"nope-models==9\.9"):
        reg.get("ghost")
    with pytest.raises(ModelUnavailableError, match="nope-models"):
        reg.require()
    assert reg.check()[0].available is False
    with pytest.raises(ModelUnavailableError, match="unknown model"):
        reg.get("other")
