"""Every operation of /api/v1/schema/ fuzzed against a real server (schemathesis): no
response is a 5xx, and every response matches what the schema documents (status code,
content type, body).

Bounded and deterministic: a few derandomized examples per operation, so the run takes
about a minute and fails the same way every time. The operations are driven with plain
hypothesis ``@given`` (schemathesis's own pytest fixture loader does not run on pytest 9).
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 10


def test_every_operation_answers_as_documented_and_never_5xx(asgi_server, live_db, django_user_model):
    user = django_user_model.objects.create_user(username="fuzzer", password="fuzzer-password-1")
    headers = {"Authorization": f"Bearer {Token.objects.create(user=user).key}"}
    schema = schemathesis.openapi.from_url(f"http://{asgi_server}/api/v1/schema/")
    statuses: Counter[int] = Counter()
    server_errors: list[str] = []
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case) -> None:
            response = case.call(headers=headers, timeout=30)
            statuses[response.status_code] += 1
            if response.status_code >= 500 and case.operation.path != "/api/v1/health/":
                server_errors.append(f"{case.operation.label}: {response.status_code}")
            # Health's 503 (a dependency down) is its documented answer, not a server error.
            is_health = case.operation.path == "/api/v1/health/"
            case.validate_response(response, checks=CHECKS[1:] if is_health else CHECKS)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:
            failures[operation.label] = str(exc)[:1500]

    cases = sum(statuses.values())
    print(f"\nschemathesis: {len(operations)} operations, {cases} cases, statuses {dict(statuses)}")
    for label, text in failures.items():
        print(f"--- {label}\n{text}")
    assert not server_errors
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
