"""Answerers: they turn retrieved passages into an `Answer` whose every sentence is cited."""
