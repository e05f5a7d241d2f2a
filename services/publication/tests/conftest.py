"""The seeded half-year of test_workflow.py (its facts fed through the broker, every one received),
shared with the tests of what the public reads once it is published (test_published.py)."""

from services.publication.tests.test_workflow import seeded

__all__ = ["seeded"]
