"""Intake's command handlers: open a unit of work, load the case, call one domain method, save,
tell the others, commit. Each retries on a concurrency conflict. Also the deadline sweep (what it
records as missed), an aided person's erasure, a look at their data (recorded for auditors), and
the loading of a year of working days."""

from __future__ import annotations

import hashlib
import hmac
import logging
import unicodedata
import uuid
from datetime import date, datetime

from prometheus_client import Gauge
from sqlalchemy import delete, insert

from services.intake.adapters import masked, seal_people, unseal
from services.intake.domain.case import Case, CaseType
from services.intake.domain.checklists import AgencyChecklist, CheckItem, Checklist, NotTheAgencys
from services.intake.domain.closing import ClosingChecklist, FollowUpChannel, Satisfaction, TerminationReason
from services.intake.domain.deadlines import DeadlinePolicy
from services.intake.domain.erasure import PersonRecord
from services.intake.domain.people import AIDED_PERSON_FIELDS, AdverseParty, AidedPerson, born_on
from services.intake.domain.record import WorkEntry
from services.intake.projections import working_calendar_days, working_calendar_years
from services.intake.queries import calendar as calendar_queries
from services.intake.queries.access import check
from services.intake.queries.calendar import LoadedYear, loaded_years
from services.intake.queries.cases import CaseFilter
from services.intake.queries.deadlines import overdue_items
from services.intake.queries.views import AidedPersonView, view_of
from shared import audit, context, contracts
from shared.aggregate import Conflict, NotFound
from shared.auth import EVERY_AGENCY, AgencyScope, Principal
from shared.calendar import YearArrangement
from shared.clock import now
from shared.contracts import CaseFlags, CaseKind
from shared.contracts import intake as intake_contracts
from shared.contracts.intake import CriminalRole, CriminalStage, ReassignmentReason
from shared.ids import new_case_id
from shared.personal_data import Erased, Erasure, PersonalDataVault
from shared.store import driver
from shared.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict

log = logging.getLogger(__name__)

# Read by the overdue-deadlines alert (deploy/k8s/base/monitoring).
OVERDUE = Gauge("fayuan_overdue_deadlines", "Deadlines past due and not met, at the last deadline sweep")


def adverse_party_hash(key: str, party: AdverseParty) -> str:
    """A keyed hash of who the party is: by ID number when known, else by name. The key never
    leaves intake, so a hash cannot be reversed by trying names (a plain hash could)."""
    identity = f"id:{party.id_number.strip().upper()}" if party.id_number else f"name:{party.name}"
    identity = unicodedata.normalize("NFKC", identity).replace(" ", "")
    return hmac.new(key.encode(), identity.encode(), hashlib.sha256).hexdigest()


_CLAIM = """
INSERT INTO registration_keys (key, case_id) VALUES ($1, $2)
ON CONFLICT (key) DO NOTHING RETURNING case_id
"""


class _Seen(Exception):  # noqa: N818 - not an error: it rolls the claim back
    def __init__(self, case_id: str):
        self.case_id = case_id


async def _claim(uow: UnitOfWork, keys: list[str], case_id: str) -> None:
    """Claim the registration's idempotency keys for a new case, or raise `_Seen` with the case
    that holds one already (which rolls back what this one claimed). A concurrent claim of the
    same key waits on the unique index until the other registration commits, so two retries of
    one notification never make two cases."""
    db = await driver(uow.conn)
    for key in keys:
        if await db.fetchval(_CLAIM, key, case_id) is None:
            raise _Seen(await db.fetchval("SELECT case_id FROM registration_keys WHERE key = $1", key))


def registration_keys(*, source_system: str | None, external_reference: str | None,
                      idempotency_key: str | None) -> list[str]:
    keys = []
    if source_system and external_reference:
        keys.append(f"ref:{source_system}\x1f{external_reference}")
    if idempotency_key:
        keys.append(f"idem:{idempotency_key}")
    return keys


@retry_on_conflict
async def register_case(
    uow_factory: UnitOfWorkFactory, *, case_type: CaseType, cause: str, district: str, agency_id: str,
    flags: CaseFlags, aided_person: AidedPerson, adverse_parties: list[AdverseParty] | None = None,
    source_system: str | None = None, external_reference: str | None = None, registered_by: str | None = None,
    idempotency_key: str | None = None, hash_key: str = "", vault: PersonalDataVault,
) -> tuple[Case, bool]:
    """The case registered, and whether it is new (False: this registration was seen before).
    The people are sealed in the registration's transaction, before anything is recorded."""
    keys = registration_keys(source_system=source_system, external_reference=external_reference,
                             idempotency_key=idempotency_key)
    try:
        return await _register(uow_factory, keys, case_type=case_type, cause=cause, district=district,
                               agency_id=agency_id, flags=flags, aided_person=aided_person,
                               adverse_parties=adverse_parties, source_system=source_system,
                               external_reference=external_reference, registered_by=registered_by,
                               hash_key=hash_key, vault=vault), True
    except _Seen as seen:
        async with uow_factory() as uow:
            return await load_case(uow, seen.case_id), False


async def _register(uow_factory: UnitOfWorkFactory, keys: list[str], *, case_type: CaseType, cause: str,
                    district: str, agency_id: str, flags: CaseFlags, aided_person: AidedPerson,
                    adverse_parties: list[AdverseParty] | None, source_system: str | None,
                    external_reference: str | None, registered_by: str | None, hash_key: str,
                    vault: PersonalDataVault) -> Case:
    async with uow_factory() as uow:
        case = Case(new_case_id())
        await _claim(uow, keys, case.id)
        at = now()
        parties = adverse_parties or []
        person, sealed_parties = await seal_people(uow.conn, vault, case.id, aided_person, parties)
        case.register(case_number=await _next_case_number(uow, at), case_type=case_type, cause=cause,
                      district=district, agency_id=agency_id, flags=flags, aided_person=person,
                      born_on=born_on(aided_person.id_number), at=at, source_system=source_system,
                      external_reference=external_reference, registered_by=registered_by,
                      adverse_parties=sealed_parties,
                      aided_person_hash=adverse_party_hash(hash_key, AdverseParty(name=aided_person.name,
                                                                                  id_number=aided_person.id_number)),
                      adverse_party_hashes=[adverse_party_hash(hash_key, p) for p in parties])
        await uow.save(case)
        _tell_registered(uow, case)
        return case


def _tell_registered(uow: UnitOfWork, case: Case) -> None:
    r = case.registration
    assert r is not None
    extra = {}
    if "aided_person_hash" in contracts.CaseRegistered.model_fields:
        # Assignment's check that a handler never serves both sides: the aided person, hashed
        # with the same key as the adverse parties, so one person matches across cases.
        extra["aided_person_hash"] = r.aided_person_hash
    uow.emit(contracts.CaseRegistered(
        case_id=case.id, case_number=r.case_number, case_kind=r.case_kind, cause=r.cause, district=r.district,
        agency_id=r.agency_id, flags=r.flags, registered_at=r.registered_at, criminal_stage=r.criminal_stage,
        criminal_role=r.criminal_role, matter=r.matter, source_system=r.source_system,
        external_reference=r.external_reference, previous_case_id=r.previous_case_id,
        adverse_party_hashes=r.adverse_party_hashes, **extra))


async def _next_case_number(uow: UnitOfWork, at: datetime) -> str:
    serial = await (await driver(uow.conn)).fetchval("SELECT nextval('case_number_seq')")
    return f"FY-{at:%Y}-{serial:06d}"


def _next_stage_flags(previous: CaseFlags, possible_death_penalty: bool | None, *,
                      decide_minor: bool) -> CaseFlags:
    """The previous stage's flags, less the named handler (a new assignment) and the minor flag
    (decided again on the new registration day, unless the ID number was erased)."""
    update: dict = {"named_handler_id": None}
    if decide_minor:
        update["minor"] = False
    if possible_death_penalty is not None:
        update["possible_death_penalty_or_life_imprisonment"] = possible_death_penalty
    return previous.model_copy(update=update)


@retry_on_conflict
async def register_next_stage(uow_factory: UnitOfWorkFactory, previous_case_id: str, *, stage: CriminalStage,
                              criminal_role: CriminalRole | None,
                              possible_death_penalty_or_life_imprisonment: bool | None,
                              source_system: str | None, external_reference: str | None,
                              registered_by: str | None, vault: PersonalDataVault,
                              within: AgencyScope = EVERY_AGENCY) -> tuple[Case, bool]:
    """R-HDL-7: the criminal case's next stage as a new case (own number, own file) linked to the
    previous one. Asked twice, the answer is the case already opened (False: nothing new)."""
    try:
        async with uow_factory() as uow:
            previous = await load_case(uow, previous_case_id, within=within)
            case = Case(new_case_id())
            await _claim(uow, [f"next:{previous_case_id}"], case.id)
            at = now()
            number = await _next_case_number(uow, at)
            previous.register_next_stage(next_case_id=case.id, next_case_number=number, stage=stage, at=at)
            r = previous.registration
            assert r is not None
            # The same person, the same tokens: only the birth date is read again, for the minor flag.
            person = await vault.unseal(uow.conn, r.aided_person.person_ref,
                                        {k: v for k, v in r.aided_person.sealed.items() if k == "id_number"})
            born = None if isinstance(person, Erased) else born_on(person["id_number"])
            case_type = CaseType(case_kind=r.case_kind, criminal_stage=stage,
                                 criminal_role=criminal_role or r.criminal_role)
            case.register(case_number=number, case_type=case_type, cause=r.cause, district=r.district,
                          agency_id=r.agency_id,
                          flags=_next_stage_flags(r.flags, possible_death_penalty_or_life_imprisonment,
                                                  decide_minor=not isinstance(person, Erased)),
                          aided_person=r.aided_person, born_on=born, at=at, source_system=source_system,
                          external_reference=external_reference, registered_by=registered_by,
                          adverse_parties=r.adverse_parties, previous_case_id=previous.id,
                          aided_person_hash=r.aided_person_hash, adverse_party_hashes=r.adverse_party_hashes)
            await uow.save(previous)
            await uow.save(case)
            _tell_registered(uow, case)
            return case, True
    except _Seen as seen:
        async with uow_factory() as uow:
            return await load_case(uow, seen.case_id), False


async def load_case(uow: UnitOfWork, case_id: str, *, as_of: datetime | None = None,
                    only_handler: str | None = None, within: AgencyScope = EVERY_AGENCY) -> Case:
    """The case; `only_handler`: the caller is a handler, who acts only on the cases whose current
    handler they are; `within`: the agencies whose cases the caller acts on (any other case is
    "not found": the caller does not learn that it exists)."""
    case = await uow.get(Case, case_id, as_of=as_of)
    r = case.registration
    if not case.exists or r is None or not within.admits(r.agency_id, r.district) or (
            only_handler is not None and (case.handler is None or case.handler.handler_id != only_handler)):
        raise NotFound(f"no case {case_id}" + (f" as of {as_of.isoformat()}" if as_of else ""))
    return case


@retry_on_conflict
async def record_work(uow_factory: UnitOfWorkFactory, case_id: str, *, entry_id: str | None, author_id: str,
                      occurred_at: datetime, entry: WorkEntry, only_handler: str | None = None) -> Case:
    async with uow_factory() as uow:
        case = await load_case(uow, case_id, only_handler=only_handler)
        case.record_work(entry_id=entry_id or str(uuid.uuid4()), author_id=author_id, occurred_at=occurred_at,
                         entry=entry, at=now())
        await uow.save(case)
        return case


@retry_on_conflict
async def close_case(uow_factory: UnitOfWorkFactory, case_id: str, *, outcome: str, ended_on: date,
                     closed_by: str | None = None, only_handler: str | None = None) -> Case:
    async with uow_factory() as uow:
        case = await load_case(uow, case_id, only_handler=only_handler)
        case.close(outcome=outcome, ended_on=ended_on, at=now(), closed_by=closed_by)
        await uow.save(case)
        r, closure, handler = case.registration, case.closure, case.handler
        assert r is not None and closure is not None and handler is not None
        uow.emit(contracts.CaseClosed(case_id=case.id, case_number=r.case_number, case_kind=r.case_kind,
                                      district=r.district, agency_id=r.agency_id, handler=handler,
                                      group_case=r.flags.group_case, outcome=closure.outcome,
                                      ended_on=closure.ended_on, closed_at=closure.closed_at,
                                      criminal_role=r.criminal_role))
        return case


@retry_on_conflict
async def submit_closing_file(uow_factory: UnitOfWorkFactory, case_id: str, *, checklist: ClosingChecklist,
                              submitted_by: str, only_handler: str | None = None) -> Case:
    async with uow_factory() as uow:
        case = await load_case(uow, case_id, only_handler=only_handler)
        case.submit_closing_file(checklist=checklist, submitted_by=submitted_by, at=now())
        await uow.save(case)
        return case


@retry_on_conflict
async def request_reassignment(uow_factory: UnitOfWorkFactory, case_id: str, *, request_id: str | None,
                               reason: str, category: ReassignmentReason,
                               requested_by: str, within: AgencyScope = EVERY_AGENCY) -> tuple[Case, str]:
    async with uow_factory() as uow:
        case = await load_case(uow, case_id, within=within)
        request_id = request_id or str(uuid.uuid4())
        case.request_reassignment(request_id=request_id, reason=reason, category=category,
                                  requested_by=requested_by, at=now())
        await uow.save(case)
        return case, request_id


@retry_on_conflict
async def accept_reassignment(uow_factory: UnitOfWorkFactory, case_id: str, *, request_id: str,
                              accepted_by: str, within: AgencyScope = EVERY_AGENCY) -> Case:
    """The agency accepts the aided person's request: assignment is told to pick another handler
    (the category of the reason travels, the aided person's words stay here)."""
    async with uow_factory() as uow:
        case = await load_case(uow, case_id, within=within)
        request = case.accept_reassignment(request_id=request_id, accepted_by=accepted_by, at=now())
        await uow.save(case)
        r, handler = case.registration, case.handler
        assert r is not None and handler is not None
        uow.emit(intake_contracts.ReassignmentRequested(
            case_id=case.id, case_number=r.case_number, agency_id=r.agency_id, current_handler=handler,
            reason=request.category, requested_at=request.requested_at),
            event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"fayuan:reassignment:{case.id}:{request_id}")))
        return case


@retry_on_conflict
async def terminate_aid(uow_factory: UnitOfWorkFactory, case_id: str, *, reason: TerminationReason,
                        details: str | None, terminated_by: str, within: AgencyScope = EVERY_AGENCY) -> Case:
    async with uow_factory() as uow:
        case = await load_case(uow, case_id, within=within)
        case.terminate(reason=reason, details=details, terminated_by=terminated_by, at=now())
        await uow.save(case)
        r, t = case.registration, case.termination
        assert r is not None and t is not None
        # The details may name the aided person's circumstances: only the legal ground leaves.
        uow.emit(intake_contracts.CaseTerminated(case_id=case.id, case_number=r.case_number,
                                                 agency_id=r.agency_id, handler=case.handler,
                                                 reason=str(t.reason), terminated_at=t.terminated_at))
        return case


@retry_on_conflict
async def check_closing_file(uow_factory: UnitOfWorkFactory, case_id: str, *, checker: Principal,
                             answers: dict[str, bool], remarks: str | None,
                             within: AgencyScope = EVERY_AGENCY) -> Case:
    """The checker (the token's subject) checks the file against the case's agency's current
    version of the kind's checklist (R-CHK-1)."""
    async with uow_factory() as uow:
        case = await load_case(uow, case_id, within=within)
        r = case.registration
        assert r is not None
        versions = await uow.get(AgencyChecklist, AgencyChecklist.id_of(r.agency_id, r.case_kind))
        case.check_closing_file(checklist=versions.current(r.case_kind), checker_id=checker.sub,
                                checker_handler_id=checker.handler_id, answers=answers, remarks=remarks,
                                at=now())
        await uow.save(case)
        return case


@retry_on_conflict
async def sign_off_closing_check(uow_factory: UnitOfWorkFactory, case_id: str, *, quality_lead: Principal,
                                 quality_lead_name: str | None, within: AgencyScope = EVERY_AGENCY) -> Case:
    """The quality lead (the token's subject) signs the passed check off (R-CHK-2)."""
    async with uow_factory() as uow:
        case = await load_case(uow, case_id, within=within)
        case.sign_off_closing_check(quality_lead_id=quality_lead.sub,
                                    quality_lead_handler_id=quality_lead.handler_id,
                                    quality_lead_name=quality_lead_name or quality_lead.name, at=now())
        await uow.save(case)
        r, check, signed = case.registration, case.closing_check, case.sign_off
        assert r is not None and check is not None and signed is not None and case.handler is not None
        uow.emit(intake_contracts.ClosingCheckSignedOff(
            case_id=case.id, case_number=r.case_number, case_kind=r.case_kind, agency_id=r.agency_id,
            handler=case.handler, standard=check.standard or "", checklist_version=check.checklist_version,
            checked_by=check.checker_id, signed_off_by=signed.quality_lead_id,
            signed_off_at=signed.signed_off_at))
        return case


@retry_on_conflict
async def file_checklist_version(uow_factory: UnitOfWorkFactory, *, case_kind: CaseKind,
                                 items: list[CheckItem], by: Principal) -> Checklist:
    """The agency of the caller (its token's `agency_id`) files a new version of a kind's closing
    checklist; checks from then on use it, earlier checks keep theirs (R-CHK-1)."""
    if not by.agency_id:
        raise NotTheAgencys("agency_id: the caller's token names no agency whose checklist this would be")
    async with uow_factory() as uow:
        versions = await uow.get(AgencyChecklist, AgencyChecklist.id_of(by.agency_id, case_kind))
        filed = versions.file_version(agency_id=by.agency_id, case_kind=case_kind, items=items,
                                      filed_by=by.sub, at=now())
        await uow.save(versions)
        return filed


@retry_on_conflict
async def archive_case(uow_factory: UnitOfWorkFactory, case_id: str, *, archived_by: str,
                       within: AgencyScope = EVERY_AGENCY) -> Case:
    async with uow_factory() as uow:
        case = await load_case(uow, case_id, within=within)
        case.archive(archived_by=archived_by, at=now())
        await uow.save(case)
        return case


@retry_on_conflict
async def record_follow_up(uow_factory: UnitOfWorkFactory, case_id: str, *, follow_up_id: str | None,
                           visited_on: date, channel: FollowUpChannel, satisfaction: Satisfaction,
                           remarks: str | None, visited_by: str, within: AgencyScope = EVERY_AGENCY) -> Case:
    async with uow_factory() as uow:
        case = await load_case(uow, case_id, within=within)
        follow_up_id = follow_up_id or str(uuid.uuid4())
        if case.follow_up(follow_up_id=follow_up_id, visited_on=visited_on, channel=channel,
                          satisfaction=satisfaction, remarks=remarks, visited_by=visited_by, at=now()):
            await uow.save(case)
            r, handler, f = case.registration, case.handler, case.follow_ups[-1]
            assert r is not None and handler is not None
            uow.emit(intake_contracts.FollowUpCompleted(
                case_id=case.id, case_number=r.case_number, case_kind=r.case_kind, agency_id=r.agency_id,
                handler=handler, follow_up_id=f.follow_up_id, visited_on=f.visited_on, channel=str(f.channel),
                satisfaction=str(f.satisfaction), recorded_at=f.recorded_at),
                event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"fayuan:follow-up:{case.id}:{f.follow_up_id}")))
        return case


@retry_on_conflict
async def record_missed_deadline(uow_factory: UnitOfWorkFactory, case_id: str, *, deadline: str, rule: str,
                                 due_at: datetime, at: datetime) -> bool:
    async with uow_factory() as uow:
        case = await load_case(uow, case_id)
        if not case.miss_deadline(deadline=deadline, rule=rule, due_at=due_at, at=at):
            return False
        await uow.save(case)
        r = case.registration
        assert r is not None
        uow.emit(intake_contracts.DeadlineMissed(case_id=case.id, case_number=r.case_number,
                                                 agency_id=r.agency_id, deadline=deadline, due_at=due_at,
                                                 handler=case.handler, detected_at=at),
                 event_id=str(uuid.uuid5(uuid.NAMESPACE_URL,
                                         f"fayuan:deadline-missed:{case.id}:{deadline}:{due_at.isoformat()}")))
        return True


async def sweep_deadlines(uow_factory: UnitOfWorkFactory, policy: DeadlinePolicy, at: datetime) -> int:
    """Record a DeadlineMissed event on each case for each of its deadlines past due at `at` and
    unmet (once: a second sweep records nothing). Run it as often as the agency wants to hear."""
    async with uow_factory() as uow:
        found = await overdue_items(uow.conn, CaseFilter(), policy, at)
    OVERDUE.set(len(found))
    recorded = 0
    for item in found:
        recorded += await record_missed_deadline(uow_factory, item.case_id, deadline=item.deadline,
                                                 rule=item.rule, due_at=item.due_at, at=at)
    return recorded


@retry_on_conflict
async def erase_person(uow_factory: UnitOfWorkFactory, vault: PersonalDataVault, *, id_number: str,
                       reason: str) -> Erasure:
    """Crypto-shred the person's data keys and record the erasure on their own stream, in one
    transaction. The same order sent again changes nothing and answers the erasure in effect."""
    ref = vault.person_ref(id_number)
    async with uow_factory() as uow:
        erasure = await vault.erase(uow.conn, ref, actor=context.actor.get(), reason=reason)
        if erasure is None:
            raise NotFound("intake holds no personal data of this person")
        record = await uow.get(PersonRecord, ref)
        if record.record_erasure(erased_at=erasure.erased_at, reason=erasure.reason,
                                 key_versions=erasure.key_versions):
            await uow.save(record)
        return erasure


async def show_aided_person(uow_factory: UnitOfWorkFactory, vault: PersonalDataVault, case_id: str, *,
                            principal: Principal, unmasked: bool) -> AidedPersonView:
    """The aided person of a case the caller may see (404 otherwise): the values, recorded for
    auditors in the transaction that read them (the look is recorded if and only if it is shown),
    or masks; after an erasure, `erased`."""
    async with uow_factory() as uow:
        case = await load_case(uow, case_id)
        check(view_of(case), principal)
        assert case.registration is not None
        person = case.registration.aided_person
        values = await unseal(uow.conn, vault, person)
        if isinstance(values, Erased):
            return AidedPersonView(case_id=case_id, masked=not unmasked, erased=True,
                                   erased_at=values.erased_at)
        if unmasked:
            await audit.record_read(uow.conn, case_id=case_id, person_ref=person.person_ref,
                                    fields=[f for f in AIDED_PERSON_FIELDS if values.get(f)], purpose="case")
        shown = values if unmasked else masked(values)
    return AidedPersonView(case_id=case_id, masked=not unmasked, erased=False, **shown)


async def load_working_calendar(uow_factory: UnitOfWorkFactory, arrangement: YearArrangement, *, sha256: str,
                                loaded_by: str, replace: bool = False) -> LoadedYear:
    """Load a year of China's official working days (the State Council's notice, as the file
    of docs/intake.md says), recorded with its source, its file's hash, who loaded it and when.
    A year loaded already is replaced only when asked; a day another year's arrangement names
    differently is refused (the two notices disagree: an operator looks)."""
    async with uow_factory() as uow:
        conn = uow.conn
        before = await calendar_queries.source_of(conn, arrangement.year)
        if before is not None and not replace:
            raise Conflict(f"{arrangement.year} is loaded already (from {before}); replace it explicitly")
        await conn.execute(delete(working_calendar_years)
                           .where(working_calendar_years.c.year == arrangement.year))
        days = arrangement.days()
        named_elsewhere = await calendar_queries.days_named(conn, days)
        for day, other in sorted(named_elsewhere.items()):
            if other.working != days[day]:
                raise Conflict(f"{day} is {'a working day' if other.working else 'a day off'} in the "
                               f"arrangement of {other.year}, not in this one of {arrangement.year}")
        await conn.execute(insert(working_calendar_years).values(
            year=arrangement.year, source=arrangement.source, sha256=sha256, loaded_by=loaded_by,
            loaded_at=now()))
        names = {day: h.name for h in arrangement.holidays
                 for day in (*h.days_off(), *h.make_up_working_days)}
        rows = [{"day": day, "working": working, "holiday": names[day], "year": arrangement.year}
                for day, working in sorted(days.items()) if day not in named_elsewhere]
        if rows:
            await conn.execute(insert(working_calendar_days), rows)
        [loaded] = [year for year in await loaded_years(conn) if year.year == arrangement.year]
    log.info("working calendar loaded", extra={"year": arrangement.year, "source": arrangement.source,
                                               "sha256": sha256, "loaded_by": loaded_by})
    return loaded
