-- No change. This branch (incidents) holds number 0023 only so that 0024
-- applies on its own; another branch brings the real 0023. Delete this file
-- when merging with that branch.
SELECT 1;
