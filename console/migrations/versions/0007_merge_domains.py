"""Merge the domain branches (QA rollups, reception indexes, customer gaps) into one head.

Revision ID: 0007_merge_domains
Revises: 0004_qa, 0005_reception, 0006_customers
Create Date: 2026-11-25
"""

from collections.abc import Sequence

revision: str = "0007_merge_domains"
down_revision: str | Sequence[str] | None = ("0004_qa", "0005_reception", "0006_customers")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
