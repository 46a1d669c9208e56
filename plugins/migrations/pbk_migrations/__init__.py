"""pbk migrations: a project's ``pb_migrations``, automigrate and ``pbk migrate``."""
