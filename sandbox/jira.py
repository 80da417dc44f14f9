"""Placeholder: the jira stand-in is being written."""

from .http import Router

router = Router("/jira")
