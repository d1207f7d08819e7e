"""Accounts: email, password and session epoch on users; invitation and reset links

Revision ID: 0012_accounts
Revises: 0011_token_scopes
Create Date: 2026-12-07 06:00:00.000000

Expand only: every new column is nullable or has a default, so a node still running the
previous release writes users as before while another one migrates.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_accounts'
down_revision = '0011_token_scopes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('password_hash', sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.create_unique_constraint(op.f('uq_users_email'), ['email'])
    op.create_table(
        'account_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('role', sa.String(length=16), nullable=True),
        sa.Column('locales', sa.JSON(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('invitation', 'password-reset')", name=op.f('ck_account_links_purpose')
        ),
        sa.CheckConstraint(
            "role IS NULL OR role IN ('translator', 'reviewer', 'admin')",
            name=op.f('ck_account_links_role'),
        ),
        sa.CheckConstraint(
            'expires_at > created_at', name=op.f('ck_account_links_expires_after_creation')
        ),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['users.id'],
            name=op.f('fk_account_links_created_by_id_users'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'],
            name=op.f('fk_account_links_user_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_account_links_token_hash')),
    )
    op.create_index(
        op.f('ix_account_links_user_id'), 'account_links', ['user_id'], unique=False
    )


def downgrade():
    op.drop_index(op.f('ix_account_links_user_id'), table_name='account_links')
    op.drop_table('account_links')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_users_email'), type_='unique')
        batch_op.drop_column('session_epoch')
        batch_op.drop_column('password_hash')
        batch_op.drop_column('email')
