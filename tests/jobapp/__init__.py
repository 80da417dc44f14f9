"""An app that declares a job of its own, as any app would: the registry tests add it to INSTALLED_APPS."""
