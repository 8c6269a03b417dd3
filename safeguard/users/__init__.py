"""People who sign in to the web UI: accounts with roles, argon2 password hashes, lock-out and sessions."""
