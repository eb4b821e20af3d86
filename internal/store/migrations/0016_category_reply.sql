-- A restricted category may carry the fixed reply a customer gets when it
-- hands them to a person, and the languages its phrases are written in.
ALTER TABLE restricted_categories ADD COLUMN reply TEXT NOT NULL DEFAULT '';
ALTER TABLE restricted_categories ADD COLUMN languages TEXT NOT NULL DEFAULT '';
