"""The search index: documents, with SQLite's FTS5 table or PostgreSQL's GIN index

Run ``flask --app wsgi search reindex`` once after this upgrade on a database that
already holds content (``flask seed`` does it when it finds the index empty).

Revision ID: 0010_search_index
Revises: 0009_job_request_id
Create Date: 2026-12-08 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0010_search_index'
down_revision = '0009_job_request_id'
branch_labels = None
depends_on = None

# The FTS5 table indexes the documents' terms and only splits them at the spaces: the
# ``ascii`` tokenizer takes every character above 127 as part of a token and folds no
# case or accent, so the terms stay exactly as the analyzer wrote them. It reads its
# rows from ``search_documents`` (external content), kept in step by the triggers.
SQLITE = [
    """CREATE VIRTUAL TABLE search_index USING fts5(
        heading_terms, body_terms,
        content='search_documents', content_rowid='id', tokenize='ascii'
    )""",
    """CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN
        INSERT INTO search_index(rowid, heading_terms, body_terms)
        VALUES (new.id, new.heading_terms, new.body_terms);
    END""",
    """CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN
        INSERT INTO search_index(search_index, rowid, heading_terms, body_terms)
        VALUES ('delete', old.id, old.heading_terms, old.body_terms);
    END""",
    """CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN
        INSERT INTO search_index(search_index, rowid, heading_terms, body_terms)
        VALUES ('delete', old.id, old.heading_terms, old.body_terms);
        INSERT INTO search_index(rowid, heading_terms, body_terms)
        VALUES (new.id, new.heading_terms, new.body_terms);
    END""",
]


def upgrade():
    op.create_table(
        'search_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('essay_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=35), nullable=False),
        sa.Column('source', sa.Boolean(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('heading', sa.Text(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('heading_terms', sa.Text(), nullable=True),
        sa.Column('body_terms', sa.Text(), nullable=True),
        sa.Column('terms', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=True),
        sa.ForeignKeyConstraint(['essay_id'], ['essays.id'], name=op.f('fk_search_documents_essay_id_essays'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_search_documents_unit_id_units'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_documents')),
        sa.UniqueConstraint('unit_id', 'locale', name=op.f('uq_search_documents_unit_id_locale')),
    )
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_documents_essay_id'), ['essay_id'], unique=False)
        batch_op.create_index('ix_search_documents_locale', ['locale', 'source'], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for statement in SQLITE:
            op.execute(statement)
    elif dialect == 'postgresql':
        op.create_index('ix_search_documents_terms', 'search_documents', ['terms'], postgresql_using='gin')


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for trigger in ('search_documents_au', 'search_documents_ad', 'search_documents_ai'):
            op.execute(f'DROP TRIGGER IF EXISTS {trigger}')
        op.execute('DROP TABLE IF EXISTS search_index')
    elif dialect == 'postgresql':
        op.drop_index('ix_search_documents_terms', table_name='search_documents')
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_search_documents_locale')
        batch_op.drop_index(batch_op.f('ix_search_documents_essay_id'))
    op.drop_table('search_documents')
