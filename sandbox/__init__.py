"""The upstream sandbox: a local support portal, SSO, JIRA, Bugzilla, Slack and SAML IdP.

For development, the demo and tests only. Production code never imports it.
"""
