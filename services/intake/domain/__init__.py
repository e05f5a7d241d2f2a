"""Intake's domain (pure: no I/O), one module per concept: the case (`case`), its events
(`events`), the people of a case (`people`), the handling record (`record`), the end of a case
(`closing`), the closing check's checklists (`checklists`), its time limits (`deadlines`), and
the erasure of an aided person (`erasure`)."""
