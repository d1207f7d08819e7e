"""Webhook secret rotation: the previous secret signs beside the new one for a while

Revision ID: 0007_webhook_secret_rotation
Revises: 0006_memory_glossary
Create Date: 2026-12-05 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_webhook_secret_rotation'
down_revision = '0006_memory_glossary'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_secret', sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column('previous_secret_expires_at', sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.drop_column('previous_secret_expires_at')
        batch_op.drop_column('previous_secret')
