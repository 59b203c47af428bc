-- What citizens ask from the tracking page (issue 6): a new delivery attempt after a failed one, and a rating
-- (1-5 and a comment) of a delivered result. One of each per delivery step: `after_event` is the event the
-- request answers (the failed attempt EMH, or the delivery EMI), so a second click asks nothing twice.
CREATE TABLE citizen_requests (
  id             INTEGER PRIMARY KEY,
  item_id        INTEGER NOT NULL REFERENCES items (id),
  kind           TEXT NOT NULL CHECK (kind IN ('redelivery', 'rating')),
  after_event    TEXT NOT NULL,
  rating         INTEGER CHECK (rating BETWEEN 1 AND 5),
  comment        TEXT,
  preferred_date TEXT,
  created_at     INTEGER NOT NULL,
  CHECK ((kind = 'rating') = (rating IS NOT NULL)),
  UNIQUE (item_id, kind, after_event)
);
