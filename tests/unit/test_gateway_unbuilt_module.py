"""A module the catalog lists but this build lacks is a clear 503, not a 404 or a crash."""

from werkzeug.test import Client

from devserver.gateway import Gateway


def test_routes_of_a_module_not_in_the_build_are_503_problem():
    client = Client(Gateway(pools={}))  # no function of any module is present
    r = client.get("/api/payment/anything", headers={"Authorization": "Bearer x"})
    assert r.status_code == 503
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json["detail"] == "payment-service is not part of this build"


def test_unknown_paths_are_404_problem():
    r = Client(Gateway(pools={})).get("/api/nowhere")
    assert r.status_code == 404 and r.json["status"] == 404
