"""People: users, roles, their locales, and the credentials they sign in with."""
