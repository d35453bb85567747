"""Named, ordered schema migrations of the store.

Each migration is applied once, in order, inside a transaction, and recorded in
``schema_migrations``. Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

Migration = tuple[str, Callable[[duckdb.DuckDBPyConnection], None] | str]

# Columns every snapshot row carries from the features step (docs/architecture.md).
FEATURE_COLUMNS_SQL = """
    first_purchase DATE, last_purchase DATE,
    frequency BIGINT, recency DOUBLE, "T" DOUBLE, n_orders BIGINT,
    total_amount DOUBLE, mean_amount DOUBLE, monetary_value DOUBLE,
    refund_count BIGINT, refund_amount DOUBLE, margin_total DOUBLE,
    days_since_last BIGINT, visits_30d BIGINT,
    visits_b1 BIGINT, visits_b2 BIGINT, visits_b3 BIGINT,
    spend_b1 DOUBLE, spend_b2 DOUBLE, spend_b3 DOUBLE,
    value_period DOUBLE, value_prev_period DOUBLE, value_same_period_ly DOUBLE,
    gap_mean DOUBLE, gap_median DOUBLE
"""

MIGRATIONS: list[Migration] = [
    ("0001_ingested_data", """
        CREATE TABLE customers (
            customer_key BIGINT PRIMARY KEY,
            customer_id VARCHAR NOT NULL UNIQUE,
            name VARCHAR, kind VARCHAR, region VARCHAR, city VARCHAR, industry VARCHAR,
            size VARCHAR, age DOUBLE, gender VARCHAR, tags VARCHAR, credit_rating VARCHAR,
            account_manager VARCHAR, phone VARCHAR, email VARCHAR, joined_at DATE,
            created_from_orders BOOLEAN NOT NULL DEFAULT FALSE,
            attributes JSON,
            source VARCHAR
        );
        CREATE TABLE orders (
            order_id VARCHAR NOT NULL,
            customer_key BIGINT NOT NULL,
            ordered_at DATE NOT NULL,
            amount DOUBLE NOT NULL,
            cost DOUBLE, margin DOUBLE,
            channel VARCHAR, agent VARCHAR, store VARCHAR, status VARCHAR,
            is_refund BOOLEAN NOT NULL,
            source VARCHAR
        );
        CREATE SEQUENCE ingest_id_seq START 1;
        CREATE TABLE ingests (
            ingest_id BIGINT PRIMARY KEY DEFAULT nextval('ingest_id_seq'),
            ingested_at TIMESTAMP NOT NULL,
            source VARCHAR NOT NULL, kind VARCHAR NOT NULL,
            rows_in BIGINT NOT NULL, accepted BIGINT NOT NULL, rejected BIGINT NOT NULL,
            inserted BIGINT NOT NULL, replaced BIGINT NOT NULL,
            rejects_file VARCHAR, encoding VARCHAR
        );
    """),
    ("0002_runs_and_snapshots", f"""
        CREATE SEQUENCE run_id_seq START 1;
        CREATE TABLE runs (
            run_id BIGINT PRIMARY KEY,
            period VARCHAR NOT NULL,
            as_of DATE NOT NULL,
            config_hash VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            engine VARCHAR NOT NULL,
            n_customers BIGINT NOT NULL,
            meta JSON
        );
        CREATE TABLE snapshot_customers (
            run_id BIGINT NOT NULL,
            customer_key BIGINT NOT NULL,
            customer_id VARCHAR NOT NULL,
            name VARCHAR, phone VARCHAR, account_manager VARCHAR,
            created_from_orders BOOLEAN,
            {FEATURE_COLUMNS_SQL}
        );
    """),
]
