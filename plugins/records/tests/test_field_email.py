"""``email`` against PocketBase 0.40.6: govalidator's format and the allowed domains."""

from __future__ import annotations

from fields_testing import DOMAIN, EMPTY, REQUIRED, TypeTables

tables = TypeTables("email")

IS_EMAIL = {"code": "validation_is_email", "message": "Must be a valid email address."}
EMAIL_DOMAIN = {"code": "validation_email_domain_not_allowed", "message": "Email domain is not allowed."}

NORMALIZE = [
    (123, "123"),
]
test_normalize = tables.normalize(NORMALIZE)

VALIDATE = [
    ({"onlyDomains": ["ok.com"], "required": True}, "", REQUIRED),
    ({"onlyDomains": ["ok.com"]}, "a@bad.com", EMAIL_DOMAIN),
    ({"onlyDomains": ["ok.com"]}, "a@OK.com", EMAIL_DOMAIN),
    ({"onlyDomains": ["ok.com"]}, "a@ok.com", None),
    ({"exceptDomains": ["bad.com"]}, "a@bad.com", EMAIL_DOMAIN),
    ({"exceptDomains": ["bad.com"]}, "a@good.com", None),
    ({}, 123, IS_EMAIL),
    ({}, "a@b", IS_EMAIL),
]
test_validate = tables.validate(VALIDATE)

CHECK_OPTIONS = [
    ({"type": "email", "onlyDomains": ["a.com"], "exceptDomains": ["b.com"]}, {"exceptDomains": EMPTY, "onlyDomains": EMPTY}),
    ({"type": "email", "onlyDomains": ["not a domain", "ok.com", "-x.com"]}, {"onlyDomains": {"0": DOMAIN, "2": DOMAIN}}),
    ({"type": "email", "exceptDomains": ["x"]}, {"exceptDomains": {"0": DOMAIN}}),
    ({"type": "email", "onlyDomains": ["OK.com"]}, {"onlyDomains": {"0": DOMAIN}}),
    ({"type": "email", "onlyDomains": ["a.xn--p1ai"]}, {"onlyDomains": {"0": DOMAIN}}),
    ({"type": "email", "onlyDomains": ["a. xn--p1ai", "a.b.c.d.com", "", "aBc.com", "ab.COM", "A.com", "a-B1.com", "x.Com"]}, {}),
    ({"type": "email", "onlyDomains": ["aB.com", "a. XN--P1AI", "a. xn--P1AI"]}, {"onlyDomains": {"0": DOMAIN, "1": DOMAIN, "2": DOMAIN}}),
]
test_check_options = tables.check_options(CHECK_OPTIONS)
