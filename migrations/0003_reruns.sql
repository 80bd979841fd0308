-- How many times a job has been run on request (GitHub's "Re-run" button): each run gets its
-- own check run, found again by external_id "<job id>" (first run) or "<job id>.<run>".
ALTER TABLE jobs ADD COLUMN run INTEGER NOT NULL DEFAULT 1;
