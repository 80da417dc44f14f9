"""Placeholder: the bugzilla stand-in is being written."""

from .http import Router

router = Router("/bugzilla")
