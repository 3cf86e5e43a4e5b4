"""Tagger versions: a brand's retrained tagging models

Revision ID: 9b2d4f6a8c31
Revises: 7a1c3e5b9d20
Create Date: 2026-11-22 19:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '9b2d4f6a8c31'
down_revision = '7a1c3e5b9d20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tagger_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('brand_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=12), nullable=False),
        sa.Column('examples', sa.Integer(), nullable=False),
        sa.Column('corrections', sa.Integer(), nullable=False),
        sa.Column('report', sa.JSON(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('model', sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(['brand_id'], ['brand.id'],
                                name=op.f('fk_tagger_version_brand_id_brand')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tagger_version')),
        sa.UniqueConstraint('brand_id', 'version', name=op.f('uq_tagger_version_brand_id')),
    )
    with op.batch_alter_table('tagger_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tagger_version_brand_id'), ['brand_id'],
                              unique=False)
    with op.batch_alter_table('brand', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tagger_version_id', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('brand', schema=None) as batch_op:
        batch_op.drop_column('tagger_version_id')
    with op.batch_alter_table('tagger_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tagger_version_brand_id'))
    op.drop_table('tagger_version')
