"""pbk autotls: certificates for ``pbk serve DOMAIN...`` over ACME (Let's Encrypt)."""
