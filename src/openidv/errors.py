"""Typed errors raised by the engines.

Every error carries a stable machine-readable ``code`` (snake_case) so the CLI and
the service can turn it into a clear message or a 4xx response without parsing text.
"""

from __future__ import annotations


class OpenIDVError(Exception):
    """Base class of every error the engines raise on purpose."""

    code: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class ImageError(OpenIDVError):
    """The input is not an image the engines can use."""

    code = "bad_image"


class EmptyImageError(ImageError):
    code = "empty_image"


class NotAnImageError(ImageError):
    code = "not_an_image"


class CorruptImageError(ImageError):
    """Recognised format, but the data is truncated or damaged."""

    code = "corrupt_image"


class ImageTooLargeError(ImageError):
    code = "image_too_large"


class ImageTooSmallError(ImageError):
    code = "image_too_small"


class UnsupportedImageError(ImageError):
    """An array or mode the engines do not accept (wrong shape, dtype, ...)."""

    code = "unsupported_image"


class ModelUnavailableError(OpenIDVError):
    """A model's pip package is not installed (or its files are missing)."""

    code = "model_unavailable"


class DataFormatError(OpenIDVError):
    """An evaluation or input file does not have the expected format."""

    code = "bad_data_file"
