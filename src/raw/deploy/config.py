"""The deploy section of ``.raw/config.yaml``, from :mod:`raw.config.deploy` (core: the
system schema reads it too); this part keeps reading its own section from here."""

from raw.config.deploy import (
    SECRET_WORDS,
    DatabaseConfig,
    DeployConfig,
    ImageConfig,
    IngressConfig,
    ObservabilityDeploy,
    PythonConfig,
    Quantities,
    Resources,
    RoleConfig,
    TemporalConfig,
    looks_secret,
)

__all__ = [
    "SECRET_WORDS",
    "looks_secret",
    "Quantities",
    "Resources",
    "RoleConfig",
    "ImageConfig",
    "PythonConfig",
    "DatabaseConfig",
    "TemporalConfig",
    "IngressConfig",
    "DeployConfig",
    "ObservabilityDeploy",
]
