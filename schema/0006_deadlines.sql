-- Deadlines (issue #7): the working-day calendar and leg limits a dossier was received under, its processing
-- time, the pauses of its clock while the citizen supplements it, and where sites are (province, area).

-- A rule set is both rule files' text, named by their SHA-256; dossiers keep the one in force at intake so
-- that a later change does not rewrite past verdicts.
CREATE TABLE rule_sets (
  id         INTEGER PRIMARY KEY,
  hash       TEXT NOT NULL UNIQUE,
  calendar   TEXT NOT NULL,
  leg_limits TEXT NOT NULL,
  first_used INTEGER NOT NULL
);
ALTER TABLE dossiers ADD COLUMN rule_set_id INTEGER REFERENCES rule_sets (id);
ALTER TABLE dossiers ADD COLUMN processing_days INTEGER;

-- Yêu cầu bổ sung hồ sơ: the clock stops from paused_at until resumed_at. At most one open pause per dossier.
CREATE TABLE dossier_pauses (
  id         INTEGER PRIMARY KEY,
  dossier_id INTEGER NOT NULL REFERENCES dossiers (id),
  paused_at  INTEGER NOT NULL,
  reason     TEXT NOT NULL DEFAULT '',
  paused_by  INTEGER REFERENCES users (id),
  resumed_at INTEGER,
  resumed_by INTEGER REFERENCES users (id)
);
CREATE INDEX dossier_pauses_dossier ON dossier_pauses (dossier_id);
CREATE UNIQUE INDEX dossier_pauses_open ON dossier_pauses (dossier_id) WHERE resumed_at IS NULL;

-- Province code (mã tỉnh, as the leg limits file names it) and area: urban, rural or remote.
ALTER TABLE sites ADD COLUMN province_code TEXT NOT NULL DEFAULT '';
ALTER TABLE sites ADD COLUMN area TEXT CHECK (area IS NULL OR area IN ('urban', 'rural', 'remote'));
