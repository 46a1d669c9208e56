"""``url`` against PocketBase 0.40.6: govalidator's format and the allowed hosts."""

from __future__ import annotations

from fields_testing import DOMAIN, EMPTY, TypeTables

tables = TypeTables("url")

INVALID_URL = {"code": "validation_invalid_url", "message": "Must be a valid url."}
URL_DOMAIN = {"code": "validation_url_domain_not_allowed", "message": "Url domain is not allowed."}

VALIDATE = [
    ({"onlyDomains": ["ok.com"]}, "http://bad.com", URL_DOMAIN),
    ({"onlyDomains": ["ok.com"]}, "http://ok.com:80/x", URL_DOMAIN),
    ({"onlyDomains": ["ok.com"]}, "ok.com", URL_DOMAIN),
    ({"onlyDomains": ["ok.com"]}, "http://ok.com/x", None),
    ({"exceptDomains": ["bad.com"]}, "https://bad.com", URL_DOMAIN),
    ({"exceptDomains": ["bad.com"]}, "https://user@bad.com", URL_DOMAIN),
    ({}, 123, INVALID_URL),
]
test_validate = tables.validate(VALIDATE)

CHECK_OPTIONS = [
    ({"type": "url", "onlyDomains": ["http://a.com"]}, {"onlyDomains": {"0": DOMAIN}}),
    ({"type": "url", "onlyDomains": ["a.com"], "exceptDomains": ["b.com"]}, {"exceptDomains": EMPTY, "onlyDomains": EMPTY}),
]
test_check_options = tables.check_options(CHECK_OPTIONS)
