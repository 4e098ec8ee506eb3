"""Throwaway certificates for the TLS tests, made with the `openssl` CLI at test time:
a root CA, an intermediate that signs the server (so the server serves a chain), client
certificates, and a second, unrelated CA."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True,
                   stdin=subprocess.DEVNULL)


@dataclass(frozen=True)
class Credential:
    cert: Path
    key: Path


class PKI:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _key_and_request(self, name: str, subject: str) -> tuple[Path, Path]:
        key, csr = self.folder / f"{name}.key", self.folder / f"{name}.csr"
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", str(key), "-out", str(csr), "-subj", subject, cwd=self.folder)
        return key, csr

    def root(self, name: str, common_name: str) -> Credential:
        key = self.folder / f"{name}.key"
        cert = self.folder / f"{name}.pem"
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={common_name}",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.folder)
        return Credential(cert, key)

    def issue(self, name: str, issuer: Credential, subject: str, extensions: str) -> Credential:
        key, csr = self._key_and_request(name, subject)
        ext = self.folder / f"{name}.ext"
        ext.write_text(extensions)
        cert = self.folder / f"{name}.pem"
        openssl("x509", "-req", "-in", str(csr), "-CA", str(issuer.cert), "-CAkey", str(issuer.key),
                "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext),
                cwd=self.folder)
        return Credential(cert, key)

    def intermediate(self, name: str, issuer: Credential) -> Credential:
        return self.issue(name, issuer, f"/CN={name}",
                          "basicConstraints=critical,CA:TRUE,pathlen:0\n"
                          "keyUsage=critical,keyCertSign,cRLSign\n")

    def server(self, name: str, issuer: Credential, chain: Credential | None = None) -> Credential:
        """A server certificate for localhost and 127.0.0.1; with `chain`, its file holds the
        intermediate after the leaf."""
        leaf = self.issue(name, issuer, f"/CN={name}",
                          "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                          "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        if chain is not None:
            leaf.cert.write_text(leaf.cert.read_text() + chain.cert.read_text())
        return leaf

    def client(self, name: str, issuer: Credential, common_name: str | None = None,
               san: str | None = None) -> Credential:
        subject = f"/CN={common_name}" if common_name else "/O=chatd tests"
        extensions = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
        if san:
            extensions += f"subjectAltName={san}\n"
        return self.issue(name, issuer, subject, extensions)

    def self_signed(self, name: str, common_name: str) -> Credential:
        return self.root(name, common_name)
