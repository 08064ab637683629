"""A JSON body that arrives form-encoded whole (`curl --data-urlencode`, or a gateway that
re-encodes the seed's `curl -d '{...}'` as a form, as LocalStack does) is read as that JSON;
anything else that is not JSON stays a 415."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from tests.api.helpers import auth_handler, call, unique_email

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_a_json_document_encoded_as_one_form_field_registers_the_user(api_env):
    email = unique_email("form")
    document = json.dumps({"email": email, "password": "pass123", "name": "Test User + Co"})
    r = call(auth_handler(), "POST", "/api/auth/register", urlencode([(document, "")]), headers=FORM)
    assert r.status == 201, r
    assert r.body["email"] == email and r.body["name"] == "Test User + Co"


def test_real_form_fields_are_still_refused_as_not_json(api_env):
    r = call(
        auth_handler(), "POST", "/api/auth/register", urlencode({"email": "a@b.co", "password": "x"}), headers=FORM
    )
    assert r.status == 415 and "must be JSON" in r.body["detail"], r
