-- gatewatch store, schema version 1: devices observed, the operator's declared
-- inventory, evidence, and one row per analysis run.
-- Times are INTEGER nanoseconds since the Unix epoch (packet time).

PRAGMA application_id = 1735881847; -- 0x67777477 "gwtw": marks a gatewatch database

CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    source        TEXT NOT NULL,          -- capture file name as given
    packets       INTEGER NOT NULL,
    first_packet  INTEGER,                -- packet time, NULL for an empty capture
    last_packet   INTEGER,
    devices       INTEGER NOT NULL,       -- device records written by the run
    evidence      INTEGER NOT NULL,       -- evidence rows written by the run
    recorded_at   INTEGER NOT NULL        -- wall clock, seconds since the epoch
);

-- What listings read: small rows clustered by key, so `devices list` is one
-- ordered scan that never touches the JSON records.
CREATE TABLE devices (
    key             TEXT PRIMARY KEY,     -- MAC (aa:bb:..) or IP, as DeviceKey prints it
    mac             TEXT,
    ip              TEXT,                 -- most recently seen address
    hostname        TEXT,                 -- most recently seen hostname
    class           TEXT NOT NULL,
    vendor          TEXT,
    model           TEXT,
    firmware        TEXT,
    confidence      REAL NOT NULL,
    mac_randomized  INTEGER NOT NULL,
    first_seen      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    last_run        INTEGER REFERENCES runs(id)
) WITHOUT ROWID;
CREATE INDEX devices_mac ON devices(mac);
CREATE INDEX devices_ip ON devices(ip);
CREATE INDEX devices_hostname ON devices(hostname);
CREATE INDEX devices_class ON devices(class);
CREATE INDEX devices_vendor ON devices(vendor COLLATE NOCASE);
CREATE INDEX devices_last_seen ON devices(last_seen);

-- The full DeviceRecord of each device as JSON (what `show` and merging read).
CREATE TABLE device_records (
    key     TEXT PRIMARY KEY REFERENCES devices(key) ON DELETE CASCADE,
    record  TEXT NOT NULL
);

-- The operator's inventory; replaced as a whole by `devices import`.
CREATE TABLE declared (
    key          TEXT PRIMARY KEY,        -- MAC or IP
    position     INTEGER NOT NULL,        -- order in the imported file
    ip           TEXT,                    -- expected IP of a MAC-keyed entry
    name         TEXT,
    owner        TEXT,
    site         TEXT,
    vendor       TEXT,
    model        TEXT,
    firmware     TEXT,
    class        TEXT,
    role         TEXT,
    criticality  TEXT,
    support_end  TEXT                     -- YYYY-MM-DD
) WITHOUT ROWID;                          -- listings look names up by key: one search
CREATE INDEX declared_ip ON declared(ip);

CREATE TABLE evidence (
    id        INTEGER PRIMARY KEY,
    run_id    INTEGER REFERENCES runs(id),
    ts        INTEGER NOT NULL,
    device    TEXT NOT NULL,
    ip        TEXT,
    kind      TEXT NOT NULL,
    family    TEXT NOT NULL,
    detector  TEXT NOT NULL,
    severity  INTEGER NOT NULL,
    score     REAL NOT NULL,
    summary   TEXT NOT NULL,
    record    TEXT NOT NULL               -- the evidence.jsonl line
);
CREATE INDEX evidence_device_ts ON evidence(device, ts);
CREATE INDEX evidence_ts ON evidence(ts);
