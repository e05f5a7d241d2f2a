"""Intake's reads, one module per concept: the case list and one case (`cases`), the read models
of a case (`views`), who sees which case (`access`), the time limits and the overdue worklist
(`deadlines`), and the timeline (`timeline`)."""
