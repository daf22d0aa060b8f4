from shopify_client.webhooks import sign, verify


def test_sign_matches_published_check_vector():
    assert sign(b'{"id":1}', "hush") == "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY="


def test_verify_accepts_any_configured_secret_during_rotation():
    body = b'{"id":1}'
    old_signature = sign(body, "old")
    assert verify(body, old_signature, ["new", "old"])
    assert not verify(body, old_signature, ["new"])


def test_verify_rejects_tampered_body_missing_and_malformed_header():
    body = b'{"id":1}'
    signature = sign(body, "hush")
    assert not verify(b'{"id":2}', signature, ["hush"])
    assert not verify(body, None, ["hush"])
    assert not verify(body, "", ["hush"])
    assert not verify(body, "not base64 !!", ["hush"])
