"""Search fallbacks: which documents the readers of another locale are served, kept beside the index

A search for a reader whose chain falls back to other locales looked, in each of them, at
every matching document and dropped those whose unit has text in an earlier locale: work
in proportion to the matches, for nothing when the reader's own locale has every unit.
The index now keeps, per reader locale, the documents served from another locale.

The table starts empty: ``flask --app wsgi seed`` (or ``search reindex``) fills it on a
database that already holds content; until then searches find only the reader's own locale.

Revision ID: 0015_search_fallbacks
Revises: 0014_search_locale_units
Create Date: 2026-12-07 15:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_search_fallbacks'
down_revision = '0014_search_locale_units'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'search_fallbacks',
        sa.Column('reader', sa.String(length=35), nullable=False),
        sa.Column('locale', sa.String(length=35), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['search_documents.id'], name=op.f('fk_search_fallbacks_document_id_search_documents'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('reader', 'locale', 'document_id', name=op.f('pk_search_fallbacks')),
    )
    op.create_index(op.f('ix_search_fallbacks_document_id'), 'search_fallbacks', ['document_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_search_fallbacks_document_id'), table_name='search_fallbacks')
    op.drop_table('search_fallbacks')
