"""The upstream sandbox: a local support portal, SSO, JIRA, Bugzilla, Slack and SAML IdP.

For development, the demo, tests and benchmarks only: its own program (`python -m sandbox`),
needing neither Django nor the product, and never imported by the product. `environment(url)`
gives the settings that point T5G at a running sandbox.
"""

from .pointing import environment

__all__ = ["environment"]
