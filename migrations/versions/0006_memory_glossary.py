"""Translators' aids: the sentence-level translation memory and the glossary

Revision ID: 0006_memory_glossary
Revises: 0005_feed_webhooks
Create Date: 2026-12-05 12:52:55.241528

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_memory_glossary'
down_revision = '0005_feed_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('glossary_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('translations', sa.JSON(), nullable=False),
    sa.Column('forbidden', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(term) > 0', name=op.f('ck_glossary_terms_term_not_empty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_glossary_terms')),
    sa.UniqueConstraint('locale', 'term', name=op.f('uq_glossary_terms_locale_term'))
    )
    op.create_table('memory_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('folded', sa.Text(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.CheckConstraint('length >= 0', name=op.f('ck_memory_sources_length_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memory_sources')),
    sa.UniqueConstraint('locale', 'digest', name=op.f('uq_memory_sources_locale_digest'))
    )
    op.create_table('memory_words',
    sa.Column('word', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['memory_sources.id'], name=op.f('fk_memory_words_source_id_memory_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('word', 'source_id', name=op.f('pk_memory_words'))
    )
    with op.batch_alter_table('memory_words', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memory_words_source_id'), ['source_id'], unique=False)
    op.create_table('memory_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('target_folded', sa.Text(), nullable=False),
    sa.Column('target_digest', sa.String(length=64), nullable=False),
    sa.Column('translation_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('imported OR translation_id IS NOT NULL', name=op.f('ck_memory_units_origin_known')),
    sa.CheckConstraint('position >= 0', name=op.f('ck_memory_units_position_not_negative')),
    sa.ForeignKeyConstraint(['source_id'], ['memory_sources.id'], name=op.f('fk_memory_units_source_id_memory_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['translation_id'], ['translation_versions.id'], name=op.f('fk_memory_units_translation_id_translation_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memory_units'))
    )
    with op.batch_alter_table('memory_units', schema=None) as batch_op:
        batch_op.create_index('ix_memory_units_locale_source', ['locale', 'source_id', 'target_digest', 'imported', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_memory_units_translation_id'), ['translation_id'], unique=False)



def downgrade():
    with op.batch_alter_table('memory_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memory_units_translation_id'))
        batch_op.drop_index('ix_memory_units_locale_source')

    op.drop_table('memory_units')
    with op.batch_alter_table('memory_words', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memory_words_source_id'))
    op.drop_table('memory_words')
    op.drop_table('memory_sources')
    op.drop_table('glossary_terms')
