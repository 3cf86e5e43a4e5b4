"""Routing rules, and when each member of staff was last given a conversation

Revision ID: b3e5a7c9d142
Revises: 9b2d4f6a8c31
Create Date: 2026-11-22 19:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b3e5a7c9d142'
down_revision = '9b2d4f6a8c31'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'routing_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=64), nullable=True),
        sa.Column('touchpoint_id', sa.Integer(), nullable=True),
        sa.Column('urgency', sa.String(length=64), nullable=True),
        sa.Column('language', sa.String(length=5), nullable=True),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['brand_id'], ['brand.id'],
                                name=op.f('fk_routing_rule_brand_id_brand')),
        sa.ForeignKeyConstraint(['team_id'], ['team.id'],
                                name=op.f('fk_routing_rule_team_id_team')),
        sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoint.id'],
                                name=op.f('fk_routing_rule_touchpoint_id_touchpoint')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rule')),
    )
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_rule_brand_id'), ['brand_id'], unique=False)
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_routed_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.drop_column('last_routed_at')
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_rule_brand_id'))
    op.drop_table('routing_rule')
