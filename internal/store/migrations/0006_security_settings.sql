-- A workspace's security settings: the office email domains its admins must
-- have (comma-separated, lower case; empty: any), and whether every member,
-- not only admins, needs a second factor.
ALTER TABLE workspaces ADD COLUMN office_domains TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN require_2fa INTEGER NOT NULL DEFAULT 0;
