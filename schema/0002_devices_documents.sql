-- Scanner devices, the papers handed over at pickup (for the receipt), fees, and device clock offsets.

-- A device token is issued once for one user (and so one site); only its SHA-256 is stored.
CREATE TABLE devices (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  user_id    INTEGER NOT NULL REFERENCES users (id),
  token_hash BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

-- The papers counted with the citizen at pickup (QĐ 45/2016), printed on the receipt (phiếu gửi hồ sơ).
CREATE TABLE dossier_documents (
  dossier_id INTEGER NOT NULL REFERENCES dossiers (id),
  position   INTEGER NOT NULL,
  name       TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('original', 'certified_copy', 'copy')),
  count      INTEGER NOT NULL CHECK (count BETWEEN 1 AND 99),
  PRIMARY KEY (dossier_id, position)
) WITHOUT ROWID;

-- Fees (phí, lệ phí) collected at pickup, in đồng.
ALTER TABLE dossiers ADD COLUMN fee_vnd INTEGER;

-- Server clock minus the device's clock when the device sent the event (NULL: not reported). Covered by the
-- hash chain when present.
ALTER TABLE events ADD COLUMN clock_offset_ms INTEGER;
