"""Transactional records: labels, cases, rule and model versions, lists and the audit trail.

SQLAlchemy Core over SQLite by default (a file) or PostgreSQL (``RAMPART_RECORDS_URL``, psycopg
3), one schema migrated by the Alembic scripts shipped here, one test suite run on both. Every
change writes its audit row in the same transaction; nothing stored is raw PII.

Modules, each one thing: ``schema`` (tables), ``columns`` (portable types), ``connect`` (URL and
engine), ``migrate`` (Alembic in process), ``base`` (protocols and records), ``entities``
(pseudonymising PII-like ids), ``audit``, ``labels``, ``validation`` and ``intake`` (the label
stream), ``cases``, ``versions``, ``lists``, ``promotion``, and ``store`` (all of it, opened).
"""

from rampart.records.base import RecordsError
from rampart.records.connect import RECORDS_URL_ENV, records_url
from rampart.records.entities import EntityKeeper, NeedsSecretError
from rampart.records.intake import LabelIntakeStats, LabelRejects, take_labels
from rampart.records.promotion import Promotion, promote_model, promote_rule
from rampart.records.store import Records
from rampart.records.validation import LabelProblem, parse_label

__all__ = [
    "RECORDS_URL_ENV",
    "EntityKeeper",
    "LabelIntakeStats",
    "LabelProblem",
    "LabelRejects",
    "NeedsSecretError",
    "Promotion",
    "Records",
    "RecordsError",
    "parse_label",
    "promote_model",
    "promote_rule",
    "records_url",
    "take_labels",
]
