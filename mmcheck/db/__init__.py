"""The compatibility database: projector types, lineages, families and runtimes.

``load_db()`` returns a validated, immutable :class:`CompatDB` (cached as JSON between runs);
``validate_db()`` lists every error of a database directory. See docs/compat-db.md.
"""

from mmcheck.db.loader import default_db_path, load_db, validate_db
from mmcheck.db.model import (
    CompatDB,
    Encoder,
    Family,
    FamilyVariant,
    Lineage,
    Marker,
    MergeRule,
    ProjectorType,
    Runtime,
    RuntimeVersion,
    TokenRule,
    WidthRule,
)

__all__ = [
    "CompatDB",
    "Encoder",
    "Family",
    "FamilyVariant",
    "Lineage",
    "Marker",
    "MergeRule",
    "ProjectorType",
    "Runtime",
    "RuntimeVersion",
    "TokenRule",
    "WidthRule",
    "default_db_path",
    "load_db",
    "validate_db",
]
