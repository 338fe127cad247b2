"""Inputs an attacker would send: each answers a 4xx in the one error shape, never a 5xx
or Django's HTML error page."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient

from config.errors import server_error
from config.parsers import MAX_JSON_DEPTH
from contracts.models import DatasetVersion
from data_processing import result_cache
from data_processing.cache_keys import cache_key_for
from data_processing.models import Job
from data_processing.registry import job_kind
from data_processing.services import request_fingerprint

ROOT = Path(__file__).resolve().parents[2]
TASKS = "/api/v1/data-processing/tasks"
JSON_ENDPOINTS = [
    f"{TASKS}/search/",
    f"{TASKS}/analytics/",
    f"{TASKS}/analytics-paginated/",
    f"{TASKS}/export/",
    "/api/v1/contracts/chip-search/",
    "/api/v1/contracts/chip-aggregates/",
    "/api/v1/contracts/chip-aggregates-paginated/",
]


@pytest.fixture
def client(alice) -> APIClient:
    # Let a server error come back as a response (as a real server would send it) instead of
    # being re-raised in the test, so a 500 fails the assertion that names it.
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.auth_token.key}")
    return client


def post_raw(client: APIClient, url: str, body: bytes | str, content_type: str = "application/json"):
    return client.generic("POST", url, body, content_type=content_type)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "error" and body["code"] == code, body
    return body


@pytest.mark.parametrize("url", JSON_ENDPOINTS)
def test_a_deeply_nested_body_is_a_400(client, url):
    assert_error(post_raw(client, url, "[" * 100_000), 400, "parse_error")
    nested = '{"filters": ' + '{"a": ' * MAX_JSON_DEPTH + "1" + "}" * MAX_JSON_DEPTH + "}"
    assert_error(post_raw(client, url, nested), 400, "parse_error")


@pytest.mark.parametrize(
    "body",
    [
        '{"filters": {"\\ud800": []}}',
        '{"filters": {}, "ordering": "\\ud800"}',
        '{"filters": {"keywords": ["road\\udfff"]}}',
        '{"filters": {"keywords": ["ro\\u0000ad"]}}',
        '{"\\udc00": 1}',
    ],
    ids=["surrogate-key", "surrogate-ordering", "surrogate-value", "nul", "surrogate-top-key"],
)
@pytest.mark.parametrize("url", JSON_ENDPOINTS)
def test_unstorable_text_is_a_400(client, url, body):
    assert_error(post_raw(client, url, body), 400, "parse_error")


def test_a_paired_surrogate_is_ordinary_text(client):
    body = json.dumps({"filters": {"keywords": ["road \U0001f6a7"]}})  # ensure_ascii: \ud83d\udea7
    assert post_raw(client, "/api/v1/contracts/chip-search/", body).status_code == 200


@pytest.mark.parametrize("size", [3 * 2**20, 24 * 2**20])
@pytest.mark.parametrize("url", [f"{TASKS}/search/", "/api/v1/contracts/chip-aggregates/"])
def test_a_body_over_the_limit_is_a_413(client, url, size):
    body = '{"filters": {"keywords": ["' + "x" * size + '"]}}'
    error = assert_error(post_raw(client, url, body), 413, "request_too_large")
    assert "1048576 bytes" in error["message"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_the_limit_is_a_setting(client):
    assert post_raw(client, f"{TASKS}/search/", '{"filters": {}}').status_code != 413
    body = '{"filters": {"keywords": ["' + "x" * 100 + '"]}}'
    assert_error(post_raw(client, f"{TASKS}/search/", body), 413, "request_too_large")


@pytest.mark.parametrize("url", JSON_ENDPOINTS)
def test_form_and_multipart_bodies_are_a_415(client, url):
    form = client.post(url, {"filters": "garbage", "ordering": "reference_id"})  # multipart
    assert_error(form, 415, "unsupported_media_type")
    encoded = post_raw(
        client, url, "filters=garbage&ordering=reference_id", "application/x-www-form-urlencoded"
    )
    assert_error(encoded, 415, "unsupported_media_type")
    upload = client.post(url, {"filters": ("filters.json", b'{"keywords": ["x"]}')}, format="multipart")
    assert_error(upload, 415, "unsupported_media_type")
    assert not Job.objects.exists()  # nothing reached a worker


@pytest.mark.parametrize("debug", [False, True], ids=["production", "make run (DEBUG)"])
def test_an_unknown_api_path_is_a_json_404(client, settings, debug):
    settings.DEBUG = debug
    assert_error(client.get("/api/v1/nope/"), 404, "not_found")
    assert_error(client.get(f"{TASKS}/not-a-uuid/"), 404, "not_found")
    assert_error(client.post(f"{TASKS}/nope/", {}, format="json"), 404, "not_found")
    assert client.get("/nope/").status_code == 404  # outside the API, Django's own page


@pytest.mark.parametrize("debug", [False, True], ids=["production", "make run (DEBUG)"])
def test_a_missing_trailing_slash_redirects_keeping_the_method(client, settings, debug):
    """A 308, which clients follow with the same method and body; Django's 301 would turn a
    POST into a GET, and under DEBUG it raised (a 500) instead."""
    settings.DEBUG = debug
    submit = client.post(f"{TASKS}/search", {"filters": {}}, format="json")
    poll = client.get(f"{TASKS}/status?task_id=x")

    assert (submit.status_code, submit["Location"]) == (308, f"{TASKS}/search/")
    assert (poll.status_code, poll["Location"]) == (308, f"{TASKS}/status/?task_id=x")
    assert not Job.objects.exists()
    followed = client.post(submit["Location"], {"filters": {}}, format="json")
    assert followed.status_code in (200, 202)


def test_a_server_error_on_an_api_path_is_json_not_an_html_page():
    response = server_error(RequestFactory().get("/api/v1/contracts/chip-search/"))
    assert response.status_code == 500
    assert json.loads(response.content)["code"] == "server_error"
    assert b"<html" not in response.content.lower()


@pytest.mark.integration
def test_concurrent_submits_with_one_idempotency_key_for_a_cached_answer_make_one_job(
    asgi_server, alice, live_db
):
    payload = {"filters": {"keywords": ["road"]}}
    spec = job_kind("search")
    fingerprint = request_fingerprint(spec, spec.parse(payload), owner=alice)
    result_cache.result_set(cache_key_for(spec.prefix, fingerprint, DatasetVersion.current()), {"x": 1})
    headers = {"Authorization": f"Bearer {alice.auth_token.key}", "Idempotency-Key": "race-1"}

    def submit(_: int) -> int:
        url = f"http://{asgi_server}{TASKS}/search/"
        return httpx.post(url, json=payload, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(submit, range(20)))

    assert statuses == [200] * 20
    assert Job.objects.filter(owner=alice, idempotency_key="race-1").count() == 1


@pytest.mark.integration
def test_a_forged_host_header_is_a_400_logged_once_without_a_traceback(asgi_server_factory, alice):
    server = asgi_server_factory("asgi-host-header")
    log_path = ROOT / "test-artifacts" / "asgi-host-header.log"
    before = log_path.stat().st_size  # the log is appended to, run after run
    for host in ("forged-host.example", "forged host"):
        response = httpx.get(f"http://{server}{TASKS}/", headers={"Host": host}, timeout=30)
        assert response.status_code == 400
    with log_path.open(errors="replace") as log_file:
        log_file.seek(before)
        log = log_file.read()
    assert log.count("Invalid HTTP_HOST header: 'forged-host.example'") == 1
    assert log.count("Invalid HTTP_HOST header: 'forged host'") == 1
    assert "Traceback" not in log


@pytest.mark.integration
def test_a_server_stops_reading_a_body_at_the_limit(asgi_server):
    """Through a real server, signed in or not: Django reads a whole body to a temporary file
    before any view sees the request, so it took every byte it was offered."""
    offered = 256 * 2**20
    taken = 0

    def body():
        nonlocal taken
        block = b"x" * 2**16
        while taken < offered:
            taken += len(block)
            yield block

    with httpx.Client(timeout=30) as http:
        url = f"http://{asgi_server}{TASKS}/search/"
        answer = http.post(url, content=body(), headers={"Content-Type": "application/json"})

    assert (answer.status_code, answer.json()["code"]) == (413, "request_too_large")
    assert set(answer.json()) == {"status", "code", "message", "errors"}
    assert answer.headers["connection"] == "close"
    assert taken < offered // 8  # the server stopped at 1 MiB; the rest was never sent


@pytest.mark.integration
def test_a_body_sent_chunked_is_read_as_one_with_a_length(asgi_server, alice, live_db):
    """HTTP/2 clients and some proxies send a body with no Content-Length; DRF took such a
    request for one without a body, and answered a chip query as if it had no filters."""
    body = json.dumps({"filters": {"keywords": ["x"], "page_size": 5000}}).encode()

    def in_pieces():
        yield body[:10]
        yield body[10:]

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {alice.auth_token.key}"}
    url = f"http://{asgi_server}/api/v1/contracts/chip-search/"
    with httpx.Client(timeout=30) as http:
        chunked = http.post(url, content=in_pieces(), headers=headers)
        with_length = http.post(url, content=body, headers=headers)

    assert "content-length" not in chunked.request.headers
    assert (chunked.status_code, chunked.json()) == (with_length.status_code, with_length.json())
    assert (chunked.status_code, list(chunked.json()["errors"])) == (400, ["filters.page_size"])
