-- Notifications (issue 6): messages to the citizen and webhooks to the one-stop system, queued by the writer in
-- the same transaction as the event that caused them, so an acknowledged event always has them queued and a
-- refused one never does. A notifier thread sends due rows and marks them delivered or schedules a retry.

CREATE TABLE notifications (
  id              INTEGER PRIMARY KEY,
  event_id        TEXT NOT NULL REFERENCES events (event_id),
  channel         TEXT NOT NULL CHECK (channel IN ('citizen', 'webhook')),
  -- citizen: the applicant's phone (personal data: stored only here, never logged); webhook: empty (the URL
  -- is configuration and may change while rows wait).
  recipient       TEXT NOT NULL DEFAULT '',
  -- citizen: the SMS text; webhook: the exact JSON bytes that are signed, so every retry sends the same body.
  body            TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  delivered_at    INTEGER,
  last_error      TEXT,
  UNIQUE (event_id, channel)
);
-- The notifier's poll: undelivered rows of one channel by due time.
CREATE INDEX notifications_due ON notifications (channel, next_attempt_at) WHERE delivered_at IS NULL;
