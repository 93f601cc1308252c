"""Certificates for the sandbox: two roots and the leaf certificates they sign.

`cluster-ca` signs the Kubernetes components' serving and client certificates;
`web-ca` plays the public web PKI (the role Let's Encrypt has in production) and is the
trust root the suite and the browser are given.  Files are written once and reused;
a leaf whose names changed is issued again.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sandbox import layout

_DAY = dt.timedelta(days=1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _load(cert: Path, key: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return certificate, private


def ensure_ca(name: str, common_name: str) -> tuple[Path, Path]:
    """A self-signed root under .sandbox/pki/NAME.{crt,key}; created once."""
    layout.PKI.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = layout.PKI / f"{name}.crt", layout.PKI / f"{name}.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "railiance sandbox")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(_now() - _DAY).not_valid_after(_now() + 3650 * _DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _sans(names: list[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def issue(ca: str, common_name: str, names: list[str], *, organization: str | None = None,
          server: bool = True, client: bool = False, days: int = 365,
          key: ec.EllipticCurvePrivateKey | None = None) -> tuple[bytes, bytes]:
    """Sign a leaf with CA (a name given to ensure_ca); return (cert PEM, key PEM)."""
    ca_cert, ca_key = _load(layout.PKI / f"{ca}.crt", layout.PKI / f"{ca}.key")
    key = key or ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + (
        [ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
    builder = (x509.CertificateBuilder().subject_name(x509.Name(attrs))
               .issuer_name(ca_cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(_now() - _DAY).not_valid_after(_now() + days * _DAY)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca_key.public_key()), critical=False))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(_sans(names)),
                                        critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def ensure_leaf(ca: str, name: str, common_name: str, names: list[str], *,
                organization: str | None = None, server: bool = True,
                client: bool = False) -> tuple[Path, Path]:
    """Issue .sandbox/pki/NAME.{crt,key} once; again only if the wanted names changed."""
    cert_path, key_path = layout.PKI / f"{name}.crt", layout.PKI / f"{name}.key"
    if cert_path.exists() and key_path.exists():
        current = x509.load_pem_x509_certificate(cert_path.read_bytes())
        try:
            have = current.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            have_names = sorted(str(v.value) for v in have.value)
        except x509.ExtensionNotFound:
            have_names = []
        if have_names == sorted(names) and current.not_valid_after_utc > _now() + 30 * _DAY:
            return cert_path, key_path
    cert_pem, key_pem = issue(ca, common_name, names, organization=organization,
                              server=server, client=client)
    key_path.write_bytes(key_pem)
    key_path.chmod(0o600)
    cert_path.write_bytes(cert_pem)
    return cert_path, key_path


WEB_CA = "web-ca"


def web_ca() -> tuple[Path, Path]:
    """The root that plays the public web PKI (Let's Encrypt's role); created once."""
    return ensure_ca(WEB_CA, "railiance sandbox web CA")
