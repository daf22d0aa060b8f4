"""The service's NetSuite client on OAuth 2.0 machine-to-machine, against the simulator verifying it."""

from __future__ import annotations

import dataclasses

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.adapters.netsuite import netsuite_auth
from app.config import get_settings
from netsuite_client import NetSuiteClient, OAuth2ClientCredentials


def test_service_signs_in_with_oauth2_and_writes(sim, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    requests.post(
        f"{sim}/_sim/oauth2/clients",
        json={"client_id": "shopsync-m2m", "certificate_id": "cert-1", "public_key_pem": public.decode()},
        timeout=5,
    ).raise_for_status()
    key_file = tmp_path / "netsuite.pem"
    key_file.write_bytes(pem)
    settings = dataclasses.replace(
        get_settings(),
        netsuite_auth="oauth2",
        netsuite_client_id="shopsync-m2m",
        netsuite_certificate_id="cert-1",
        netsuite_private_key_file=str(key_file),
    )
    auth = netsuite_auth(settings)
    assert isinstance(auth, OAuth2ClientCredentials)
    client = NetSuiteClient(base_url=settings.netsuite_base_url, auth=auth)
    client.upsert("customer", "shopify-customer-42", {"isPerson": True, "firstName": "O", "lastName": "Auth"})
    client.upsert("customer", "shopify-customer-43", {"isPerson": True, "firstName": "O", "lastName": "Auth"})
    stats = requests.get(f"{sim}/_sim/stats", timeout=5).json()
    assert stats["oauth2_tokens_issued"] == 1  # cached across calls
    assert stats["calls_by_operation"]["PUT customer"] == 2
    assert "sim-consumer-key" not in repr(auth)
