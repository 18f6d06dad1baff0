-- A step may now be `waiting`: an Exchange step whose mailbox was not provisioned (or not yet shown as shared)
-- within the run's wait budget, and the steps that depend on it. Keep in step with
-- ../sqlite/0005_waiting_steps.sql (which has to rebuild the table to change the constraint).

ALTER TABLE steps DROP CONSTRAINT steps_status_check;
ALTER TABLE steps ADD CONSTRAINT steps_status_check
    CHECK (status IN ('pending', 'running', 'done', 'failed', 'waiting'));
