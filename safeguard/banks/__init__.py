"""Hash banks and the matching service: banks of known material, imports, the in-memory matcher, URL
lists and keyword lists."""
