"""Cases, the prioritised review queue, decisions and appeals.

Signals (media matches, grooming alerts, user reports) open or update cases (``flows``); moderators claim
the most urgent case with a lease (``queue``), decide it (``decisions``), and every decision becomes a
domain event in ``review_events`` that ``safeguard.actions`` delivers to the platform as a signed webhook.
"""
