-- The lease of a running plan job: the replica that runs it (lease_owner)
-- renews lease_until with its progress; a plan whose lease ran out lost its
-- replica and is marked failed by any other (store.ReapPlans).

ALTER TABLE plans ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE plans ADD COLUMN lease_until {{time}};
CREATE INDEX plans_unfinished_idx ON plans (status) WHERE status IN ('queued', 'running');
