-- Failed deliveries and returns (issue 7). A failed attempt (EMH) records a structured reason beside the free
-- text and the action taken; the delivery of a result (EMI) records the ID document checked, its number masked
-- (only the last 4 characters: the full number is never stored), and for a recipient who is not the applicant
-- the authorization (giấy ủy quyền) shown. Columns are NULL on events recorded before this migration.
ALTER TABLE events ADD COLUMN reason_code TEXT
  CHECK (reason_code IN ('absent', 'refused', 'wrong_address', 'office_closed', 'moved', 'no_id', 'other'));
ALTER TABLE events ADD COLUMN action TEXT
  CHECK (action IN ('redeliver', 'hold_at_post_office', 'return_to_sender'));
ALTER TABLE events ADD COLUMN recipient_id_type TEXT
  CHECK (recipient_id_type IN ('cccd', 'cmnd', 'passport', 'other'));
ALTER TABLE events ADD COLUMN recipient_id_number_masked TEXT;
ALTER TABLE events ADD COLUMN authorization_number TEXT;
ALTER TABLE events ADD COLUMN authorization_date TEXT;
