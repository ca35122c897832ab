"""What every section of ``.raw/config.yaml`` shares: strict models and the name checks."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from raw._patterns import LazyPattern

__all__ = ["MODULE", "SETTING", "SLUG", "Strict", "object_ref"]

MODULE = LazyPattern(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
"""A dotted module name, e.g. ``hiring.processes``."""
SLUG = LazyPattern(r"^[a-z0-9][a-z0-9-]{0,63}$")
"""A lowercase slug: workflow ids, schedule ids, route names."""
SETTING = LazyPattern(r"^[A-Z][A-Z0-9_]*$")
"""The name of a setting (an environment variable), e.g. ``RAW_CV_SECRET``."""
_OBJECT_REF = LazyPattern(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class Strict(BaseModel):
    """A config section: an unknown key is an error naming it and what is allowed."""

    model_config = ConfigDict(extra="forbid")


def object_ref(value: str | None) -> str | None:
    """``value`` if it is an import reference such as ``hiring.models:CVSubmission``."""
    if value is not None and not _OBJECT_REF.match(value):
        raise ValueError(
            f"'{value}' is not an import reference such as 'hiring.models:CVSubmission'"
        )
    return value
