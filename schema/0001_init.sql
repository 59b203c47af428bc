-- Dossier Post: initial schema. Landed migrations are never edited; add 0002_… instead.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE sites (
  id         INTEGER PRIMARY KEY,
  code       TEXT NOT NULL UNIQUE,
  kind       TEXT NOT NULL CHECK (kind IN ('post_office', 'office')),
  name       TEXT NOT NULL,
  agency_id  TEXT NOT NULL DEFAULT '',
  address    TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('clerk', 'office_staff', 'supervisor', 'admin')),
  site_id       INTEGER REFERENCES sites (id),
  full_name     TEXT NOT NULL DEFAULT '',
  active        INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL
);

-- Bearer tokens are stored only as their SHA-256.
CREATE TABLE sessions (
  token_hash BLOB PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE dossiers (
  id                  INTEGER PRIMARY KEY,
  dossier_code        TEXT UNIQUE,
  procedure_code      TEXT NOT NULL,
  procedure_name      TEXT NOT NULL,
  applicant_name      TEXT NOT NULL,
  applicant_phone     TEXT NOT NULL DEFAULT '',
  applicant_address   TEXT NOT NULL DEFAULT '',
  applicant_id_number TEXT NOT NULL DEFAULT '',
  office_site_id      INTEGER NOT NULL REFERENCES sites (id),
  origin_site_id      INTEGER NOT NULL REFERENCES sites (id),
  service             TEXT NOT NULL CHECK (service IN ('send', 'receive', 'both')),
  due_date            TEXT,
  created_by          INTEGER REFERENCES users (id),
  created_at          INTEGER NOT NULL
);

-- One envelope on one leg. `state` is derived from the events (cached for fast reads).
CREATE TABLE items (
  id                  INTEGER PRIMARY KEY,
  item_id             TEXT NOT NULL UNIQUE,
  dossier_id          INTEGER NOT NULL REFERENCES dossiers (id),
  kind                TEXT NOT NULL CHECK (kind IN ('dossier', 'result', 'return')),
  state               TEXT NOT NULL,
  origin_site_id      INTEGER NOT NULL REFERENCES sites (id),
  destination_site_id INTEGER REFERENCES sites (id),
  tracking_token      TEXT NOT NULL UNIQUE,
  last_occurred_at    INTEGER,
  created_at          INTEGER NOT NULL
);
CREATE INDEX items_dossier ON items (dossier_id);

-- Next S10 serial per service indicator.
CREATE TABLE serials (
  service     TEXT PRIMARY KEY,
  next_serial INTEGER NOT NULL
) WITHOUT ROWID;

-- Scans: append-only. `chain` = SHA-256(previous row's chain || canonical text of this row), so an edit,
-- deletion or reordering made directly in the file is found by `dossier-server verify`.
CREATE TABLE events (
  id                   INTEGER PRIMARY KEY,
  event_id             TEXT NOT NULL UNIQUE,
  item_id              INTEGER NOT NULL REFERENCES items (id),
  code                 TEXT NOT NULL,
  site_id              INTEGER NOT NULL REFERENCES sites (id),
  user_id              INTEGER REFERENCES users (id),
  device               TEXT,
  occurred_at          INTEGER NOT NULL,
  received_at          INTEGER NOT NULL,
  late                 INTEGER NOT NULL DEFAULT 0,
  reason               TEXT,
  recipient_name       TEXT,
  recipient_id_checked INTEGER,
  recipient_relation   TEXT,
  state_after          TEXT NOT NULL,
  chain                BLOB NOT NULL
);
CREATE INDEX events_item ON events (item_id, occurred_at, id);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
