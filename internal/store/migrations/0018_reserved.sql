-- Number 18 belongs to a change on another branch (the optional LLM). This
-- stand-in keeps the sequence whole until that change is merged; the merge
-- replaces this file with it.
SELECT 1;
