-- Custody you can prove (issue 5): routes, supervisor scopes, two-party confirmations, bags, device keys, the
-- security audit log and the Merkle-tree ledger.

-- The post office that carries mail to and from a one-stop office (its counter is served from there).
ALTER TABLE sites ADD COLUMN serving_post_office_id INTEGER REFERENCES sites (id);

-- Sites a supervisor reads beyond their own (a district or a province).
CREATE TABLE user_sites (
  user_id INTEGER NOT NULL REFERENCES users (id),
  site_id INTEGER NOT NULL REFERENCES sites (id),
  PRIMARY KEY (user_id, site_id)
) WITHOUT ROWID;

-- The post offices an item is routed through: where it was accepted or picked up, where it is delivered from,
-- and any office a bag took it through. A clerk acts only on items routed through their post office.
CREATE TABLE item_route (
  item_id  INTEGER NOT NULL REFERENCES items (id),
  site_id  INTEGER NOT NULL REFERENCES sites (id),
  role     TEXT NOT NULL CHECK (role IN ('origin', 'pickup', 'transit', 'delivery')),
  added_at INTEGER NOT NULL,
  PRIMARY KEY (item_id, site_id)
) WITHOUT ROWID;
CREATE INDEX item_route_site ON item_route (site_id, item_id);

-- Public views show the procedure's field (lĩnh vực), not its name. The second factor printed on the receipt
-- opens the citizen's detailed view without the QR.
ALTER TABLE dossiers ADD COLUMN procedure_category TEXT;
ALTER TABLE items ADD COLUMN lookup_code TEXT;

-- Confirmations of a two-party handoff (RCV, EMA): seal intact or not, and what was wrong. Device-signed scans:
-- the device, its counter and signature. All covered by the hash chain and the ledger when present.
ALTER TABLE events ADD COLUMN seal_intact INTEGER;
ALTER TABLE events ADD COLUMN issue TEXT;
ALTER TABLE events ADD COLUMN device_id INTEGER REFERENCES devices (id);
ALTER TABLE events ADD COLUMN device_seq INTEGER;
ALTER TABLE events ADD COLUMN device_signature BLOB;
-- A device never signs two scans with one counter value: a second event with it is a replay.
CREATE UNIQUE INDEX events_device_seq ON events (device_id, device_seq) WHERE device_seq IS NOT NULL;
CREATE INDEX events_received ON events (received_at);

-- Scanner devices sign their scans with this Ed25519 key (32 bytes), registered at enrolment.
ALTER TABLE devices ADD COLUMN public_key BLOB;

-- Bags: items handed over together with one scan, reconciled on arrival against what was sent.
CREATE TABLE bags (
  id                  INTEGER PRIMARY KEY,
  bag_id              TEXT NOT NULL UNIQUE,
  origin_site_id      INTEGER NOT NULL REFERENCES sites (id),
  destination_site_id INTEGER NOT NULL REFERENCES sites (id),
  state               TEXT NOT NULL CHECK (state IN ('open', 'dispatched', 'receiving', 'closed')),
  created_by          INTEGER REFERENCES users (id),
  created_at          INTEGER NOT NULL,
  dispatch_event_id   TEXT UNIQUE,
  dispatched_by       INTEGER REFERENCES users (id),
  dispatched_at       INTEGER,
  received_by         INTEGER REFERENCES users (id),
  received_at         INTEGER,
  closed_by           INTEGER REFERENCES users (id),
  closed_at           INTEGER
);
CREATE INDEX bags_sites ON bags (origin_site_id, destination_site_id, created_at);

CREATE TABLE bag_items (
  bag_id     INTEGER NOT NULL REFERENCES bags (id),
  item_id    INTEGER NOT NULL REFERENCES items (id),
  added_at   INTEGER NOT NULL,
  added_by   INTEGER REFERENCES users (id),
  -- 1: on the manifest when dispatched; 0: found in the bag on arrival without being on it.
  expected   INTEGER NOT NULL DEFAULT 1,
  -- Filled on arrival: received, damaged (received with an issue), missing (closed without it), extra.
  outcome    TEXT CHECK (outcome IN ('received', 'damaged', 'missing', 'extra')),
  event_id   TEXT,
  scanned_at INTEGER,
  PRIMARY KEY (bag_id, item_id)
) WITHOUT ROWID;
CREATE INDEX bag_items_item ON bag_items (item_id);

-- Security audit log, separate from the custody record: logins, failed logins, refusals, staff reads of a
-- citizen's personal data, device signature failures. Append-only. Never holds a password, token or the
-- personal data itself: `target` names the object (item id, dossier number).
CREATE TABLE audit_log (
  id         INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  user_id    INTEGER REFERENCES users (id),
  username   TEXT NOT NULL DEFAULT '',
  role       TEXT NOT NULL DEFAULT '',
  site       TEXT NOT NULL DEFAULT '',
  device_id  INTEGER,
  address    TEXT NOT NULL DEFAULT '',
  action     TEXT NOT NULL,
  target     TEXT NOT NULL DEFAULT '',
  target_site TEXT NOT NULL DEFAULT '',
  outcome    TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
  detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- The ledger: one leaf per event in the order stored (RFC 6962 Merkle tree). A leaf commits to the event's
-- public facts and, through a salted hash, to its personal ones, so proofs can be handed out without personal
-- data. ledger_nodes holds every perfect subtree (level 0: the leaf hashes), enough for any root and proof.
CREATE TABLE ledger_leaves (
  seq       INTEGER PRIMARY KEY,  -- leaf index, from 0
  event_row INTEGER NOT NULL UNIQUE REFERENCES events (id),
  salt      BLOB NOT NULL
);
CREATE TABLE ledger_nodes (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
-- Signed tree heads: tree size, root hash and time, signed with the server's Ed25519 key.
CREATE TABLE ledger_checkpoints (
  tree_size  INTEGER PRIMARY KEY,
  root_hash  BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  key_id     TEXT NOT NULL,
  signature  BLOB NOT NULL
);
-- The public keys that signed checkpoints (the private key lives in a file beside the database).
CREATE TABLE ledger_keys (
  key_id     TEXT PRIMARY KEY,
  public_key BLOB NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER ledger_leaves_append_only_update BEFORE UPDATE ON ledger_leaves
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_leaves_append_only_delete BEFORE DELETE ON ledger_leaves
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_nodes_append_only_update BEFORE UPDATE ON ledger_nodes
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_nodes_append_only_delete BEFORE DELETE ON ledger_nodes
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_checkpoints_append_only_update BEFORE UPDATE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_checkpoints_append_only_delete BEFORE DELETE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
