"""Each agency's assignment rules as a versioned document (pure: no I/O). Stream:
`rules-<agency_id>`.

R-ASG-5: each district bureau and the city centre writes its assignment rules, files them with
the city bureau and publishes them; the rules in force are applied. A version is filed first,
then published; the version in force on a day is the latest published one whose
`effective_from` has come. Its numbers (the monthly cap, R-ASG-4; the years of practice for
grave cases, R-ASG-8) override the service's defaults for that agency's decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from shared.aggregate import Aggregate, Conflict, DomainEvent, NotFound


class RulesFiled(DomainEvent):
    version: int
    title: str
    text: str
    effective_from: date
    monthly_cap: int | None
    senior_years: int | None
    filed_with: str
    filed_at: datetime


class RulesPublished(DomainEvent):
    version: int
    published_at: datetime


class AlreadyPublished(Conflict):
    rule = "R-ASG-5"


@dataclass(frozen=True)
class AppliedRules:
    """The numbers a decision applies, and the published version they come from (None: the
    service's settings)."""

    monthly_cap: int
    senior_years: int
    rules_version: int | None


class AssignmentRules(Aggregate):
    stream_prefix = "rules"

    def __init__(self, id: str):
        super().__init__(id)
        self.versions: dict[int, RulesFiled] = {}
        self.published: dict[int, RulesPublished] = {}

    def file(self, *, title: str, text: str, effective_from: date, monthly_cap: int | None,
             senior_years: int | None, filed_with: str, at: datetime) -> int:
        version = len(self.versions) + 1
        self.record(RulesFiled(version=version, title=title, text=text, effective_from=effective_from,
                               monthly_cap=monthly_cap, senior_years=senior_years, filed_with=filed_with,
                               filed_at=at))
        return version

    def publish(self, *, version: int, at: datetime) -> None:
        """Only what was filed with the city bureau is published (R-ASG-5)."""
        if version not in self.versions:
            raise NotFound("this version of the agency's rules was never filed", rule="R-ASG-5")
        if version in self.published:
            raise AlreadyPublished("this version of the agency's rules is already published")
        self.record(RulesPublished(version=version, published_at=at))

    def in_force(self, day: date) -> RulesFiled | None:
        published = [self.versions[v] for v in self.published if self.versions[v].effective_from <= day]
        return max(published, key=lambda r: (r.effective_from, r.version), default=None)

    def cap_on(self, day: date, default: int) -> int:
        """The monthly cap (R-ASG-4) of the version in force on `day`, else the service's own."""
        in_force = self.in_force(day)
        return in_force.monthly_cap if in_force and in_force.monthly_cap else default

    def applied(self, day: date, *, monthly_cap: int, senior_years: int) -> AppliedRules:
        """The numbers of the version in force on `day` (R-ASG-5), each falling back to the
        service's own (`monthly_cap`, `senior_years`) where the version sets none."""
        in_force = self.in_force(day)
        years = in_force.senior_years if in_force and in_force.senior_years is not None else senior_years
        return AppliedRules(monthly_cap=self.cap_on(day, monthly_cap), senior_years=years,
                            rules_version=in_force.version if in_force else None)

    def when_RulesFiled(self, e: RulesFiled) -> None:
        self.versions[e.version] = e

    def when_RulesPublished(self, e: RulesPublished) -> None:
        self.published[e.version] = e


AssignmentRules.handles(RulesFiled, RulesPublished)
