"""The sandbox IdP's files: a signing key and self-signed certificate, and its attribute map.

pysaml2 signs through the xmlsec1 program, which reads the key from a file, so the
key has to be on disk. It is made once per process in a private temporary directory
(never in the repository); the directory goes at exit, and directories left behind
by sandboxes that were killed are swept when the next one starts.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import trustme

DIR_PREFIX = "t5g-sandbox-idp-"
# The module name pysaml2 imports the attribute map under (it puts the directory on sys.path).
ATTRIBUTE_MODULE = "t5g_sandbox_idp_attributes"

# Two maps, one per shape (sandbox/idp_shapes.py). The eduperson shape's: pysaml2's urn:oid map, except that
# isMemberOf (eduMember, urn:oid:1.3.6.1.4.1.5923.1.5.1.1) is called "groups" locally: attributes go out as
# urn:oid names with FriendlyName "groups", "uid", ... The company shape's: the attributes under their own
# names, NameFormat basic (Name="rhatUUID", Name="memberOf"), as the company IdP sends them.
ATTRIBUTE_MAP_SOURCE = '''"""The sandbox IdP's attribute maps: urn:oid names, and plain names (basic)."""

import saml2.attributemaps.saml_uri as _saml_uri

GROUPS_OID = "urn:oid:1.3.6.1.4.1.5923.1.5.1.1"

MAP = {
    "identifier": _saml_uri.MAP["identifier"],
    "fro": {**_saml_uri.MAP["fro"], GROUPS_OID: "groups"},
    "to": {**_saml_uri.MAP["to"], "groups": GROUPS_OID},
}

COMPANY_NAMES = ["rhatUUID", "uid", "mail", "givenName", "sn", "cn", "memberOf"]
COMPANY_MAP = {
    "identifier": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
    "fro": {name: name for name in COMPANY_NAMES},
    "to": {name: name for name in COMPANY_NAMES},
}
'''


@dataclass(frozen=True)
class IdPFiles:
    directory: Path
    key_file: Path
    cert_file: Path
    attribute_map_dir: Path

    def cert_pem(self) -> str:
        return self.cert_file.read_text()


_files: IdPFiles | None = None
_files_lock = threading.Lock()


def idp_files() -> IdPFiles:
    """The key, certificate and attribute map of this process, made on first use."""
    global _files
    with _files_lock:
        if _files is None:
            _sweep_stale_dirs()
            directory = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{os.getpid()}-"))
            atexit.register(shutil.rmtree, directory, ignore_errors=True)
            key_file, cert_file = _write_key_pair(directory)
            map_dir = directory / "attributemaps"
            map_dir.mkdir()
            (map_dir / f"{ATTRIBUTE_MODULE}.py").write_text(ATTRIBUTE_MAP_SOURCE)
            _files = IdPFiles(directory, key_file, cert_file, map_dir)
        return _files


def _write_key_pair(directory: Path) -> tuple[Path, Path]:
    """An RSA key (pysaml2 signs with RSA-SHA256) and its self-signed certificate, made by trustme."""
    authority = trustme.CA(key_type=trustme.KeyType.RSA, organization_unit_name="T5G sandbox IdP")
    key_file, cert_file = directory / "idp.key", directory / "idp.crt"
    key_file.touch(mode=0o600)  # before the key is in it
    authority.private_key_pem.write_to_path(key_file)
    authority.cert_pem.write_to_path(cert_file)
    return key_file, cert_file


def _sweep_stale_dirs() -> None:
    """Remove the key directories of sandbox processes that no longer run (killed ones skip atexit)."""
    for path in Path(tempfile.gettempdir()).glob(f"{DIR_PREFIX}*"):
        pid = path.name.removeprefix(DIR_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
