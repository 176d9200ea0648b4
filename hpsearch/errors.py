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


class DamagedFile(ProjectError):
    """A project file (ours or Keras Tuner's) is truncated, empty, not JSON, of the wrong shape
    or missing while other files say it should exist. Never ignored: results would change."""

    def __init__(self, message: str, path: object = None) -> None:
        super().__init__(message)
        self.path = path


class StorageError(HpsearchError):
    """The disk is full or read-only: a write failed, every earlier write is intact."""


class ProjectLocked(ProjectError):
    """Another live process is using the project or study directory."""


class DataWarning(UserWarning):
    """Data that loads but looks like a mistake (e.g. pixels divided by 255 twice)."""
