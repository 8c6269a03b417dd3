"""Cross-capability workflows: where one request's work spans several capabilities.

A capability (media, index, banks, text, review, actions, ...) owns its rules and imports only those
before it in the flow. A workflow that calls several of them - hash an upload, match it against the banks,
file the matches into a review case - lives here, one module per workflow, so an API route or a CLI
command parses its input, calls ONE function of this package and shapes the output:

- :mod:`safeguard.flows.scan`: upload -> hashes -> bank matches -> the upload's one review case.
- :mod:`safeguard.flows.conversation`: messages -> grooming risk -> alert -> the conversation's case,
  which every later message that changes the assessment updates.
- :mod:`safeguard.flows.decision`: a moderator's decision -> the case's hashes banked into the bank the
  moderator picked (on the final decision, so under four eyes when configured).

See docs/dev/architecture.md for where new code goes.
"""
