"""Police and hotline intake: referrals imported, identifiers normalised, referrals linked into suspects,
suspect investigation packages prioritised and worked. See docs/intake.md."""
