"""payments

Revision ID: 0500
Revises: 0400
Create Date: 2026-11-22 00:52:34.643752+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision: str = '0500'
down_revision: str | None = '0400'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Every payments table is tenant-owned and guarded by row-level security; webhook events of the
# platform's own Razorpay account have tenant_id NULL and are seen only with the explicit bypass.
TENANT_TABLES = ["payment_settings", "coupons", "coupon_redemptions", "orders", "order_lines", "payments", "refunds", "wallet_accounts", "wallet_entries", "invoice_counters", "invoices", "gateway_webhook_events"]


def upgrade() -> None:
    op.create_table('coupons',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('percent_bp', sa.Integer(), nullable=True),
    sa.Column('amount_off', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('max_discount', sa.BigInteger(), nullable=True),
    sa.Column('min_order_amount', sa.BigInteger(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('max_uses', sa.Integer(), nullable=True),
    sa.Column('max_uses_per_client', sa.Integer(), nullable=True),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.Column('offering_kinds', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('offering_ids', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("kind IN ('percent', 'fixed')", name=op.f('ck_coupons_kind')),
    sa.CheckConstraint('max_uses IS NULL OR uses <= max_uses', name=op.f('ck_coupons_uses_within_limit')),
    sa.CheckConstraint('uses >= 0', name=op.f('ck_coupons_uses_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_coupons_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_coupons_tenant_id_code'))
    )
    op.create_index(op.f('ix_coupons_tenant_id'), 'coupons', ['tenant_id'], unique=False)
    op.create_table('gateway_webhook_events',
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_gateway_webhook_events_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_webhook_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_gateway_webhook_events_event_id'))
    )
    op.create_index(op.f('ix_gateway_webhook_events_processed_at'), 'gateway_webhook_events', ['processed_at'], unique=False)
    op.create_index(op.f('ix_gateway_webhook_events_tenant_id'), 'gateway_webhook_events', ['tenant_id'], unique=False)
    op.create_table('invoice_counters',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('series', sa.String(length=32), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_invoice_counters_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'series', name=op.f('pk_invoice_counters'))
    )
    op.create_table('payment_settings',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('gst_mode', sa.String(length=16), nullable=False),
    sa.Column('gst_rate_bp', sa.Integer(), nullable=False),
    sa.Column('gstin', sa.String(length=15), nullable=True),
    sa.Column('legal_name', sa.String(length=200), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('invoice_prefix', sa.String(length=16), nullable=False),
    sa.Column('payment_window_minutes', sa.Integer(), nullable=False),
    sa.Column('razorpay_key_id', sa.String(length=64), nullable=True),
    sa.Column('razorpay_key_secret_encrypted', sa.String(length=512), nullable=True),
    sa.Column('razorpay_webhook_secret_encrypted', sa.String(length=512), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("gst_mode IN ('none', 'inclusive', 'exclusive')", name=op.f('ck_payment_settings_gst_mode')),
    sa.CheckConstraint('gst_rate_bp >= 0 AND gst_rate_bp <= 10000', name=op.f('ck_payment_settings_gst_rate')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_payment_settings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_settings')),
    sa.UniqueConstraint('tenant_id', name=op.f('uq_payment_settings_tenant_id'))
    )
    op.create_index(op.f('ix_payment_settings_tenant_id'), 'payment_settings', ['tenant_id'], unique=False)
    op.create_table('orders',
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('subtotal', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('taxable', sa.BigInteger(), nullable=False),
    sa.Column('tax', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('wallet_applied', sa.BigInteger(), nullable=False),
    sa.Column('amount_due', sa.BigInteger(), nullable=False),
    sa.Column('amount_paid', sa.BigInteger(), nullable=False),
    sa.Column('amount_refunded', sa.BigInteger(), nullable=False),
    sa.Column('gst_mode', sa.String(length=16), nullable=False),
    sa.Column('gst_rate_bp', sa.Integer(), nullable=False),
    sa.Column('gstin', sa.String(length=15), nullable=True),
    sa.Column('coupon_id', sa.Uuid(), nullable=True),
    sa.Column('coupon_code', sa.String(length=40), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('gateway_key_id', sa.String(length=64), nullable=True),
    sa.Column('gateway_order_id', sa.String(length=64), nullable=True),
    sa.Column('paid_payment_id', sa.String(length=64), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('wallet_released', sa.Boolean(), nullable=False),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('amount_due = total - wallet_applied', name=op.f('ck_orders_due_is_total_less_wallet')),
    sa.CheckConstraint('amount_refunded <= amount_paid + wallet_applied', name=op.f('ck_orders_refund_within_paid')),
    sa.CheckConstraint('subtotal >= 0 AND discount >= 0 AND tax >= 0 AND wallet_applied >= 0 AND amount_due >= 0 AND amount_paid >= 0 AND amount_refunded >= 0', name=op.f('ck_orders_amounts')),
    sa.CheckConstraint('total = taxable + tax', name=op.f('ck_orders_total_is_taxable_plus_tax')),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], name=op.f('fk_orders_client_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_orders_coupon_id_coupons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_orders_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_orders_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('gateway_order_id', name=op.f('uq_orders_gateway_order_id'))
    )
    op.create_index(op.f('ix_orders_client_id'), 'orders', ['client_id'], unique=False)
    op.create_index('ix_orders_status_created', 'orders', ['status', 'created_at'], unique=False)
    op.create_index(op.f('ix_orders_tenant_id'), 'orders', ['tenant_id'], unique=False)
    op.create_table('wallet_accounts',
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], name=op.f('fk_wallet_accounts_client_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_wallet_accounts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_accounts')),
    sa.UniqueConstraint('tenant_id', 'client_id', 'currency', name=op.f('uq_wallet_accounts_tenant_id_client_id_currency'))
    )
    op.create_index(op.f('ix_wallet_accounts_client_id'), 'wallet_accounts', ['client_id'], unique=False)
    op.create_index(op.f('ix_wallet_accounts_tenant_id'), 'wallet_accounts', ['tenant_id'], unique=False)
    op.create_table('coupon_redemptions',
    sa.Column('coupon_id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], name=op.f('fk_coupon_redemptions_client_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_redemptions_coupon_id_coupons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_coupon_redemptions_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_coupon_redemptions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_redemptions')),
    sa.UniqueConstraint('order_id', name=op.f('uq_coupon_redemptions_order_id'))
    )
    op.create_index('ix_coupon_redemptions_coupon_client', 'coupon_redemptions', ['coupon_id', 'client_id'], unique=False)
    op.create_index(op.f('ix_coupon_redemptions_tenant_id'), 'coupon_redemptions', ['tenant_id'], unique=False)
    op.create_table('invoices',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('series', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('invoice_number', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('tax', sa.BigInteger(), nullable=False),
    sa.Column('gstin', sa.String(length=15), nullable=True),
    sa.Column('seller', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('buyer', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_invoices_order_id_orders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_invoices_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('order_id', name=op.f('uq_invoices_order_id')),
    sa.UniqueConstraint('tenant_id', 'series', 'number', name=op.f('uq_invoices_tenant_id_series_number'))
    )
    op.create_index(op.f('ix_invoices_tenant_id'), 'invoices', ['tenant_id'], unique=False)
    op.create_table('order_lines',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('offering_id', sa.String(length=100), nullable=True),
    sa.Column('ref_id', sa.String(length=100), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_amount', sa.BigInteger(), nullable=False),
    sa.Column('gross', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('taxable', sa.BigInteger(), nullable=False),
    sa.Column('tax', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('status_detail', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('quantity > 0 AND unit_amount >= 0 AND discount >= 0 AND tax >= 0', name=op.f('ck_order_lines_amounts')),
    sa.CheckConstraint('total = taxable + tax', name=op.f('ck_order_lines_total_is_taxable_plus_tax')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_order_lines_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines')),
    sa.UniqueConstraint('order_id', 'position', name=op.f('uq_order_lines_order_id_position'))
    )
    op.create_index(op.f('ix_order_lines_order_id'), 'order_lines', ['order_id'], unique=False)
    op.create_index(op.f('ix_order_lines_tenant_id'), 'order_lines', ['tenant_id'], unique=False)
    op.create_table('payments',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('gateway_payment_id', sa.String(length=64), nullable=False),
    sa.Column('gateway_order_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('method', sa.String(length=32), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payments_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_payments_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('gateway_payment_id', name=op.f('uq_payments_gateway_payment_id'))
    )
    op.create_index(op.f('ix_payments_order_id'), 'payments', ['order_id'], unique=False)
    op.create_index(op.f('ix_payments_tenant_id'), 'payments', ['tenant_id'], unique=False)
    op.create_table('refunds',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('gateway_payment_id', sa.String(length=64), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('gateway_amount', sa.BigInteger(), nullable=False),
    sa.Column('wallet_amount', sa.BigInteger(), nullable=False),
    sa.Column('destination', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('gateway_refund_id', sa.String(length=64), nullable=True),
    sa.Column('requested_by', sa.Uuid(), nullable=True),
    sa.Column('cancellation_ref', sa.String(length=100), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('amount > 0 AND gateway_amount >= 0 AND wallet_amount >= 0 AND amount = gateway_amount + wallet_amount', name=op.f('ck_refunds_amounts')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_refunds_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_refunds_requested_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_refunds_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('gateway_refund_id', name=op.f('uq_refunds_gateway_refund_id')),
    sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_refunds_tenant_id_key'))
    )
    op.create_index(op.f('ix_refunds_order_id'), 'refunds', ['order_id'], unique=False)
    op.create_index(op.f('ix_refunds_tenant_id'), 'refunds', ['tenant_id'], unique=False)
    op.create_table('wallet_entries',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=True),
    sa.Column('refund_id', sa.Uuid(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_wallet_entries_amount_not_zero')),
    sa.CheckConstraint('balance_after >= 0', name=op.f('ck_wallet_entries_never_negative')),
    sa.ForeignKeyConstraint(['account_id'], ['wallet_accounts.id'], name=op.f('fk_wallet_entries_account_id_wallet_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_wallet_entries_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_wallet_entries_order_id_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_wallet_entries_refund_id_refunds'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_wallet_entries_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_entries')),
    sa.UniqueConstraint('tenant_id', 'dedupe_key', name=op.f('uq_wallet_entries_tenant_id_dedupe_key'))
    )
    op.create_index(op.f('ix_wallet_entries_account_id'), 'wallet_entries', ['account_id'], unique=False)
    op.create_index(op.f('ix_wallet_entries_created_at'), 'wallet_entries', ['created_at'], unique=False)
    op.create_index(op.f('ix_wallet_entries_tenant_id'), 'wallet_entries', ['tenant_id'], unique=False)

    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    op.drop_index(op.f('ix_wallet_entries_tenant_id'), table_name='wallet_entries')
    op.drop_index(op.f('ix_wallet_entries_created_at'), table_name='wallet_entries')
    op.drop_index(op.f('ix_wallet_entries_account_id'), table_name='wallet_entries')
    op.drop_table('wallet_entries')
    op.drop_index(op.f('ix_refunds_tenant_id'), table_name='refunds')
    op.drop_index(op.f('ix_refunds_order_id'), table_name='refunds')
    op.drop_table('refunds')
    op.drop_index(op.f('ix_payments_tenant_id'), table_name='payments')
    op.drop_index(op.f('ix_payments_order_id'), table_name='payments')
    op.drop_table('payments')
    op.drop_index(op.f('ix_order_lines_tenant_id'), table_name='order_lines')
    op.drop_index(op.f('ix_order_lines_order_id'), table_name='order_lines')
    op.drop_table('order_lines')
    op.drop_index(op.f('ix_invoices_tenant_id'), table_name='invoices')
    op.drop_table('invoices')
    op.drop_index(op.f('ix_coupon_redemptions_tenant_id'), table_name='coupon_redemptions')
    op.drop_index('ix_coupon_redemptions_coupon_client', table_name='coupon_redemptions')
    op.drop_table('coupon_redemptions')
    op.drop_index(op.f('ix_wallet_accounts_tenant_id'), table_name='wallet_accounts')
    op.drop_index(op.f('ix_wallet_accounts_client_id'), table_name='wallet_accounts')
    op.drop_table('wallet_accounts')
    op.drop_index(op.f('ix_orders_tenant_id'), table_name='orders')
    op.drop_index('ix_orders_status_created', table_name='orders')
    op.drop_index(op.f('ix_orders_client_id'), table_name='orders')
    op.drop_table('orders')
    op.drop_index(op.f('ix_payment_settings_tenant_id'), table_name='payment_settings')
    op.drop_table('payment_settings')
    op.drop_table('invoice_counters')
    op.drop_index(op.f('ix_gateway_webhook_events_tenant_id'), table_name='gateway_webhook_events')
    op.drop_index(op.f('ix_gateway_webhook_events_processed_at'), table_name='gateway_webhook_events')
    op.drop_table('gateway_webhook_events')
    op.drop_index(op.f('ix_coupons_tenant_id'), table_name='coupons')
    op.drop_table('coupons')
