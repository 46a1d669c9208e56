"""The same rules and requests on PocketBase 0.40.6 and on a two-worker pbk: which rule
governs each request (the third of three under a 2-per-minute rule is refused or not), the
429 envelope, audiences, the superuser's exemption, the client IP from a trusted header, and
``superuserIPs``."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TRUST_REAL_IP, Program

pytestmark = pytest.mark.slow

WRONG_LOGIN = {"identity": "nobody@example.com", "password": "wrong-password"}
RULES = [
    ("*:auth", ""),
    ("users:authWithPassword", ""),
    ("*:auth", "@auth"),
    ("*:list", ""),
    ("users:view", ""),
    ("*:create", ""),
    ("*:listAuthMethods", "@guest"),
    ("/api/", ""),
    ("/api/health", ""),
    ("GET /api/health", "@guest"),
    ("POST /api/collections/", ""),
    ("/api/collections/users/", ""),
    ("/api/collections/users/records", ""),
    ("GET /api/collections/users/records/", ""),
]
REQUESTS: list[tuple[str, str, Any]] = [
    ("POST", "/api/collections/users/auth-with-password", WRONG_LOGIN),
    ("POST", "/api/collections/_superusers/auth-with-password", WRONG_LOGIN),
    ("GET", "/api/collections/users/records", None),
    ("GET", "/api/collections/users/records/missing0000000", None),
    ("POST", "/api/collections/users/records", {}),
    ("GET", "/api/collections/users/auth-methods", None),
    ("GET", "/api/collections/nope/records", None),
    ("POST", "/api/collections/nope/auth-with-password", WRONG_LOGIN),
    ("GET", "/api/health", None),
    ("GET", "/api/nothing/here", None),
]


def statuses(program: Program, method: str, path: str, body: Any, *, ip: str, token: str = "") -> list[int]:
    return [program.request(method, path, ip=ip, token=token, json=body).status_code for _ in range(3)]


def limit(program: Program, label: str, audience: str = "", max_requests: int = 2, **extra: Any) -> None:
    rule = {"label": label, "audience": audience, "maxRequests": max_requests, "duration": 60}
    program.settings({"rateLimits": {"enabled": True, "rules": [rule], **extra}})


def test_the_rule_that_governs_each_request_is_pocketbases(programs: list[Program]) -> None:
    seen: dict[str, dict[tuple[str, str, str, str], list[int]]] = {}
    for program in programs:
        table = seen[program.name] = {}
        for label, audience in RULES:
            limit(program, label, audience)
            for method, path, body in REQUESTS:
                table[label, audience, method, path] = statuses(program, method, path, body, ip=program.fresh_ip())
    assert seen["pbk"] == seen["pocketbase"]
    assert any(codes[-1] == 429 for codes in seen["pbk"].values())


def test_the_refusal_is_pocketbases_envelope(programs: list[Program]) -> None:
    answers = []
    for program in programs:
        limit(program, "/api/health", max_requests=1)
        ip = program.fresh_ip()
        program.request("GET", "/api/health", ip=ip)
        refused = program.request("GET", "/api/health", ip=ip)
        answers.append((refused.status_code, refused.json()))
    assert answers[0] == answers[1] == (429, {"data": {}, "message": "Too Many Requests.", "status": 429})


def test_audiences_superusers_and_excluded_ips(programs: list[Program], user_tokens: dict[str, str]) -> None:
    seen = []
    for program in programs:
        results = {}
        for audience in ("", "@guest", "@auth"):
            limit(program, "/api/health", audience)
            results[audience, "guest"] = statuses(program, "GET", "/api/health", None, ip=program.fresh_ip())
            results[audience, "user"] = statuses(program, "GET", "/api/health", None, ip=program.fresh_ip(),
                                                 token=user_tokens[program.name])
            results[audience, "superuser"] = statuses(program, "GET", "/api/health", None,
                                                      ip=program.fresh_ip(), token=program.token)
        limit(program, "/api/health", excludedIPs=["10.99.0.0/16"])
        results["excluded"] = statuses(program, "GET", "/api/health", None, ip="10.99.1.2")
        seen.append(results)
    assert seen[0] == seen[1]
    assert seen[1]["@auth", "user"] == [200, 200, 429] and seen[1]["@auth", "guest"] == [200] * 3
    assert seen[1]["", "superuser"] == [200] * 3 and seen[1]["excluded"] == [200] * 3


def test_requests_count_by_the_ip_of_the_trusted_header(programs: list[Program]) -> None:
    for program in programs:
        limit(program, "/api/health")
        first, second = program.fresh_ip(), program.fresh_ip()
        assert statuses(program, "GET", "/api/health", None, ip=first) == [200, 200, 429]
        # The rightmost valid IP of the trusted header is the client's.
        assert statuses(program, "GET", "/api/health", None, ip=f"{first}, {second}, junk") == [200, 200, 429]
        assert program.request("GET", "/api/health", ip=f"{second}, {first}").status_code == 429


def test_without_a_trusted_proxy_a_client_cannot_escape_by_naming_another_ip(programs: list[Program]) -> None:
    for program in programs:
        program.settings({"trustedProxy": {"headers": []}})
        limit(program, "/api/health")
        spoofed = [program.request("GET", "/api/health", ip=program.fresh_ip()).status_code for _ in range(3)]
        program.settings({**TRUST_REAL_IP, "rateLimits": {"enabled": False}})
        assert spoofed == [200, 200, 429], program.name


def test_superuser_ips_as_pocketbase(programs: list[Program]) -> None:
    allowed, refused = "10.200.0.7", "10.201.0.7"
    seen = []
    for program in programs:
        program.settings({"rateLimits": {"enabled": False}, "superuserIPs": ["10.200.0.0/24", "2001:db8::1"]})
        login = {"identity": "root@example.com", "password": "1234567890"}
        signin = "/api/collections/_superusers/auth-with-password"
        answers = []
        for method, path, body, ip, token in (
            ("GET", "/api/health", None, allowed, program.token),
            ("GET", "/api/health", None, refused, program.token),
            ("GET", "/api/health", None, "2001:db8::1", program.token),
            ("GET", "/api/health", None, "2001:db8::2", program.token),
            ("GET", "/api/health", None, refused, ""),
            ("GET", "/api/collections/users/records", None, refused, program.token),
            ("GET", "/api/nothing/here", None, refused, program.token),
            ("POST", signin, login, refused, ""),
            ("POST", signin, {**login, "password": "wrong-password"}, refused, ""),
            ("POST", signin, login, allowed, ""),
        ):
            response = program.request(method, path, ip=ip, token=token, json=body)
            shown = response.json()
            answers.append((response.status_code, shown if response.status_code != 200 else shown.get("data")))
        program.settings({"superuserIPs": []}, ip=allowed)
        seen.append(answers)
    assert seen[0] == seen[1]
    assert seen[1][1] == (403, {"data": {}, "message": "You are not allowed to perform this request.", "status": 403})


def test_health_shows_the_real_ip_as_pocketbase(programs: list[Program]) -> None:
    seen = []
    for program in programs:
        answers = []
        for leftmost in (False, True):
            program.settings({"trustedProxy": {"headers": ["X-Real-IP", "X-Other"], "useLeftmostIP": leftmost}})
            for headers in ({"X-Real-IP": "1.2.3.4, 2001:db8::5, nonsense"}, {"X-Other": "5.6.7.8"},
                            {"X-Forwarded-For": "9.9.9.9"}, {"X-Real-IP": "junk", "X-Other": "4.4.4.4, 3.3.3.3"}):
                response = program.raw("GET", "/api/health", headers={**headers, "Authorization": program.token})
                answers.append(response.json()["data"])
        program.settings({"trustedProxy": {"headers": ["X-Real-IP"], "useLeftmostIP": False}})
        seen.append(answers)
    assert seen[0] == seen[1]


def test_requests_inside_a_batch_count_as_pocketbase_counts_them(programs: list[Program]) -> None:
    posts = {"name": "batched", "type": "base", "createRule": "", "fields": [{"name": "title", "type": "text"}]}
    create = {"method": "POST", "url": "/api/collections/batched/records", "body": {"title": "a"}}
    seen = []
    for program in programs:
        made = program.request("POST", "/api/collections", ip="127.0.0.1", token=program.token, json=posts)
        assert made.status_code == 200, made.text
        answers = []
        labels = ("batched:create", "*:create", "POST /api/collections/batched/records", "/api/collections/batched/records")
        for index, label in enumerate(labels):
            program.settings({"batch": {"enabled": True}, "rateLimits": {"enabled": True, "excludedIPs": [], "rules": [
                {"label": label, "audience": "", "maxRequests": 2, "duration": 60}]}})
            ip = program.fresh_ip()
            # a PUT of a new id is a create, counted with the POST creates
            upserts = [{"method": "PUT", "url": "/api/collections/batched/records",
                        "body": {"id": f"p{index}{n}".ljust(15, "0"), "title": "u"}} for n in range(2)]
            for body in ({"requests": [upserts[0], create]}, {"requests": [upserts[1]]}, {"requests": [create]}):
                answer = program.request("POST", "/api/batch", ip=ip, json=body)
                answers.append((label, answer.status_code, answer.json() if answer.status_code != 200 else None))
            alone = program.request("POST", "/api/collections/batched/records", ip=ip, json={"title": "b"})
            answers.append((label, "alone", alone.status_code))  # a counter apart from the batch's
        program.settings({"rateLimits": {"enabled": False}})
        seen.append(answers)
    assert seen[0] == seen[1]
    assert seen[1][1][1:] == (400, {"data": {"requests": {"0": {
        "code": "batch_request_failed", "message": "Batch request failed.",
        "response": {"data": {}, "message": "Too Many Requests.", "status": 429}}}},
        "message": "Batch transaction failed.", "status": 400})
