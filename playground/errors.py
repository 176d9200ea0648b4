"""Typed errors for the playground.

Library code raises these with a message a user can act on; only ``cli.py`` turns them
into ``error: ...`` lines and exit code 2. They subclass ``ValueError`` so callers that
already catch bad values keep working.
"""

from __future__ import annotations


class PlaygroundError(ValueError):
    """Base class: a setting or input the playground cannot use."""


class UnknownDatasetError(PlaygroundError):
    """The data set name is not one of the site's six."""


class UnknownFeatureError(PlaygroundError):
    """An input feature name is not one of the site's seven."""


class UnknownActivationError(PlaygroundError):
    """The activation is not tanh, relu, sigmoid or linear."""


class UnknownRegularizationError(PlaygroundError):
    """The regularization is not none, l1 or l2."""


class NetworkShapeError(PlaygroundError):
    """Hidden layers or neurons per layer outside the site's limits."""


class InvalidValueError(PlaygroundError):
    """A numeric setting (rate, batch size, noise, ratio, epochs...) is out of range."""


class SeedError(PlaygroundError):
    """A seed that is neither a non-negative integer nor a site seed string."""
