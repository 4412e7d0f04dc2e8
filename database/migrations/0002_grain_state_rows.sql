-- 0002: grain state in a table of ContactGrains' own, written by PostgreSqlGrainStorage.
--
-- The ADO.NET grain storage ran one transaction per state write. ContactGrains' storage groups the
-- reads and writes that arrive together into one round trip and one transaction (see
-- docs/architecture.md, "Durable state: group commit"), with the same optimistic concurrency: a
-- write names the version it read and changes nothing if the row has moved on.
--
-- A grain is identified by its key exactly as Orleans holds it (grain_key), so keys that differ only
-- in case or leading zeros ("a1", "A1", "0a1") are different rows. The ADO.NET provider read such
-- keys as hexadecimal integers and stored them as one.
--
-- orleans_grain_state is left as it was: a silo of this version copies a grain's row from it the first
-- time it reads that grain and finds no row here, so an upgraded database loses nothing. Its rows are
-- not changed or deleted by this migration.

CREATE TABLE contactgrains_grain_state
(
    service_id  text        NOT NULL,
    -- The state name ("conversation", "thread", "customer", ...): each grain type has its own.
    state_name  text        NOT NULL,
    grain_key   text        NOT NULL,
    -- The ETag: 1 at the first write, one more at every write or clear. Never reused, because a
    -- clear keeps the row.
    version     int8        NOT NULL,
    -- Orleans' binary serialization of the state; NULL after a clear.
    payload     bytea       NULL,
    modified_on timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, state_name, grain_key)
)
-- Conversation rows are rewritten at every message: free space on each page lets PostgreSQL put the
-- new row version on the same page (a HOT update) instead of touching the index.
WITH (fillfactor = 80);
