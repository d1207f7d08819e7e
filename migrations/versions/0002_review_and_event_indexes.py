"""Indexes for the admin review queue, the event log's action and unit filters

Revision ID: 0002_review_and_event_indexes
Revises: 0001
Create Date: 2026-12-01 08:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002_review_and_event_indexes'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # The review queue of an admin (every locale) filters on status and pages by age.
    op.create_index(
        'ix_translation_versions_status_created',
        'translation_versions',
        ['status', 'created_at', 'id'],
        unique=False,
    )
    # The event log filtered by action, newest first.
    op.create_index('ix_events_action_id', 'events', ['action', 'id'], unique=False)
    # The event log filtered by unit key: the units with that key, in every essay.
    op.create_index('ix_units_key', 'units', ['key'], unique=False)


def downgrade():
    op.drop_index('ix_units_key', table_name='units')
    op.drop_index('ix_events_action_id', table_name='events')
    op.drop_index('ix_translation_versions_status_created', table_name='translation_versions')
