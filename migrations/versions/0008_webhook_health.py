"""Webhook health: failures since the last success, the latest one and why

Revision ID: 0008_webhook_health
Revises: 0007_webhook_secret_rotation
Create Date: 2026-12-07 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_webhook_health'
down_revision = '0007_webhook_secret_rotation'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('consecutive_failures', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_failure_reason', sa.String(length=500), nullable=True))
        batch_op.create_check_constraint(
            'consecutive_failures_not_negative', 'consecutive_failures >= 0'
        )


def downgrade():
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_webhooks_consecutive_failures_not_negative'), type_='check')
        batch_op.drop_column('last_failure_reason')
        batch_op.drop_column('last_failure_at')
        batch_op.drop_column('failing_since')
        batch_op.drop_column('consecutive_failures')
