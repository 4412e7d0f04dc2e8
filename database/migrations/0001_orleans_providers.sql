-- 0001: tables and queries for the Orleans ADO.NET providers (invariant "Npgsql"):
-- clustering, grain storage and reminders.
--
-- Runs inside the migrator's transaction: no BEGIN/COMMIT here, nothing that refuses to run in a
-- transaction block (no CREATE INDEX CONCURRENTLY).
--
-- The providers do not see these tables: they run only the statements stored in orleansquery, binding
-- parameters by name (@Name) and reading results by column name (case-insensitively) unless a comment
-- says "by ordinal". Every identifier is unquoted lower case so that the providers' unquoted
-- "SELECT QueryKey, QueryText FROM OrleansQuery" resolves to this table.
-- Times are timestamptz: Npgsql sends the providers' UTC DateTime values as timestamptz.

CREATE TABLE orleansquery
(
    querykey  text NOT NULL PRIMARY KEY,
    querytext text NOT NULL
);

-- ---------------------------------------------------------------------------------------------
-- Clustering
-- ---------------------------------------------------------------------------------------------

-- One row per cluster (Orleans calls the ClusterId "DeploymentId"). Its version is the membership
-- table's etag: every membership change must bump it exactly once, conditionally on the version the
-- silo last read, which is what makes concurrent changes by different silos safe.
CREATE TABLE orleans_membership_version
(
    deploymentid text        NOT NULL PRIMARY KEY,
    version      int4        NOT NULL DEFAULT 0,
    changedat    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orleans_membership
(
    deploymentid text        NOT NULL REFERENCES orleans_membership_version (deploymentid),
    address      text        NOT NULL,
    port         int4        NOT NULL,
    generation   int4        NOT NULL,
    siloname     text        NOT NULL,
    hostname     text        NOT NULL,
    status       int4        NOT NULL,
    proxyport    int4        NOT NULL,
    -- "silo,time|silo,time": the provider's own format, opaque to the database.
    suspecttimes text        NULL,
    starttime    timestamptz NOT NULL,
    iamalivetime timestamptz NOT NULL,
    PRIMARY KEY (deploymentid, address, port, generation)
);

-- ---------------------------------------------------------------------------------------------
-- Grain storage
-- ---------------------------------------------------------------------------------------------

-- graintypestring is the state name ("conversation", "thread", "customer"), not the grain class.
-- A grain's identity is (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring):
-- string keys that parse as a GUID arrive as n0/n1 with no extension, other string keys as 0/0 plus
-- the extension. The hashes are not unique; they exist only to make lookups indexable, because a
-- nullable extension has to be compared with IS NOT DISTINCT FROM, which no index serves.
CREATE TABLE orleans_grain_state
(
    id                     int8        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serviceid              text        NOT NULL,
    graintypestring        text        NOT NULL,
    graintypehash          int4        NOT NULL,
    grainidn0              int8        NOT NULL,
    grainidn1              int8        NOT NULL,
    grainidextensionstring text        NULL,
    grainidhash            int4        NOT NULL,
    -- NULL after a clear: the row (and its version) outlives the state so that etags never repeat.
    payloadbinary          bytea       NULL,
    version                int4        NOT NULL,
    modifiedon             timestamptz NOT NULL DEFAULT now()
);

-- Decides first-insert races: of two writers that both saw no row, exactly one inserts.
CREATE UNIQUE INDEX orleans_grain_state_identity
    ON orleans_grain_state (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring)
    NULLS NOT DISTINCT;

CREATE INDEX orleans_grain_state_lookup
    ON orleans_grain_state (grainidhash, graintypehash);

-- ---------------------------------------------------------------------------------------------
-- Reminders
-- ---------------------------------------------------------------------------------------------

CREATE TABLE orleans_reminders
(
    serviceid    text        NOT NULL,
    grainid      text        NOT NULL,
    remindername text        NOT NULL,
    starttime    timestamptz NOT NULL,
    -- Milliseconds. The provider binds int4 when the period fits and int8 when it does not.
    period       int8        NOT NULL,
    -- The grain's uniform hash as a signed int: each silo reads the slice of the hash ring it owns.
    grainhash    int4        NOT NULL,
    version      int4        NOT NULL,
    PRIMARY KEY (serviceid, grainid, remindername)
);

CREATE INDEX orleans_reminders_ring
    ON orleans_reminders (serviceid, grainhash);

-- ---------------------------------------------------------------------------------------------
-- The queries. Keys and parameter names are the providers' contract (Orleans 10.4.2).
-- ---------------------------------------------------------------------------------------------

INSERT INTO orleansquery (querykey, querytext) VALUES

-- Clients and silos: active silos with a gateway.
('GatewaysQueryKey', $sql$
SELECT address, proxyport, generation
FROM orleans_membership
WHERE deploymentid = @DeploymentId
  AND status = @Status
  AND proxyport > 0
$sql$),

-- The version row always comes back (the provider takes the etag from the first row, so a cluster
-- without a version row is an error, not an empty table); member columns are NULL when the silo
-- has no row, and a NULL starttime is how the provider tells "no member".
('MembershipReadRowKey', $sql$
SELECT v.version, m.address, m.port, m.generation, m.siloname, m.hostname, m.status, m.proxyport,
       m.suspecttimes, m.starttime, m.iamalivetime
FROM orleans_membership_version v
LEFT JOIN orleans_membership m
       ON m.deploymentid = v.deploymentid
      AND m.address = @Address
      AND m.port = @Port
      AND m.generation = @Generation
WHERE v.deploymentid = @DeploymentId
$sql$),

('MembershipReadAllKey', $sql$
SELECT v.version, m.address, m.port, m.generation, m.siloname, m.hostname, m.status, m.proxyport,
       m.suspecttimes, m.starttime, m.iamalivetime
FROM orleans_membership_version v
LEFT JOIN orleans_membership m ON m.deploymentid = v.deploymentid
WHERE v.deploymentid = @DeploymentId
$sql$),

-- Boolean row: did this call create the cluster's version row? Every silo calls it at start-up.
('InsertMembershipVersionKey', $sql$
WITH inserted AS (
    INSERT INTO orleans_membership_version (deploymentid, version)
    VALUES (@DeploymentId, 0)
    ON CONFLICT (deploymentid) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM inserted)
$sql$),

-- Boolean row. The version bump and the insert succeed together or not at all: the bump is
-- conditional on the expected version (its row lock serialises concurrent writers, and the loser
-- re-checks the version and finds it moved) and on the silo having no row yet; the insert only
-- happens if the bump did.
('InsertMembershipKey', $sql$
WITH bumped AS (
    UPDATE orleans_membership_version
    SET version = version + 1, changedat = now()
    WHERE deploymentid = @DeploymentId
      AND version = @Version
      AND NOT EXISTS (
          SELECT 1 FROM orleans_membership
          WHERE deploymentid = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
    RETURNING deploymentid
), inserted AS (
    INSERT INTO orleans_membership
        (deploymentid, address, port, generation, siloname, hostname, status, proxyport, suspecttimes, starttime, iamalivetime)
    SELECT deploymentid, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, NULL, @StartTime, @IAmAliveTime
    FROM bumped
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM inserted)
$sql$),

-- Boolean row. Same rule as the insert: bump only if the version matches and the silo's row exists.
('UpdateMembershipKey', $sql$
WITH bumped AS (
    UPDATE orleans_membership_version
    SET version = version + 1, changedat = now()
    WHERE deploymentid = @DeploymentId
      AND version = @Version
      AND EXISTS (
          SELECT 1 FROM orleans_membership
          WHERE deploymentid = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation)
    RETURNING deploymentid
), updated AS (
    UPDATE orleans_membership m
    SET status = @Status, suspecttimes = @SuspectTimes, iamalivetime = @IAmAliveTime
    FROM bumped
    WHERE m.deploymentid = bumped.deploymentid
      AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM updated)
$sql$),

-- Heartbeats are not membership changes: they must not move the table version, or every silo's
-- pending change would fail on every heartbeat.
('UpdateIAmAlivetimeKey', $sql$
UPDATE orleans_membership
SET iamalivetime = @IAmAliveTime
WHERE deploymentid = @DeploymentId
  AND address = @Address
  AND port = @Port
  AND generation = @Generation
$sql$),

('DeleteMembershipTableEntriesKey', $sql$
WITH members AS (
    DELETE FROM orleans_membership WHERE deploymentid = @DeploymentId
)
DELETE FROM orleans_membership_version WHERE deploymentid = @DeploymentId
$sql$),

-- Only silos that are dead and silent since the cutoff; live or suspected silos are never removed.
('CleanupDefunctSiloEntriesKey', $sql$
DELETE FROM orleans_membership
WHERE deploymentid = @DeploymentId
  AND status = 6
  AND iamalivetime < @IAmAliveTime
$sql$),

-- Grain storage. Every statement names the grain by its full identity; the hash columns are there
-- only so that the lookup index is used.

-- Zero or one row. A NULL payload (cleared state) reads as the default state with the row's version.
('ReadFromStorageKey', $sql$
SELECT payloadbinary, version
FROM orleans_grain_state
WHERE grainidhash = @GrainIdHash
  AND graintypehash = @GrainTypeHash
  AND serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
$sql$),

-- One row with the new version, or no row when the caller's version is stale (the provider turns
-- that into InconsistentStateException). Without a version the caller believes there is no row:
-- insert version 1, and if a row exists after all, the unique index makes it "no row" rather than
-- an overwrite or an error. With a version, update only that version.
('WriteToStorageKey', $sql$
WITH inserted AS (
    INSERT INTO orleans_grain_state
        (serviceid, graintypestring, graintypehash, grainidn0, grainidn1, grainidextensionstring, grainidhash, payloadbinary, version)
    SELECT @ServiceId, @GrainTypeString, @GrainTypeHash, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString, @GrainIdHash, @PayloadBinary, 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring) DO NOTHING
    RETURNING version
), updated AS (
    UPDATE orleans_grain_state
    SET payloadbinary = @PayloadBinary, version = version + 1, modifiedon = now()
    WHERE @GrainStateVersion IS NOT NULL
      AND version = @GrainStateVersion
      AND grainidhash = @GrainIdHash
      AND graintypehash = @GrainTypeHash
      AND serviceid = @ServiceId
      AND graintypestring = @GrainTypeString
      AND grainidn0 = @GrainIdN0
      AND grainidn1 = @GrainIdN1
      AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
    RETURNING version
)
SELECT version AS newgrainstateversion FROM inserted
UNION ALL
SELECT version FROM updated
$sql$),

-- Read by ordinal: the new version, or no row on a stale version. The row stays (payload NULL) and
-- its version keeps counting, so a writer holding an etag from before the clear cannot succeed.
('ClearStorageKey', $sql$
UPDATE orleans_grain_state
SET payloadbinary = NULL, version = version + 1, modifiedon = now()
WHERE version = @GrainStateVersion
  AND grainidhash = @GrainIdHash
  AND graintypehash = @GrainTypeHash
  AND serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
RETURNING version
$sql$),

-- Used instead of ClearStorageKey when a provider is configured with DeleteStateOnClear. Read by
-- ordinal: any row means success (the provider forgets the etag); no row means a stale version.
('DeleteStorageKey', $sql$
DELETE FROM orleans_grain_state
WHERE version = @GrainStateVersion
  AND grainidhash = @GrainIdHash
  AND graintypehash = @GrainTypeHash
  AND serviceid = @ServiceId
  AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0
  AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
RETURNING version + 1
$sql$),

-- Reminders.

('ReadReminderRowsKey', $sql$
SELECT grainid, remindername, starttime, period, version
FROM orleans_reminders
WHERE serviceid = @ServiceId
  AND grainid = @GrainId
$sql$),

-- The provider picks this query when the range does not wrap in signed order (begin < end) ...
('ReadRangeRows1Key', $sql$
SELECT grainid, remindername, starttime, period, version
FROM orleans_reminders
WHERE serviceid = @ServiceId
  AND grainhash > @BeginHash
  AND grainhash <= @EndHash
$sql$),

-- ... and this one when it wraps around the end of the ring.
('ReadRangeRows2Key', $sql$
SELECT grainid, remindername, starttime, period, version
FROM orleans_reminders
WHERE serviceid = @ServiceId
  AND (grainhash > @BeginHash OR grainhash <= @EndHash)
$sql$),

('ReadReminderRowKey', $sql$
SELECT grainid, remindername, starttime, period, version
FROM orleans_reminders
WHERE serviceid = @ServiceId
  AND grainid = @GrainId
  AND remindername = @ReminderName
$sql$),

-- Always one row: the new version, which differs from every earlier version of the row, so a delete
-- holding an older etag fails.
('UpsertReminderRowKey', $sql$
INSERT INTO orleans_reminders AS r (serviceid, grainid, remindername, starttime, period, grainhash, version)
VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (serviceid, grainid, remindername) DO UPDATE
SET starttime = excluded.starttime,
    period = excluded.period,
    grainhash = excluded.grainhash,
    version = r.version + 1
RETURNING version
$sql$),

-- Boolean row: deleted only if the caller holds the current version.
('DeleteReminderRowKey', $sql$
WITH deleted AS (
    DELETE FROM orleans_reminders
    WHERE serviceid = @ServiceId
      AND grainid = @GrainId
      AND remindername = @ReminderName
      AND version = @Version
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM deleted)
$sql$),

('DeleteReminderRowsKey', $sql$
DELETE FROM orleans_reminders
WHERE serviceid = @ServiceId
$sql$);
