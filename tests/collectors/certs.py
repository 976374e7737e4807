"""A throw-away PKI for TLS tests: a test CA and a few leaves for 127.0.0.1/localhost.

EC keys keep generation fast (milliseconds), so the whole set is made once per session.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LEAF_VALID_DAYS = 30


@dataclass(frozen=True)
class CertFiles:
    """A certificate chain and its key as PEM files, loadable by ``ssl``."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@dataclass(frozen=True)
class Pki:
    """The CA (as PEM text, to trust it) and one leaf per TLS scenario."""

    ca_pem: str
    valid: CertFiles
    expired: CertFiles
    self_signed: CertFiles
    wrong_host: CertFiles

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only the test CA."""
        return ssl.create_default_context(cadata=self.ca_pem)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _local_names() -> list[x509.GeneralName]:
    return [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]


def _certificate(
    *,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_before: datetime,
    not_after: datetime,
    names: list[x509.GeneralName] | None,
) -> x509.Certificate:
    is_ca = names is None
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )
    if is_ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True)
    else:
        assert names is not None
        usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
        builder = builder.add_extension(usage, critical=True)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> CertFiles:
    cert_path = directory / f"{stem}.pem"
    key_path = directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return CertFiles(cert_path, key_path)


def make_pki(directory: Path, now: datetime | None = None) -> Pki:
    """Generate the CA and the leaves into ``directory``."""
    now = now or datetime.now(UTC)
    day = timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("monitor-center test CA")
    ca = _certificate(
        subject=ca_name,
        key=ca_key,
        issuer=ca_name,
        issuer_key=ca_key,
        not_before=now - day,
        not_after=now + 365 * day,
        names=None,
    )

    def leaf(
        stem: str,
        *,
        start: datetime,
        end: datetime,
        self_signed: bool = False,
        names: list[x509.GeneralName] | None = None,
    ) -> CertFiles:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(
            subject=_name(stem),
            key=key,
            issuer=_name(stem) if self_signed else ca_name,
            issuer_key=key if self_signed else ca_key,
            not_before=start,
            not_after=end,
            names=names or _local_names(),
        )
        return _write(directory, stem, cert, key)

    return Pki(
        ca_pem=ca.public_bytes(serialization.Encoding.PEM).decode(),
        valid=leaf("valid", start=now - day, end=now + LEAF_VALID_DAYS * day),
        expired=leaf("expired", start=now - 60 * day, end=now - day),
        self_signed=leaf("self-signed", start=now - day, end=now + 30 * day, self_signed=True),
        wrong_host=leaf(
            "wrong-host",
            start=now - day,
            end=now + 30 * day,
            names=[x509.DNSName("wrong.example")],
        ),
    )
