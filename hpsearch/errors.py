"""Typed errors. Library code raises these; only the CLI maps them to exit codes.

Every message is written for the user: what is wrong and how to fix it, on one line.
"""


class HpsearchError(Exception):
    """Base of every error a user can cause and fix."""


class DataError(HpsearchError):
    """A data set is missing, corrupt or has the wrong shape."""


class ConfigError(HpsearchError):
    """A model config, preset or override is invalid."""


class SpaceError(ConfigError):
    """A search-space file or pin is invalid."""


class ProjectError(HpsearchError):
    """A project/output directory cannot be used as asked (exists, belongs to another run...)."""


class TrialFailed(HpsearchError):
    """A trial could not be scored (e.g. the loss became NaN); the search goes on."""
