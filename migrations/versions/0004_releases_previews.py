"""Per-locale releases, preview links, unpublished versions, archived essays and units

Revision ID: 0004_releases_previews
Revises: 0003_jobs
Create Date: 2026-12-05 13:00:00.000000

"""
import sqlalchemy as sa
from alembic import op



# revision identifiers, used by Alembic.
revision = '0004_releases_previews'
down_revision = '0003_jobs'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('submitted', 'approved', 'rejected', 'withdrawn', 'superseded')"
NEW_STATUSES = (
    "status IN ('submitted', 'approved', 'rejected', 'withdrawn', 'superseded', 'unpublished')"
)


def upgrade():
    op.create_table(
        'essay_locales',
        sa.Column('essay_id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=35), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('scheduled_state', sa.String(length=16), nullable=True),
        sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('live', 'staged')", name=op.f('ck_essay_locales_state')),
        sa.CheckConstraint(
            "scheduled_state IS NULL OR scheduled_state IN ('live', 'staged')",
            name=op.f('ck_essay_locales_scheduled_state'),
        ),
        sa.CheckConstraint(
            '(scheduled_state IS NULL) = (scheduled_at IS NULL)',
            name=op.f('ck_essay_locales_schedule_complete'),
        ),
        sa.ForeignKeyConstraint(
            ['essay_id'], ['essays.id'],
            name=op.f('fk_essay_locales_essay_id_essays'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('essay_id', 'locale', name=op.f('pk_essay_locales')),
    )
    op.create_index(
        'ix_essay_locales_staged', 'essay_locales', ['essay_id', 'locale', 'state'], unique=False
    )
    op.create_table(
        'preview_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('essay_id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=35), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            'expires_at > created_at', name=op.f('ck_preview_links_expires_after_creation')
        ),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['users.id'],
            name=op.f('fk_preview_links_created_by_id_users'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['essay_id'], ['essays.id'],
            name=op.f('fk_preview_links_essay_id_essays'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_preview_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_preview_links_token_hash')),
    )
    op.create_index(
        op.f('ix_preview_links_essay_id'), 'preview_links', ['essay_id'], unique=False
    )
    with op.batch_alter_table('essays') as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('units') as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
    # SQLite cannot alter a CHECK constraint: batch mode copies the table (its partial
    # index included); PostgreSQL drops and adds the constraint in place.
    with op.batch_alter_table('translation_versions') as batch_op:
        batch_op.drop_constraint(op.f('ck_translation_versions_status'), type_='check')
        batch_op.create_check_constraint('status', NEW_STATUSES)


def downgrade():
    op.execute(
        "UPDATE translation_versions SET status = 'superseded' WHERE status = 'unpublished'"
    )
    with op.batch_alter_table('translation_versions') as batch_op:
        batch_op.drop_constraint(op.f('ck_translation_versions_status'), type_='check')
        batch_op.create_check_constraint('status', OLD_STATUSES)
    with op.batch_alter_table('units') as batch_op:
        batch_op.drop_column('archived_at')
    with op.batch_alter_table('essays') as batch_op:
        batch_op.drop_column('archived_at')
    op.drop_index(op.f('ix_preview_links_essay_id'), table_name='preview_links')
    op.drop_table('preview_links')
    op.drop_index('ix_essay_locales_staged', table_name='essay_locales')
    op.drop_table('essay_locales')
