"""Notifications: settings per person, locale and kind; notifications; interface locale

Revision ID: 0013_notifications
Revises: 0012_accounts
Create Date: 2026-12-07 12:30:00.000000

Expand only: new tables and one nullable column, so a node still running the previous
release works on while another one migrates.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_notifications'
down_revision = '0012_accounts'
branch_labels = None
depends_on = None

KINDS = "kind IN ('source.changed', 'translation.reviewed', 'review.waiting')"


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interface_locale', sa.String(length=35), nullable=True))
    op.create_table(
        'notification_settings',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=35), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.CheckConstraint(KINDS, name=op.f('ck_notification_settings_kind_known')),
        sa.CheckConstraint(
            "mode IN ('off', 'instant', 'daily')", name=op.f('ck_notification_settings_mode_known')
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'],
            name=op.f('fk_notification_settings_user_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('user_id', 'locale', 'kind', name=op.f('pk_notification_settings')),
    )
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('locale', sa.String(length=35), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('digest_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(KINDS, name=op.f('ck_notifications_kind_known')),
        sa.CheckConstraint(
            "mode IN ('instant', 'daily')", name=op.f('ck_notifications_mode_known')
        ),
        sa.ForeignKeyConstraint(
            ['event_id'], ['events.id'],
            name=op.f('fk_notifications_event_id_events'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'],
            name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_notifications_event_id'), ['event_id'], unique=False
        )
        batch_op.create_index('ix_notifications_user_id_id', ['user_id', 'id'], unique=False)
        batch_op.create_index(
            'ix_notifications_user_id_read_at', ['user_id', 'read_at'], unique=False
        )
        batch_op.create_index(
            'ix_notifications_user_id_digest_at', ['user_id', 'digest_at'], unique=False
        )


def downgrade():
    op.drop_table('notifications')
    op.drop_table('notification_settings')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('interface_locale')
