"""The change feed (a counter row and its items) and webhooks with their delivery log

Revision ID: 0005_feed_webhooks
Revises: 0004_releases_previews
Create Date: 2026-12-05 13:00:00.000000

"""
import json
from datetime import datetime

from alembic import op
import sqlalchemy as sa

# The event actions the feed shows when this migration was written (api.services.outbound.changes).
FEED_TYPES = {
    'translation.approved': ('translation.published', 'translation', False),
    'translation.restored': ('translation.published', 'translation', False),
    'source.created': ('source.updated', 'source', True),
    'source.edited': ('source.updated', 'source', True),
    'essay.created': ('essay.created', None, True),
}


# revision identifiers, used by Alembic.
revision = '0005_feed_webhooks'
down_revision = '0004_releases_previews'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feed_counter',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_feed_counter_single_row')),
    sa.CheckConstraint('position >= 0', name=op.f('ck_feed_counter_position_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_counter'))
    )
    # The one row every public change raises, under its lock.
    op.execute("INSERT INTO feed_counter (id, position) VALUES (1, 0)")
    op.create_table('changes',
    sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.CheckConstraint('position >= 1', name=op.f('ck_changes_position_positive')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_changes_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('position', name=op.f('pk_changes')),
    sa.UniqueConstraint('event_id', name=op.f('uq_changes_event_id'))
    )
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.create_index('ix_changes_locale_position', ['locale', 'position'], unique=False)

    op.create_table('webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('locales', sa.JSON(), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks'))
    )
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'succeeded', 'failed')", name=op.f('ck_webhook_deliveries_state')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_webhook_deliveries_attempts_not_negative')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_webhook_deliveries_event_id_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('message_id', name=op.f('uq_webhook_deliveries_message_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_webhook_id_id', ['webhook_id', 'id'], unique=False)

    op.create_table('webhook_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('next_retry_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id'], name=op.f('fk_webhook_attempts_delivery_id_webhook_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts'))
    )
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_attempts_delivery_id'), ['delivery_id'], unique=False)

    _backfill()


def _backfill():
    """Give a database that already has publications its feed, so a first sync gets them.

    Every event here committed before the feed existed, so event order is a valid commit
    order. The essay revision at the time of each change is not recorded: it is left out.
    """
    bind = op.get_bind()
    events = bind.execute(sa.text(
        "SELECT e.id, e.at, e.action, e.locale, e.after, s.slug, u.key, u.id AS unit_id,"
        " t.version, t.heading, t.body"
        " FROM events e LEFT JOIN essays s ON s.id = e.essay_id"
        " LEFT JOIN units u ON u.id = e.unit_id"
        " LEFT JOIN translation_versions t ON t.id = e.translation_id"
        " WHERE e.action IN ('translation.approved', 'translation.restored',"
        " 'source.created', 'source.edited', 'essay.created') ORDER BY e.id"
    )).mappings().all()
    changes = sa.table(
        'changes',
        sa.column('position', sa.BigInteger), sa.column('event_id', sa.Integer),
        sa.column('at', sa.DateTime(timezone=True)), sa.column('type', sa.String),
        sa.column('locale', sa.String), sa.column('data', sa.JSON),
    )
    rows = []
    for position, event in enumerate(events, start=1):
        kind, text, every_locale = FEED_TYPES[event['action']]
        after = event['after']
        if isinstance(after, str):
            after = json.loads(after)
        after = after or {}
        data = {
            'essay': event['slug'], 'unit': event['key'], 'locale': event['locale'],
            'version': event['version'], 'revision': None, 'heading': None, 'body': None,
        }
        if text == 'translation':
            data['heading'], data['body'] = event['heading'], event['body']
        elif text == 'source':
            data['version'] = after.get('revision')
            data['heading'], data['body'] = after.get('heading'), after.get('body')
        at = event['at']
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        rows.append({
            'position': position, 'event_id': event['id'], 'at': at, 'type': kind,
            'locale': None if every_locale else event['locale'], 'data': data,
        })
    if rows:
        op.bulk_insert(changes, rows)
        bind.execute(sa.text("UPDATE feed_counter SET position = :n WHERE id = 1"), {'n': len(rows)})


def downgrade():
    with op.batch_alter_table('webhook_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_attempts_delivery_id'))
    op.drop_table('webhook_attempts')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_webhook_id_id')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhooks')
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_index('ix_changes_locale_position')
    op.drop_table('changes')
    op.drop_table('feed_counter')
