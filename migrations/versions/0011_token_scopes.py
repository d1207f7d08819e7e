"""Personal tokens: a name, the scopes a token carries and when it expires

Revision ID: 0011_token_scopes
Revises: 0010_search_index
Create Date: 2026-12-08 10:00:00.000000

Three nullable columns, which old code ignores; a token with none of them set (every
token made before) carries its user's whole role and never expires, as it always did.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_token_scopes'
down_revision = '0010_search_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('scopes', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scopes')
        batch_op.drop_column('name')
