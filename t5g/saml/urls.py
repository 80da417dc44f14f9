from django.urls import path

from .views import acs, logout_service, metadata, not_configured, saml_login, signed_out

# Under /saml2/ (t5g/urls.py); the names are djangosaml2's own.
urlpatterns = [
    path("login/", saml_login, name="saml2_login"),
    path("acs/", acs, name="saml2_acs"),
    path("ls/", logout_service, name="saml2_ls"),
    path("ls/post/", logout_service, name="saml2_ls_post"),
    path("metadata/", metadata, name="saml2_metadata"),
    path("not-configured/", not_configured, name="saml_not_configured"),
    path("signed-out/", signed_out, name="saml_signed_out"),
]
