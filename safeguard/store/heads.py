"""Print the current migration head: ``python -m safeguard.store.heads``."""

from safeguard.store.migrate import head_revision

if __name__ == "__main__":
    print(head_revision())
