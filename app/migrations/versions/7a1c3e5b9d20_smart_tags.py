"""Smart tags: the classifier's details per tag, and the category the customer picked

Revision ID: 7a1c3e5b9d20
Revises: 5eae398da4ed
Create Date: 2026-11-22 18:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '7a1c3e5b9d20'
down_revision = '5eae398da4ed'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tag_details', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('picked_category', sa.String(length=64), nullable=True))
    # Until now a conversation's category was the one its customer picked.
    op.execute("""
        UPDATE conversation SET picked_category = (
            SELECT c.slug FROM category c WHERE c.id = conversation.category_id)
    """)


def downgrade():
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_column('picked_category')
        batch_op.drop_column('tag_details')
