-- Reserved: migration 21 belongs to a change on another branch. This
-- file only keeps the numbers contiguous on the backup branch; it is dropped
-- when the branches are merged.
SELECT 1;
