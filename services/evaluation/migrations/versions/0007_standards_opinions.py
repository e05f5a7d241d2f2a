"""Standards as data, the agencies' grading rules, the organs' opinions and corrections (R-EVL-1,
R-EVL-2, R-EVL-5, R-EVL-7): version 1 of each evaluation standard, seeded here as data (SF/T
0086-2020 criminal: indicators 2-9; SF/T 0085-2020 civil and administrative: 1-7 and 9, with 7
and 8 read together; second-level items from the duties of R-HDL-1..5 and R-ASG-9); each result's
standard version and what a points rule or a veto made of it; the notifying organ of a case; the
organs' opinions; the corrections asked of handlers; the cases whose closing file came in late.

Revision ID: 0007_standards_opinions
Revises: 0006_rounds_experts
"""
import json
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0007_standards_opinions"
down_revision = "0006_rounds_experts"
branch_labels = None
depends_on = None

# Written out here, not imported: a migration must do tomorrow what it did today. A test checks
# it against services/evaluation/domain/standards.py's SEED_STANDARDS.
SEED = json.loads(r"""
[
 {
  "version": "criminal-v1",
  "standard_id": "criminal",
  "number": 1,
  "code": "SF/T 0086-2020",
  "title": "全国刑事法律援助服务规范",
  "case_kinds": [
   "criminal"
  ],
  "effective_from": "2021-01-01",
  "indicators": [
   {
    "key": "meeting",
    "members": [
     2
    ],
    "name": "timely and effective meeting with the aided person",
    "name_zh": "及时有效会见受援人",
    "max_points": 15,
    "items": [
     {
      "key": "meeting.met",
      "text": "Met the aided person (约见 in civil and administrative cases)",
      "duty": "R-HDL-1",
      "veto": true
     },
     {
      "key": "meeting.in_time",
      "text": "Met them promptly after assignment",
      "duty": "R-HDL-6",
      "veto": false
     },
     {
      "key": "meeting.according_to_case",
      "text": "Talked according to the case",
      "duty": "R-HDL-1",
      "veto": false
     },
     {
      "key": "meeting.recorded",
      "text": "Recorded the conversation in detail",
      "duty": "R-HDL-1",
      "veto": false
     },
     {
      "key": "conduct.no_money_taken",
      "text": "Took no money or property from the aided person",
      "duty": "R-HDL-1",
      "veto": true
     }
    ]
   },
   {
    "key": "file_review",
    "members": [
     3
    ],
    "name": "timely and effective reading of the case file",
    "name_zh": "及时有效阅卷",
    "max_points": 10,
    "items": [
     {
      "key": "file_review.read",
      "text": "Read the case file",
      "duty": "R-HDL-2",
      "veto": true
     },
     {
      "key": "file_review.notes",
      "text": "Kept complete and specific notes of the reading",
      "duty": "R-HDL-2",
      "veto": false
     }
    ]
   },
   {
    "key": "investigation_work",
    "members": [
     4
    ],
    "name": "lawful investigation and evidence collection",
    "name_zh": "依法调查取证",
    "max_points": 10,
    "items": [
     {
      "key": "investigation.where_needed",
      "text": "Investigated and collected evidence where the case needed it",
      "duty": "R-HDL-4",
      "veto": false
     },
     {
      "key": "investigation.recorded",
      "text": "Recorded the investigation and the evidence collected",
      "duty": "R-HDL-4",
      "veto": false
     }
    ]
   },
   {
    "key": "legal_opinion",
    "members": [
     5
    ],
    "name": "effective legal opinions",
    "name_zh": "有效提出法律意见",
    "max_points": 20,
    "items": [
     {
      "key": "legal_opinion.given",
      "text": "Gave a defence or representation opinion",
      "duty": "R-HDL-3",
      "veto": true
     },
     {
      "key": "legal_opinion.argued_fully",
      "text": "The statement argues fully",
      "duty": "R-HDL-3",
      "veto": false
     }
    ]
   },
   {
    "key": "hearing",
    "members": [
     6
    ],
    "name": "lawful participation in hearings, mediation or arbitration",
    "name_zh": "依法参加庭审活动",
    "max_points": 15,
    "items": [
     {
      "key": "hearing.attended",
      "text": "Attended the hearing (and any mediation or arbitration)",
      "duty": "R-HDL-3",
      "veto": true
     },
     {
      "key": "hearing.argued",
      "text": "Argued the opinion at the hearing",
      "duty": "R-HDL-3",
      "veto": false
     }
    ]
   },
   {
    "key": "notice_duty",
    "members": [
     7
    ],
    "name": "full performance of the duty to inform",
    "name_zh": "全面履行告知义务",
    "max_points": 10,
    "items": [
     {
      "key": "notice.rights_and_obligations",
      "text": "Told the aided person their rights and obligations",
      "duty": "R-HDL-1",
      "veto": false
     },
     {
      "key": "notice.litigation_risks",
      "text": "Told the aided person the litigation risks",
      "duty": "R-HDL-1",
      "veto": false
     }
    ]
   },
   {
    "key": "report_duty",
    "members": [
     8
    ],
    "name": "performance of the duty to report to the agency",
    "name_zh": "履行报告义务",
    "max_points": 5,
    "items": [
     {
      "key": "report.major_matters",
      "text": "Reported to the agency on the case's progress and major matters",
      "duty": null,
      "veto": false
     }
    ]
   },
   {
    "key": "closing_file",
    "members": [
     9
    ],
    "name": "orderly closing file, submitted in time",
    "name_zh": "规范整理提交承办材料",
    "max_points": 15,
    "items": [
     {
      "key": "closing_file.submitted",
      "text": "Submitted a closing file",
      "duty": "R-HDL-5",
      "veto": true
     },
     {
      "key": "closing_file.complete",
      "text": "All materials went into the closing file",
      "duty": "R-HDL-5",
      "veto": false
     },
     {
      "key": "closing_file.in_time",
      "text": "Submitted it within 30 days of the case's end",
      "duty": "R-HDL-6",
      "veto": false
     }
    ]
   }
  ]
 },
 {
  "version": "civil-administrative-v1",
  "standard_id": "civil-administrative",
  "number": 1,
  "code": "SF/T 0085-2020",
  "title": "全国民事行政法律援助服务规范",
  "case_kinds": [
   "civil",
   "administrative",
   "non_litigation"
  ],
  "effective_from": "2021-01-01",
  "indicators": [
   {
    "key": "mandate",
    "members": [
     1
    ],
    "name": "lawful establishment of the mandate",
    "name_zh": "依法确立委托代理关系",
    "max_points": 10,
    "items": [
     {
      "key": "mandate.signed",
      "text": "Signed the mandate (agreement and power of attorney) with the aided person",
      "duty": "R-ASG-9",
      "veto": true
     },
     {
      "key": "mandate.in_time",
      "text": "Signed it within 5 days of assignment",
      "duty": "R-ASG-9",
      "veto": false
     },
     {
      "key": "mandate.in_file",
      "text": "The signed agreement and power of attorney are in the file",
      "duty": "R-ASG-9",
      "veto": false
     },
     {
      "key": "conduct.no_money_taken",
      "text": "Took no money or property from the aided person",
      "duty": "R-HDL-1",
      "veto": true
     }
    ]
   },
   {
    "key": "meeting",
    "members": [
     2
    ],
    "name": "timely and effective meeting with the aided person",
    "name_zh": "及时有效会见受援人",
    "max_points": 10,
    "items": [
     {
      "key": "meeting.met",
      "text": "Met the aided person (约见 in civil and administrative cases)",
      "duty": "R-HDL-1",
      "veto": true
     },
     {
      "key": "meeting.in_time",
      "text": "Met them promptly after assignment",
      "duty": "R-HDL-6",
      "veto": false
     },
     {
      "key": "meeting.according_to_case",
      "text": "Talked according to the case",
      "duty": "R-HDL-1",
      "veto": false
     },
     {
      "key": "meeting.recorded",
      "text": "Recorded the conversation in detail",
      "duty": "R-HDL-1",
      "veto": false
     }
    ]
   },
   {
    "key": "file_review",
    "members": [
     3
    ],
    "name": "timely and effective reading of the case file",
    "name_zh": "及时有效阅卷",
    "max_points": 10,
    "items": [
     {
      "key": "file_review.read",
      "text": "Read the case file",
      "duty": "R-HDL-2",
      "veto": true
     },
     {
      "key": "file_review.notes",
      "text": "Kept complete and specific notes of the reading",
      "duty": "R-HDL-2",
      "veto": false
     }
    ]
   },
   {
    "key": "investigation_work",
    "members": [
     4
    ],
    "name": "lawful investigation and evidence collection",
    "name_zh": "依法调查取证",
    "max_points": 10,
    "items": [
     {
      "key": "investigation.where_needed",
      "text": "Investigated and collected evidence where the case needed it",
      "duty": "R-HDL-4",
      "veto": false
     },
     {
      "key": "investigation.recorded",
      "text": "Recorded the investigation and the evidence collected",
      "duty": "R-HDL-4",
      "veto": false
     }
    ]
   },
   {
    "key": "legal_opinion",
    "members": [
     5
    ],
    "name": "effective legal opinions",
    "name_zh": "有效提出法律意见",
    "max_points": 20,
    "items": [
     {
      "key": "legal_opinion.given",
      "text": "Gave a defence or representation opinion",
      "duty": "R-HDL-3",
      "veto": true
     },
     {
      "key": "legal_opinion.argued_fully",
      "text": "The statement argues fully",
      "duty": "R-HDL-3",
      "veto": false
     }
    ]
   },
   {
    "key": "hearing",
    "members": [
     6
    ],
    "name": "lawful participation in hearings, mediation or arbitration",
    "name_zh": "依法参加庭审活动",
    "max_points": 15,
    "items": [
     {
      "key": "hearing.attended",
      "text": "Attended the hearing (and any mediation or arbitration)",
      "duty": "R-HDL-3",
      "veto": true
     },
     {
      "key": "hearing.argued",
      "text": "Argued the opinion at the hearing",
      "duty": "R-HDL-3",
      "veto": false
     }
    ]
   },
   {
    "key": "notice_and_report_duty",
    "members": [
     7,
     8
    ],
    "name": "performance of the duties to inform and to report",
    "name_zh": "全面履行告知义务和报告义务",
    "max_points": 10,
    "items": [
     {
      "key": "notice.rights_and_obligations",
      "text": "Told the aided person their rights and obligations",
      "duty": "R-HDL-1",
      "veto": false
     },
     {
      "key": "notice.litigation_risks",
      "text": "Told the aided person the litigation risks",
      "duty": "R-HDL-1",
      "veto": false
     },
     {
      "key": "report.major_matters",
      "text": "Reported to the agency on the case's progress and major matters",
      "duty": null,
      "veto": false
     }
    ]
   },
   {
    "key": "closing_file",
    "members": [
     9
    ],
    "name": "orderly closing file, submitted in time",
    "name_zh": "规范整理提交承办材料",
    "max_points": 15,
    "items": [
     {
      "key": "closing_file.submitted",
      "text": "Submitted a closing file",
      "duty": "R-HDL-5",
      "veto": true
     },
     {
      "key": "closing_file.complete",
      "text": "All materials went into the closing file",
      "duty": "R-HDL-5",
      "veto": false
     },
     {
      "key": "closing_file.in_time",
      "text": "Submitted it within 30 days of the case's end",
      "duty": "R-HDL-6",
      "veto": false
     }
    ]
   }
  ]
 }
]
""")


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE evaluation_standard_versions (
            version        text PRIMARY KEY,
            standard_id    text NOT NULL,
            number         integer NOT NULL,
            code           text NOT NULL,
            title          text NOT NULL,
            case_kinds     jsonb NOT NULL,
            effective_from date NOT NULL,
            indicators     jsonb NOT NULL,
            registered_by  text NOT NULL,
            registered_at  timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_evaluation_standard_versions_standard_id "
               "ON evaluation_standard_versions (standard_id)")
    insert = sa.text(
        "INSERT INTO evaluation_standard_versions (version, standard_id, number, code, title, case_kinds, "
        "effective_from, indicators, registered_by, registered_at) VALUES (:version, :standard_id, :number, "
        ":code, :title, CAST(:case_kinds AS jsonb), CAST(:effective_from AS date), "
        "CAST(:indicators AS jsonb), "
        "'seed (migration 0007_standards_opinions)', now())"
    )
    for s in SEED:
        op.get_bind().execute(insert, {**s, "case_kinds": json.dumps(s["case_kinds"]),
                                       "effective_from": date.fromisoformat(s["effective_from"]),
                                       "indicators": json.dumps(s["indicators"], ensure_ascii=False)})
    op.execute(
        """
        CREATE TABLE agency_grading_rules (
            agency_id    text NOT NULL,
            number       integer NOT NULL,
            rule_version text NOT NULL,
            reason       text NOT NULL,
            chosen_by    text NOT NULL,
            chosen_at    timestamptz NOT NULL,
            PRIMARY KEY (agency_id, number)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE organ_opinions (
            case_id     text NOT NULL,
            organ_id    text NOT NULL,
            case_number text,
            agency_id   text NOT NULL,
            organ_kind  text NOT NULL,
            relation    text NOT NULL,
            assessment  text NOT NULL,
            remarks     text NOT NULL,
            given_by    text NOT NULL,
            given_at    timestamptz NOT NULL,
            PRIMARY KEY (case_id, organ_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_organ_opinions_agency_id ON organ_opinions (agency_id)")
    op.execute(
        """
        CREATE TABLE corrections (
            correction_id    text PRIMARY KEY,
            evaluation_id    text NOT NULL,
            case_id          text NOT NULL,
            case_number      text NOT NULL,
            agency_id        text NOT NULL,
            handler_id       text NOT NULL,
            handler_name     text NOT NULL,
            handler_kind     text NOT NULL,
            licence_number   text,
            institution_id   text NOT NULL,
            institution_name text NOT NULL,
            grade            text NOT NULL,
            indicators       jsonb NOT NULL,
            findings         text NOT NULL,
            due_on           date NOT NULL,
            requested_at     timestamptz NOT NULL,
            corrected_at     timestamptz,
            note             text,
            on_time          boolean
        )
        """
    )
    op.execute("CREATE INDEX ix_corrections_case_id ON corrections (case_id)")
    op.execute("CREATE INDEX ix_corrections_handler_id ON corrections (handler_id)")
    op.execute("CREATE INDEX ix_corrections_open ON corrections (agency_id, due_on, correction_id) "
               "WHERE corrected_at IS NULL")
    op.execute(
        """
        CREATE TABLE late_closing_files (
            case_id     text PRIMARY KEY,
            due_at      timestamptz NOT NULL,
            detected_at timestamptz NOT NULL
        )
        """
    )
    op.execute("ALTER TABLE registered_cases ADD COLUMN source_system text")
    op.execute("ALTER TABLE evaluations ADD COLUMN standard_version text")
    # Results recorded before versions were graded under version 1 of their kind's standard.
    op.execute("UPDATE evaluations SET standard_version = CASE standard WHEN 'SF/T 0086-2020' "
               "THEN 'criminal-v1' ELSE 'civil-administrative-v1' END")
    op.execute("ALTER TABLE evaluations ALTER COLUMN standard_version SET NOT NULL")
    op.execute("ALTER TABLE evaluations ADD COLUMN points jsonb")
    op.execute("ALTER TABLE evaluations ADD COLUMN total_points numeric(5, 2)")
    op.execute("ALTER TABLE evaluations ADD COLUMN not_done jsonb NOT NULL DEFAULT '[]'")
    op.execute("ALTER TABLE evaluations ADD COLUMN late_file boolean NOT NULL DEFAULT false")


def downgrade() -> None:
    for column in ("late_file", "not_done", "total_points", "points", "standard_version"):
        op.execute(f"ALTER TABLE evaluations DROP COLUMN {column}")
    op.execute("ALTER TABLE registered_cases DROP COLUMN source_system")
    for table in ("late_closing_files", "corrections", "organ_opinions", "agency_grading_rules",
                  "evaluation_standard_versions"):
        op.execute(f"DROP TABLE {table}")
