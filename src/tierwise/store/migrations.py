"""Named, ordered schema migrations of the store.

Each migration is applied once, in order, inside a transaction, and recorded in
``schema_migrations``. Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from .language_codes import migrate as _language_codes
from .purchase_days import migrate as _purchase_days
from .tier_reason_codes import migrate as _tier_reason_codes

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
    ("0003_results_columns", """
        ALTER TABLE snapshot_customers ADD COLUMN kind VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN region VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN city VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN industry VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN size VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN credit_rating VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN tags VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN email VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN joined_at DATE;
        ALTER TABLE snapshot_customers ADD COLUMN attributes JSON;
        ALTER TABLE snapshot_customers ADD COLUMN rfm_r INTEGER;
        ALTER TABLE snapshot_customers ADD COLUMN rfm_f INTEGER;
        ALTER TABLE snapshot_customers ADD COLUMN rfm_m INTEGER;
        ALTER TABLE snapshot_customers ADD COLUMN rfm_score VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN rfm_segment VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN rfm_segment_zh VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN rfm_class_cn VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN rfm_class_en VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN rfm_ticket INTEGER;
        ALTER TABLE snapshot_customers ADD COLUMN problem_group VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN problem_group_zh VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN clv_historical DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN clv_historical_basis VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN p_alive DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN expected_purchases DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN purchase_likelihood DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN expected_spend DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN clv_predicted DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN clv_confidence VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN clv_method VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN activity_state VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN activity_state_zh VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN activity_policy VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN lifecycle_stage VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN early_decline BOOLEAN;
        ALTER TABLE snapshot_customers ADD COLUMN tier VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN tier_zh VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN tier_score DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN tier_reason VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN score DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN score_contributions JSON;
        ALTER TABLE snapshot_customers ADD COLUMN key_account BOOLEAN;
        ALTER TABLE snapshot_customers ADD COLUMN key_account_type VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN key_account_score DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN key_account_rank INTEGER;
        ALTER TABLE snapshot_customers ADD COLUMN key_account_reason VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN key_account_contributions JSON;
        ALTER TABLE snapshot_customers ADD COLUMN segment VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN segment_level1 VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN segment_zh VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN segment_owner VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN playbook VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN cluster VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN cluster_profile VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN cluster_profile_zh VARCHAR;
        CREATE TABLE run_tables (
            run_id BIGINT NOT NULL,
            name VARCHAR NOT NULL,
            data JSON NOT NULL
        );
        CREATE TABLE key_account_overrides (
            customer_id VARCHAR NOT NULL,
            action VARCHAR NOT NULL CHECK (action IN ('add', 'remove')),
            reason VARCHAR NOT NULL,
            "by" VARCHAR NOT NULL,
            "at" TIMESTAMP NOT NULL
        );
    """),
    ("0004_surveys", """
        CREATE TABLE surveys (
            customer_key BIGINT NOT NULL,
            customer_id VARCHAR NOT NULL,
            answered_at DATE NOT NULL,
            score DOUBLE NOT NULL,
            comment VARCHAR,
            source VARCHAR NOT NULL,
            line BIGINT NOT NULL
        );
    """),
    ("0020_campaigns", """
        CREATE SEQUENCE campaign_id_seq START 1;
        CREATE TABLE campaigns (
            campaign_id BIGINT PRIMARY KEY,
            name VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            run_id BIGINT NOT NULL,
            as_of DATE NOT NULL,
            window_start DATE NOT NULL,
            window_end DATE NOT NULL,
            face_value DOUBLE NOT NULL,
            message_unit_cost DOUBLE NOT NULL,
            gross_margin DOUBLE NOT NULL,
            control_share DOUBLE NOT NULL,
            seed BIGINT NOT NULL,
            cooldown_days BIGINT NOT NULL,
            audience JSON NOT NULL,
            n_matched BIGINT NOT NULL,
            n_excluded BIGINT NOT NULL,
            n_target BIGINT NOT NULL,
            n_control BIGINT NOT NULL,
            meta JSON
        );
        CREATE TABLE campaign_members (
            campaign_id BIGINT NOT NULL,
            customer_key BIGINT NOT NULL,
            customer_id VARCHAR NOT NULL,
            "group" VARCHAR NOT NULL CHECK ("group" IN ('target', 'control')),
            PRIMARY KEY (campaign_id, customer_key)
        );
        CREATE TABLE campaign_exclusions (
            campaign_id BIGINT NOT NULL,
            customer_key BIGINT NOT NULL,
            customer_id VARCHAR NOT NULL,
            rule VARCHAR NOT NULL,
            reason VARCHAR NOT NULL
        );
        CREATE TABLE campaign_sends (
            campaign_id BIGINT NOT NULL,
            customer_key BIGINT NOT NULL,
            customer_id VARCHAR NOT NULL,
            sent_at DATE,
            coupon_code VARCHAR,
            channel VARCHAR,
            source VARCHAR NOT NULL,
            line BIGINT
        );
        CREATE TABLE campaign_redemptions (
            campaign_id BIGINT NOT NULL,
            customer_key BIGINT NOT NULL,
            customer_id VARCHAR NOT NULL,
            coupon_code VARCHAR,
            used_at DATE NOT NULL,
            order_id VARCHAR,
            amount DOUBLE NOT NULL,
            source VARCHAR NOT NULL,
            line BIGINT
        );
        CREATE SEQUENCE campaign_import_id_seq START 1;
        CREATE TABLE campaign_imports (
            import_id BIGINT PRIMARY KEY DEFAULT nextval('campaign_import_id_seq'),
            campaign_id BIGINT NOT NULL,
            imported_at TIMESTAMP NOT NULL,
            kind VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            rows_in BIGINT NOT NULL, accepted BIGINT NOT NULL, rejected BIGINT NOT NULL,
            rejects_file VARCHAR, encoding VARCHAR,
            warnings JSON
        );
    """),
    ("0030_web_users", """
        CREATE TABLE web_users (
            name VARCHAR PRIMARY KEY,
            role VARCHAR NOT NULL CHECK (role IN ('admin', 'owner', 'manager')),
            password_hash VARCHAR NOT NULL,
            segments VARCHAR[],
            manager VARCHAR,
            created_at TIMESTAMP NOT NULL,
            password_changed_at TIMESTAMP NOT NULL
        );
    """),
    ("0041_value_fallbacks_and_headers", """
        ALTER TABLE snapshot_customers ADD COLUMN clv_note VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN rfm_rate INTEGER;
        ALTER TABLE ingests ADD COLUMN columns JSON;
    """),
    ("0045_rhythm_features", """
        ALTER TABLE snapshot_customers ADD COLUMN litt DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN gap_last DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN gap_prev DOUBLE;
    """),
    ("0050_order_lines", """
        ALTER TABLE orders ADD COLUMN refund_of VARCHAR;
        CREATE TABLE order_lines (
            order_id VARCHAR NOT NULL,
            line_no BIGINT NOT NULL,
            customer_key BIGINT NOT NULL,
            ordered_at DATE NOT NULL,
            product_id VARCHAR, product_name VARCHAR, category VARCHAR,
            quantity DOUBLE, unit_price DOUBLE,
            amount DOUBLE NOT NULL,
            is_refund BOOLEAN NOT NULL,
            source VARCHAR,
            line BIGINT
        );
        ALTER TABLE snapshot_customers ADD COLUMN favourite_products VARCHAR;
    """),
    ("0055_advice_states", """
        ALTER TABLE snapshot_customers ADD COLUMN expected_gap_days DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN gaps_missed DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN policy_probability DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN policy_basis VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN policy_reason VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN policy_reason_zh VARCHAR;
    """),
    ("0060_language_codes", _language_codes),
    ("0062_tier_reason_codes", _tier_reason_codes),
    ("0065_tasks", """
        ALTER TABLE customers ADD COLUMN birthday DATE;
        CREATE SEQUENCE task_id_seq START 1;
        CREATE TABLE tasks (
            task_id BIGINT PRIMARY KEY,
            customer_key BIGINT NOT NULL,
            customer_id VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            reason_args JSON,
            assignee VARCHAR NOT NULL,
            assigned_by VARCHAR NOT NULL,
            due DATE NOT NULL,
            priority INTEGER NOT NULL,
            status VARCHAR NOT NULL CHECK (status IN ('open', 'done', 'closed')),
            as_of DATE NOT NULL,
            run_id BIGINT,
            created_at TIMESTAMP NOT NULL,
            closed_at TIMESTAMP,
            closed_run_id BIGINT,
            close_note VARCHAR
        );
        CREATE SEQUENCE outcome_id_seq START 1;
        CREATE TABLE task_outcomes (
            outcome_id BIGINT PRIMARY KEY,
            task_id BIGINT NOT NULL,
            customer_key BIGINT NOT NULL,
            customer_id VARCHAR NOT NULL,
            outcome VARCHAR NOT NULL,
            note VARCHAR,
            next_contact DATE,
            recorded_on DATE NOT NULL,
            recorded_by VARCHAR NOT NULL,
            recorded_at TIMESTAMP NOT NULL,
            checked VARCHAR,
            checked_run_id BIGINT
        );
    """),
    ("0070_alerts", """
        CREATE TABLE alert_events (
            event_key VARCHAR PRIMARY KEY,
            code VARCHAR NOT NULL,
            run_id BIGINT NOT NULL,
            period VARCHAR NOT NULL,
            customer_id VARCHAR,
            people VARCHAR[],
            params JSON NOT NULL,
            raised_at TIMESTAMP NOT NULL
        );
        CREATE SEQUENCE alert_log_id_seq START 1;
        CREATE TABLE alert_log (
            log_id BIGINT PRIMARY KEY DEFAULT nextval('alert_log_id_seq'),
            event_key VARCHAR NOT NULL,
            channel VARCHAR NOT NULL,
            status VARCHAR NOT NULL CHECK (status IN ('sent', 'failed')),
            attempts INTEGER NOT NULL,
            error VARCHAR,
            "at" TIMESTAMP NOT NULL
        );
        CREATE TABLE inbox_files (
            sha256 VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            status VARCHAR NOT NULL CHECK (status IN ('ingested', 'failed')),
            detail JSON,
            processed_at TIMESTAMP NOT NULL
        );
    """),
    # follow-up steps of a campaign: a step is a campaign row of its own (own window, audience,
    # control group, results) tied to the campaign it follows up; old campaigns are step 1
    ("0075_retention_and_steps", """
        ALTER TABLE campaigns ADD COLUMN series_id BIGINT;
        ALTER TABLE campaigns ADD COLUMN step BIGINT DEFAULT 1;
        ALTER TABLE campaigns ADD COLUMN after_days BIGINT;
        UPDATE campaigns SET series_id = campaign_id, step = 1 WHERE series_id IS NULL;
    """),
    # loyalty levels ([loyalty]): the level held, the next one and the spend missing to reach
    # it in the current window, and the grace a customer below their level's threshold is in
    ("0080_loyalty_levels", """
        ALTER TABLE snapshot_customers ADD COLUMN loyalty_level VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN loyalty_rank BIGINT;
        ALTER TABLE snapshot_customers ADD COLUMN loyalty_spend DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN loyalty_window_end DATE;
        ALTER TABLE snapshot_customers ADD COLUMN loyalty_next_level VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN loyalty_distance DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN loyalty_in_grace BOOLEAN;
        ALTER TABLE snapshot_customers ADD COLUMN loyalty_grace_since DATE;
        ALTER TABLE snapshot_customers ADD COLUMN loyalty_keep_distance DOUBLE;
    """),
    # complaints and comments (the [sources.feedback] input), kept like survey answers: one row
    # per source line, replaced when the source is ingested again
    ("0085_feedback", """
        CREATE TABLE feedback (
            customer_key BIGINT NOT NULL,
            customer_id VARCHAR NOT NULL,
            received_at DATE NOT NULL,
            channel VARCHAR,
            category VARCHAR,
            text VARCHAR NOT NULL,
            resolved BOOLEAN,
            source VARCHAR NOT NULL,
            line BIGINT NOT NULL
        );
    """),
    # B2B contracts and costs to serve (docs/contracts.md): the two inputs, and per customer the
    # next contract end, the days to it, the cost to serve and the margin after it
    ("0090_contracts_costs", """
        CREATE TABLE contracts (
            customer_key BIGINT NOT NULL,
            customer_id VARCHAR NOT NULL,
            contract_id VARCHAR NOT NULL,
            starts_at DATE NOT NULL,
            ends_at DATE NOT NULL,
            value DOUBLE NOT NULL,
            product VARCHAR,
            source VARCHAR NOT NULL,
            line BIGINT NOT NULL
        );
        CREATE TABLE costs (
            customer_key BIGINT,
            customer_id VARCHAR,
            segment VARCHAR,
            period DATE NOT NULL,
            cost_type VARCHAR NOT NULL,
            amount DOUBLE NOT NULL,
            source VARCHAR NOT NULL,
            line BIGINT NOT NULL
        );
        ALTER TABLE snapshot_customers ADD COLUMN contract_end DATE;
        ALTER TABLE snapshot_customers ADD COLUMN days_to_renewal BIGINT;
        ALTER TABLE snapshot_customers ADD COLUMN cost_to_serve DOUBLE;
        ALTER TABLE snapshot_customers ADD COLUMN margin_after_cost DOUBLE;
    """),
    # leads (docs/prospects.md): prospects without purchases from [sources.leads]; a lead is
    # also a customer row (its key), so prospects flow through snapshots, tasks and pages
    ("0095_leads", """
        CREATE TABLE leads (
            customer_key BIGINT NOT NULL,
            customer_id VARCHAR NOT NULL,
            captured_at DATE NOT NULL,
            name VARCHAR, lead_source VARCHAR, fit DOUBLE, engagement DOUBLE,
            industry VARCHAR, size VARCHAR, region VARCHAR, city VARCHAR,
            account_manager VARCHAR,
            source VARCHAR NOT NULL,
            line BIGINT NOT NULL
        );
    """),
    # the selection matrix that learns from the best: proposed weights with their evidence, kept
    # with the config hash they were learned under and what people decided (accepted with their
    # edits, or rejected)
    ("0100_selection_proposals", """
        CREATE SEQUENCE selection_proposal_id_seq START 1;
        CREATE TABLE selection_proposals (
            proposal_id BIGINT PRIMARY KEY,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL,
            config_hash VARCHAR NOT NULL,
            from_run BIGINT NOT NULL,
            to_run BIGINT NOT NULL,
            status VARCHAR NOT NULL CHECK (status IN ('proposed', 'accepted', 'rejected')),
            proposed JSON NOT NULL,
            accepted JSON,
            body JSON NOT NULL,
            decided_by VARCHAR,
            decided_at TIMESTAMP,
            note VARCHAR
        );
    """),
    # cross-sell hints and the breadth of a relationship (docs/lines.md): what the customer's
    # tier buys and they never did, and how many products, categories, channels they bought
    ("0105_relationship_breadth", """
        ALTER TABLE snapshot_customers ADD COLUMN cross_sell VARCHAR;
        ALTER TABLE snapshot_customers ADD COLUMN distinct_products BIGINT;
        ALTER TABLE snapshot_customers ADD COLUMN distinct_categories BIGINT;
        ALTER TABLE snapshot_customers ADD COLUMN distinct_channels BIGINT;
    """),
    # survey aspect scores (docs/feedback.md): taste, service and setting of an answer, 1-5,
    # empty when the questionnaire did not ask them
    ("0115_survey_aspects", """
        ALTER TABLE surveys ADD COLUMN taste DOUBLE;
        ALTER TABLE surveys ADD COLUMN service DOUBLE;
        ALTER TABLE surveys ADD COLUMN setting DOUBLE;
    """),
    # purchase-day totals (issue 16): the orders summed per customer and day, written with the
    # orders (store/purchase_days.py); the RFM summary reads them instead of every order
    ("0120_purchase_days", _purchase_days),
]
