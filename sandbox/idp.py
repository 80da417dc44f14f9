"""Placeholder: the idp stand-in is being written."""

from .http import Router

router = Router("/idp")
