"""The search documents' locale index carries their unit, so a search lists what it may serve from the index alone

A search lists, for each locale of the reader's chain, the documents it may serve: those
of the locale whose unit has no text in an earlier locale of the chain. With the unit in
the index, that list is read from the index without visiting the documents' rows.

Revision ID: 0014_search_locale_units
Revises: 0013_notifications
Create Date: 2026-12-07 13:15:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014_search_locale_units'
down_revision = '0013_notifications'
branch_labels = None
depends_on = None


# Plain index statements (no batch): on SQLite, a rebuilt table would lose the FTS5
# triggers that follow it.
def upgrade():
    op.drop_index('ix_search_documents_locale', table_name='search_documents')
    op.create_index('ix_search_documents_locale', 'search_documents', ['locale', 'source', 'unit_id'])


def downgrade():
    op.drop_index('ix_search_documents_locale', table_name='search_documents')
    op.create_index('ix_search_documents_locale', 'search_documents', ['locale', 'source'])
