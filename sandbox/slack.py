"""Placeholder: the slack stand-in is being written."""

from .http import Router

router = Router("/slack")
