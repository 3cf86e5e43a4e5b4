"""ratings and the brand's satisfaction settings

Revision ID: 81d7a7498ab2
Revises: ddb686589835
Create Date: 2026-12-02 06:36:15.618933

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '81d7a7498ab2'
down_revision = 'ddb686589835'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('csat', sa.Integer(), nullable=True),
    sa.Column('nps', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], name=op.f('fk_rating_brand_id_brand')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_rating_conversation_id_conversation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating')),
    sa.UniqueConstraint('conversation_id', 'round', name=op.f('uq_rating_conversation_id'))
    )
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rating_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rating_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rating_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('brand', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rating_mode', sa.String(length=4), server_default='csat', nullable=False))
        batch_op.add_column(sa.Column('rating_days', sa.Integer(), server_default='7', nullable=False))
        batch_op.add_column(sa.Column('response_target_minutes', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('visit_minutes', sa.Integer(), server_default='60', nullable=False))

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('csat', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('nps', sa.Integer(), nullable=True))
        batch_op.create_index('ix_conversation_brand_created', ['brand_id', 'created_at'], unique=False)
    customer_written = sa.text("author_kind = 'customer' AND internal IS false")
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_customer_created', ['created_at', 'conversation_id'],
                              unique=False, postgresql_where=customer_written,
                              sqlite_where=customer_written)
    # Conversations resolved before ratings existed count as resolved once.
    op.execute("UPDATE conversation SET resolved_count = 1 WHERE status = 'resolved'")


def downgrade():
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_customer_created')

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_brand_created')
        batch_op.drop_column('nps')
        batch_op.drop_column('csat')
        batch_op.drop_column('resolved_count')

    with op.batch_alter_table('brand', schema=None) as batch_op:
        batch_op.drop_column('visit_minutes')
        batch_op.drop_column('response_target_minutes')
        batch_op.drop_column('rating_days')
        batch_op.drop_column('rating_mode')

    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_created_at'))
        batch_op.drop_index(batch_op.f('ix_rating_conversation_id'))
        batch_op.drop_index(batch_op.f('ix_rating_brand_id'))

    op.drop_table('rating')
