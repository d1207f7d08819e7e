"""The outbox: jobs written with a change and done by the worker after it commits

Revision ID: 0003_jobs
Revises: 0002_review_and_event_indexes
Create Date: 2026-12-05 13:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003_jobs'
down_revision = '0002_review_and_event_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('run_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'running', 'done', 'failed')", name=op.f('ck_jobs_state_known')
        ),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_jobs_attempts_not_negative')),
        sa.ForeignKeyConstraint(
            ['event_id'], ['events.id'], name=op.f('fk_jobs_event_id_events'), ondelete='SET NULL'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    )
    op.create_index('ix_jobs_state_run_at', 'jobs', ['state', 'run_at'], unique=False)


def downgrade():
    op.drop_index('ix_jobs_state_run_at', table_name='jobs')
    op.drop_table('jobs')
