//! Numbered migrations. `PRAGMA user_version` records how far a file has come; opening an older file
//! upgrades it in place, each step in its own transaction. Never edit a released step: add a new one.

use std::path::Path;

use rusqlite::Connection;

use super::{Result, StoreError};

/// Each entry upgrades the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: the order workflow.
    r#"
    CREATE TABLE statuses (
        id        INTEGER PRIMARY KEY,
        name      TEXT NOT NULL UNIQUE COLLATE NOCASE,
        kind      TEXT NOT NULL,
        pickable  INTEGER NOT NULL,
        position  INTEGER NOT NULL
    );
    CREATE TABLE status_transitions (
        from_id   INTEGER NOT NULL REFERENCES statuses(id),
        to_id     INTEGER NOT NULL REFERENCES statuses(id),
        position  INTEGER NOT NULL,
        PRIMARY KEY (from_id, to_id)
    );
    CREATE TABLE orders (
        id          INTEGER PRIMARY KEY,
        number      TEXT NOT NULL UNIQUE,
        channel     TEXT NOT NULL,
        customer    TEXT,
        status_id   INTEGER NOT NULL REFERENCES statuses(id),
        archived    INTEGER NOT NULL DEFAULT 0,
        version     INTEGER NOT NULL DEFAULT 1,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        updated_by  TEXT NOT NULL
    );
    CREATE INDEX orders_by_status ON orders (archived, status_id, id);
    CREATE TABLE order_lines (
        id                INTEGER PRIMARY KEY,
        order_id          INTEGER NOT NULL REFERENCES orders(id),
        line_no           INTEGER NOT NULL,
        sku               TEXT NOT NULL,
        name              TEXT,
        quantity          INTEGER NOT NULL CHECK (quantity > 0),
        quantity_shipped  INTEGER NOT NULL DEFAULT 0 CHECK (quantity_shipped >= 0),
        UNIQUE (order_id, line_no)
    );
    CREATE INDEX order_lines_by_sku ON order_lines (sku);
    CREATE TABLE status_history (
        id              INTEGER PRIMARY KEY,
        order_id        INTEGER NOT NULL REFERENCES orders(id),
        from_status_id  INTEGER REFERENCES statuses(id),
        to_status_id    INTEGER NOT NULL REFERENCES statuses(id),
        changed_by      TEXT NOT NULL,
        changed_at      INTEGER NOT NULL,
        source          TEXT NOT NULL,
        note            TEXT
    );
    CREATE INDEX status_history_by_order ON status_history (order_id, id);
    CREATE TABLE shipments (
        id          INTEGER PRIMARY KEY,
        order_id    INTEGER NOT NULL REFERENCES orders(id),
        shipped_at  INTEGER NOT NULL,
        carrier     TEXT,
        tracking    TEXT,
        notes       TEXT,
        source      TEXT NOT NULL,
        created_by  TEXT NOT NULL
    );
    CREATE INDEX shipments_by_order ON shipments (order_id);
    CREATE TABLE shipment_lines (
        shipment_id    INTEGER NOT NULL REFERENCES shipments(id),
        order_line_id  INTEGER NOT NULL REFERENCES order_lines(id),
        quantity       INTEGER NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (shipment_id, order_line_id)
    );
    "#,
    // 2: the engine's bookkeeping and the links to other systems.
    r#"
    CREATE TABLE jobs (
        id            INTEGER PRIMARY KEY,
        kind          TEXT NOT NULL,
        key           TEXT,
        payload       TEXT NOT NULL,
        state         TEXT NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        max_attempts  INTEGER NOT NULL,
        run_at        INTEGER NOT NULL,
        lease_until   INTEGER,
        leased_by     TEXT,
        last_error    TEXT,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
    );
    CREATE INDEX jobs_due ON jobs (state, run_at) WHERE state IN ('queued', 'retrying');
    CREATE INDEX jobs_running ON jobs (lease_until) WHERE state = 'running';
    CREATE INDEX jobs_by_key ON jobs (kind, key) WHERE key IS NOT NULL AND state IN ('queued', 'retrying');
    CREATE INDEX jobs_by_state ON jobs (state, id);
    CREATE INDEX jobs_by_kind ON jobs (kind, state);
    CREATE TABLE engine_lease (
        id            INTEGER PRIMARY KEY CHECK (id = 1),
        holder        TEXT NOT NULL,
        expires_at    INTEGER NOT NULL,
        heartbeat_at  INTEGER NOT NULL
    );
    CREATE TABLE links (
        id              INTEGER PRIMARY KEY,
        entity          TEXT NOT NULL,
        local_id        INTEGER NOT NULL,
        system          TEXT NOT NULL,
        external_id     TEXT NOT NULL,
        sync_state      TEXT NOT NULL,
        remote_version  TEXT,
        remote_status   TEXT,
        pushing_status  TEXT,
        last_synced_at  INTEGER,
        last_error      TEXT,
        UNIQUE (entity, system, external_id),
        UNIQUE (entity, local_id, system)
    );
    CREATE TABLE sync_log (
        id          INTEGER PRIMARY KEY,
        at          INTEGER NOT NULL,
        source      TEXT NOT NULL,
        entity      TEXT NOT NULL,
        entity_key  TEXT NOT NULL,
        field       TEXT NOT NULL,
        old_value   TEXT,
        new_value   TEXT,
        reason      TEXT,
        job_id      INTEGER,
        actor       TEXT
    );
    CREATE INDEX sync_log_by_entity ON sync_log (entity, entity_key, id);
    CREATE TABLE alerts (
        id               INTEGER PRIMARY KEY,
        kind             TEXT NOT NULL,
        severity         TEXT NOT NULL,
        subject          TEXT NOT NULL,
        message          TEXT NOT NULL,
        dedupe_key       TEXT,
        created_at       INTEGER NOT NULL,
        emailed_at       INTEGER,
        acknowledged_at  INTEGER,
        acknowledged_by  TEXT
    );
    CREATE UNIQUE INDEX alerts_open_once ON alerts (dedupe_key) WHERE acknowledged_at IS NULL;
    CREATE INDEX links_by_local ON links (entity, local_id);
    CREATE TABLE inbound_events (
        source       TEXT NOT NULL,
        dedupe_key   TEXT NOT NULL,
        received_at  INTEGER NOT NULL,
        PRIMARY KEY (source, dedupe_key)
    );
    CREATE TABLE watermarks (
        name        TEXT PRIMARY KEY,
        value       TEXT NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    "#,
    // 3: stock sync — SKU alignment with each pair's merge base, and conflicts.
    r#"
    CREATE TABLE sku_alignment (
        id              INTEGER PRIMARY KEY,
        pos_sku         TEXT NOT NULL UNIQUE,
        woo_sku         TEXT NOT NULL UNIQUE,
        match_type      TEXT NOT NULL,
        confidence      REAL NOT NULL,
        woo_product_id  INTEGER,
        woo_parent_id   INTEGER,
        agreed          INTEGER,
        pos_seen        INTEGER,
        woo_seen        INTEGER,
        pos_price       TEXT,
        woo_price       TEXT,
        sync_state      TEXT NOT NULL DEFAULT 'new',
        last_error      TEXT,
        last_pass_at    INTEGER,
        updated_at      INTEGER NOT NULL
    );
    CREATE TABLE stock_conflicts (
        id           INTEGER PRIMARY KEY,
        sku          TEXT NOT NULL,
        kind         TEXT NOT NULL,
        pos_value    TEXT,
        woo_value    TEXT,
        base         INTEGER,
        merged       INTEGER,
        proposed     INTEGER,
        detail       TEXT NOT NULL,
        detected_at  INTEGER NOT NULL,
        resolved_at  INTEGER,
        resolved_by  TEXT,
        resolution   TEXT,
        quantity     INTEGER
    );
    CREATE UNIQUE INDEX stock_conflicts_open_once ON stock_conflicts (sku, kind) WHERE resolved_at IS NULL;
    CREATE INDEX stock_conflicts_open ON stock_conflicts (resolved_at, id);
    CREATE TABLE stock_absorbed (
        order_id     INTEGER PRIMARY KEY REFERENCES orders(id),
        absorbed_at  INTEGER NOT NULL
    );
    CREATE TABLE stock_hints (
        woo_product_id  INTEGER PRIMARY KEY,
        hinted_at       INTEGER NOT NULL
    );
    "#,
    // 4: reductions files for a file-only POS — which order lines went into which file, each at most once.
    r#"
    CREATE TABLE pos_reduction_batches (
        id          INTEGER PRIMARY KEY,
        file_name   TEXT NOT NULL UNIQUE,
        state       TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        written_at  INTEGER,
        taken_at    INTEGER
    );
    CREATE INDEX pos_reduction_batches_by_state ON pos_reduction_batches (state, id);
    CREATE TABLE pos_reduction_lines (
        batch_id       INTEGER NOT NULL REFERENCES pos_reduction_batches(id),
        position       INTEGER NOT NULL,
        order_line_id  INTEGER NOT NULL REFERENCES order_lines(id),
        kind           TEXT NOT NULL CHECK (kind IN ('sale', 'return')),
        order_number   TEXT NOT NULL,
        line_no        INTEGER NOT NULL,
        sku            TEXT NOT NULL,
        quantity       INTEGER NOT NULL,
        reason         TEXT NOT NULL,
        PRIMARY KEY (batch_id, position),
        UNIQUE (order_line_id, kind)
    );
    "#,
    // 5: the console at scale — per-status order counts kept by triggers (the header reads them on every
    // page instead of counting a million rows), a trigram search index, and when each job attempt started
    // (connector latency).
    r#"
    CREATE TABLE order_counts (
        archived   INTEGER NOT NULL,
        status_id  INTEGER NOT NULL,
        n          INTEGER NOT NULL,
        PRIMARY KEY (archived, status_id)
    ) WITHOUT ROWID;
    INSERT INTO order_counts (archived, status_id, n)
        SELECT archived, status_id, COUNT(*) FROM orders GROUP BY archived, status_id;
    CREATE TRIGGER order_counts_insert AFTER INSERT ON orders BEGIN
        INSERT INTO order_counts (archived, status_id, n) VALUES (NEW.archived, NEW.status_id, 1)
            ON CONFLICT (archived, status_id) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER order_counts_update AFTER UPDATE OF archived, status_id ON orders
        WHEN OLD.archived IS NOT NEW.archived OR OLD.status_id IS NOT NEW.status_id BEGIN
        UPDATE order_counts SET n = n - 1 WHERE archived = OLD.archived AND status_id = OLD.status_id;
        INSERT INTO order_counts (archived, status_id, n) VALUES (NEW.archived, NEW.status_id, 1)
            ON CONFLICT (archived, status_id) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER order_counts_delete AFTER DELETE ON orders BEGIN
        UPDATE order_counts SET n = n - 1 WHERE archived = OLD.archived AND status_id = OLD.status_id;
    END;
    ALTER TABLE jobs ADD COLUMN started_at INTEGER;
    -- Substring search over number, customer and SKUs through a trigram index, so a filter reads the
    -- matching orders only. Contentless: it holds the index, the text stays in orders and order_lines.
    CREATE VIRTUAL TABLE order_search USING fts5(number, customer, skus, tokenize = 'trigram', content = '');
    INSERT INTO order_search (rowid, number, customer, skus)
        SELECT o.id, o.number, COALESCE(o.customer, ''),
               COALESCE((SELECT group_concat(sku, ' ') FROM order_lines l WHERE l.order_id = o.id), '')
        FROM orders o;
    "#,
    // 6: marketplace orders — what the channel said about delivery responsibility and OTP, per order link.
    r#"
    CREATE TABLE marketplace_orders (
        link_id            INTEGER PRIMARY KEY REFERENCES links(id),
        delivered_by       TEXT NOT NULL CHECK (delivered_by IN ('supplier', 'marketplace')),
        requires_otp       INTEGER NOT NULL,
        remote_created_at  TEXT,
        push_due           INTEGER NOT NULL DEFAULT 0,
        updated_at         INTEGER NOT NULL
    );
    CREATE INDEX marketplace_orders_due ON marketplace_orders (push_due) WHERE push_due = 1;
    "#,
    // 7: a web order a stock pass counted back (absorbed) and that was later cancelled is counted out again,
    // once; orders passed over (cancelled before any pass counted them) are never counted either way.
    r#"
    ALTER TABLE stock_absorbed ADD COLUMN counted INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE stock_absorbed ADD COLUMN released_at INTEGER;
    "#,
    // 8: the retailer's delivery OTP an operator entered for a marketplace order after the fact.
    "ALTER TABLE marketplace_orders ADD COLUMN retailer_otp TEXT;",
    // 9: orders as a real store sends them. A link remembers the content it last imported (so same-second
    // edits are seen) and when our last push finished (so a read that raced it cannot undo it); an order
    // keeps where it ships to, and whether it came in as history (final before syncdesk first looked: its
    // stock left long ago, so no stock pass or POS reductions file counts it). Sending the same note twice
    // is prevented by a marker in the note itself, so nothing is stored for it.
    r#"
    ALTER TABLE links ADD COLUMN remote_fingerprint TEXT;
    ALTER TABLE links ADD COLUMN pushed_at INTEGER;
    ALTER TABLE orders ADD COLUMN ship_to TEXT;
    ALTER TABLE orders ADD COLUMN history INTEGER NOT NULL DEFAULT 0;
    -- A stock write whose answer was lost (JSON: quantity, prior, base): the next read of the store tells
    -- whether it landed before the pair's base may move.
    ALTER TABLE sku_alignment ADD COLUMN unconfirmed_write TEXT;
    "#,
    // 10: jobs that end. Every attempt is kept (start, end, outcome, message); a job remembers its first
    // failure and the class of its last error (transient, permanent, refused, lost), and which job it
    // replaced when it superseded a failing one (inheriting that one's attempts and first failure, so a job
    // that keeps failing still reaches the end of its retry budget). An effect outside syncdesk that cannot
    // be checked remotely (an e-mail accepted by the mail server) is recorded the moment it happened, so a
    // job run again after a crash finds it and does not repeat it.
    r#"
    ALTER TABLE jobs ADD COLUMN first_failed_at INTEGER;
    ALTER TABLE jobs ADD COLUMN error_class TEXT;
    ALTER TABLE jobs ADD COLUMN supersedes INTEGER;
    CREATE TABLE job_attempts (
        id          INTEGER PRIMARY KEY,
        job_id      INTEGER NOT NULL,
        attempt     INTEGER NOT NULL,
        holder      TEXT,
        started_at  INTEGER NOT NULL,
        ended_at    INTEGER NOT NULL,
        outcome     TEXT NOT NULL CHECK (outcome IN ('done', 'transient', 'permanent', 'refused', 'lost')),
        message     TEXT
    );
    CREATE INDEX job_attempts_by_job ON job_attempts (job_id, id);
    CREATE TABLE job_effects (
        job_id       INTEGER NOT NULL,
        effect       TEXT NOT NULL,
        detail       TEXT NOT NULL,
        recorded_at  INTEGER NOT NULL,
        PRIMARY KEY (job_id, effect)
    );
    "#,
    // 11: the console's Inventory panel and sorted lists. A pair remembers its product's name (the stock pass
    // reads it from the store); a trigram index over both SKUs and the name serves the panel's filter (kept by
    // triggers, so every writer of sku_alignment keeps it right); indexes serve the sort orders a list offers,
    // so a sorted page is a walk along an index, not a sort of the table.
    r#"
    ALTER TABLE sku_alignment ADD COLUMN product_name TEXT NOT NULL DEFAULT '';
    CREATE VIRTUAL TABLE sku_search USING fts5(pos_sku, woo_sku, product_name, tokenize = 'trigram',
        content = 'sku_alignment', content_rowid = 'id');
    INSERT INTO sku_search (sku_search) VALUES ('rebuild');
    CREATE TRIGGER sku_search_insert AFTER INSERT ON sku_alignment BEGIN
        INSERT INTO sku_search (rowid, pos_sku, woo_sku, product_name)
            VALUES (NEW.id, NEW.pos_sku, NEW.woo_sku, NEW.product_name);
    END;
    CREATE TRIGGER sku_search_delete AFTER DELETE ON sku_alignment BEGIN
        INSERT INTO sku_search (sku_search, rowid, pos_sku, woo_sku, product_name)
            VALUES ('delete', OLD.id, OLD.pos_sku, OLD.woo_sku, OLD.product_name);
    END;
    CREATE TRIGGER sku_search_update AFTER UPDATE OF pos_sku, woo_sku, product_name ON sku_alignment BEGIN
        INSERT INTO sku_search (sku_search, rowid, pos_sku, woo_sku, product_name)
            VALUES ('delete', OLD.id, OLD.pos_sku, OLD.woo_sku, OLD.product_name);
        INSERT INTO sku_search (rowid, pos_sku, woo_sku, product_name)
            VALUES (NEW.id, NEW.pos_sku, NEW.woo_sku, NEW.product_name);
    END;
    CREATE INDEX sku_alignment_by_name ON sku_alignment (product_name, id);
    CREATE INDEX sku_alignment_by_state ON sku_alignment (sync_state, id);
    CREATE INDEX orders_by_number ON orders (archived, number);
    CREATE INDEX orders_by_customer ON orders (archived, COALESCE(customer, ''), id);
    "#,
    // 12: the web store side is "store" whatever system it is: columns named after WooCommerce are renamed
    // in place (every row kept). The trigram index reads its content table by column name, so it and its
    // triggers are rebuilt on the new name.
    r#"
    DROP TRIGGER sku_search_insert;
    DROP TRIGGER sku_search_delete;
    DROP TRIGGER sku_search_update;
    DROP TABLE sku_search;
    ALTER TABLE sku_alignment RENAME COLUMN woo_sku TO store_sku;
    ALTER TABLE sku_alignment RENAME COLUMN woo_product_id TO store_product_id;
    ALTER TABLE sku_alignment RENAME COLUMN woo_parent_id TO store_parent_id;
    ALTER TABLE sku_alignment RENAME COLUMN woo_seen TO store_seen;
    ALTER TABLE sku_alignment RENAME COLUMN woo_price TO store_price;
    ALTER TABLE stock_conflicts RENAME COLUMN woo_value TO store_value;
    ALTER TABLE stock_hints RENAME COLUMN woo_product_id TO store_product_id;
    CREATE VIRTUAL TABLE sku_search USING fts5(pos_sku, store_sku, product_name, tokenize = 'trigram',
        content = 'sku_alignment', content_rowid = 'id');
    INSERT INTO sku_search (sku_search) VALUES ('rebuild');
    CREATE TRIGGER sku_search_insert AFTER INSERT ON sku_alignment BEGIN
        INSERT INTO sku_search (rowid, pos_sku, store_sku, product_name)
            VALUES (NEW.id, NEW.pos_sku, NEW.store_sku, NEW.product_name);
    END;
    CREATE TRIGGER sku_search_delete AFTER DELETE ON sku_alignment BEGIN
        INSERT INTO sku_search (sku_search, rowid, pos_sku, store_sku, product_name)
            VALUES ('delete', OLD.id, OLD.pos_sku, OLD.store_sku, OLD.product_name);
    END;
    CREATE TRIGGER sku_search_update AFTER UPDATE OF pos_sku, store_sku, product_name ON sku_alignment BEGIN
        INSERT INTO sku_search (sku_search, rowid, pos_sku, store_sku, product_name)
            VALUES ('delete', OLD.id, OLD.pos_sku, OLD.store_sku, OLD.product_name);
        INSERT INTO sku_search (rowid, pos_sku, store_sku, product_name)
            VALUES (NEW.id, NEW.pos_sku, NEW.store_sku, NEW.product_name);
    END;
    "#,
    // 13: order numbers are found whatever their case (`r-1001` finds `R-1001`), through an index, not a
    // scan of every order.
    "CREATE INDEX orders_by_number_nocase ON orders (number COLLATE NOCASE);",
    // 14: one stock pass at a time per database (any process), and what a finished job reported.
    r#"
    CREATE TABLE pass_leases (
        name          TEXT PRIMARY KEY,
        holder        TEXT NOT NULL,
        taken_at      INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL
    );
    ALTER TABLE jobs ADD COLUMN outcome TEXT;
    "#,
    // 15: orders by age (the channel's creation time), which differs from arrival after an import of history.
    r#"
    CREATE INDEX orders_by_age ON orders (archived, created_at, id);
    CREATE INDEX orders_by_status_age ON orders (archived, status_id, created_at, id);
    "#,
];

pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the file up to the newest schema.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    migrate_to(conn, path, current_version())
}

/// Fails if the file was written by a newer build than this one; returns its version.
pub fn check_not_newer(conn: &Connection, path: &Path) -> Result<i64> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > current_version() {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            known: current_version(),
        });
    }
    Ok(found)
}

/// Brings the file up to `target` (tests use this to build an "older" file).
pub fn migrate_to(conn: &mut Connection, path: &Path, target: i64) -> Result<()> {
    let found = check_not_newer(conn, path)?;
    for version in found..target {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Re-read inside the lock: another process may have migrated meanwhile.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > version {
            continue;
        }
        tx.execute_batch(MIGRATIONS[version as usize])?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    Ok(())
}
