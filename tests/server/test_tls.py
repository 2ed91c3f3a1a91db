"""TLS: `tracker server --tls-cert --tls-key` serves only over TLS; a client trusting the CA that
signed the certificate (tls_ca= or TRACKER_TLS_CA) logs and reads back exactly; a plaintext client
or one trusting another CA is refused and stores nothing. Certificates are made in the test."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import tracker_client as tracker
from tests.server.serverproc import server_process
from tests.server.serverproc import tracker as run_cli

pytestmark = pytest.mark.timeout(120)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_ca(directory: Path, label: str) -> tuple[Path, ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"Test CA {label}"))
        .issuer_name(_name(f"Test CA {label}"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = directory / f"ca-{label}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, key, cert


def make_server_cert(
    directory: Path, ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_a_tls_server_talks_only_to_clients_that_trust_its_ca(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca_path, ca_key, ca = make_ca(tmp_path, "good")
    other_ca, _, _ = make_ca(tmp_path, "other")
    cert, key = make_server_cert(tmp_path, ca_key, ca)
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    args = ["--db", url, "--port", "0", "--tls-cert", str(cert), "--tls-key", str(key)]
    with server_process(args) as server:
        address = server.address()
        assert "(TLS)" in server.output

        run = tracker.init(project="tls", name="r", server=address, tls_ca=ca_path, hparams={"lr": 0.1})
        for step in range(1000):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
        run.finish()
        monkeypatch.setenv("TRACKER_TLS_CA", str(ca_path))  # the variable works as the argument does
        with tracker.Api(server=address) as api:
            series = api.scalars(run.id, "loss")
            assert series.steps.tolist() == list(range(1000))
            assert series.values.tolist() == [1.0 / (s + 1) for s in range(1000)]
            assert api.run(run.id).hparams == {"lr": 0.1}
        monkeypatch.delenv("TRACKER_TLS_CA")

        with pytest.raises(tracker.UnavailableError):  # plaintext to a TLS port
            tracker.init(project="tls", name="plain", server=address, timeout=3)
        with pytest.raises(tracker.UnavailableError):  # a certificate this client does not trust
            tracker.init(project="tls", name="other", server=address, tls_ca=other_ca, timeout=3)
        with tracker.Api(server=address, tls_ca=ca_path) as api:
            assert [r.name for r in api.runs("tls")] == ["r"]  # nothing of the refused ones


def test_a_certificate_without_its_key_is_refused_with_what_to_do(tmp_path: Path) -> None:
    done = run_cli("server", "--db", f"sqlite:///{tmp_path / 't.db'}", "--tls-cert", str(tmp_path / "c.pem"))
    assert done.returncode != 0
    assert "--tls-cert and --tls-key go together" in done.stderr + done.stdout
    missing = run_cli(
        "server",
        "--db",
        f"sqlite:///{tmp_path / 't.db'}",
        "--tls-cert",
        str(tmp_path / "c.pem"),
        "--tls-key",
        str(tmp_path / "k.pem"),
    )
    assert missing.returncode == 2
    assert "cannot read the TLS certificate or key" in missing.stderr and "k.pem" in missing.stderr
    assert not (tmp_path / "t.db").exists()  # refused before anything else
