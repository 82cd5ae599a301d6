-- One row per contact a quiz completion placed in a tier: what the sales
-- lead lists filter, sort and page through, each order with its index.
-- Written in the transaction that stores the completion and its placement.
CREATE TABLE leads (
    contact_id BIGINT NOT NULL PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
    segment_id BIGINT REFERENCES segments(id) ON DELETE SET NULL,
    tier_slug TEXT NOT NULL,
    next_step TEXT NOT NULL,
    session_id BIGINT REFERENCES quiz_sessions(id) ON DELETE SET NULL,
    score DOUBLE PRECISION NOT NULL DEFAULT 0,
    placed_at BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'contacted', 'qualified', 'disqualified'))
);
CREATE INDEX leads_by_tier_score ON leads (tier_slug, score, contact_id);
CREATE INDEX leads_by_tier_placed ON leads (tier_slug, placed_at, contact_id);
CREATE INDEX leads_by_score ON leads (score, contact_id);
CREATE INDEX leads_by_placed ON leads (placed_at, contact_id);

-- Placements made before this table: each contact's latest.
INSERT INTO leads (contact_id, segment_id, tier_slug, next_step, session_id, score, placed_at)
SELECT p.contact_id, p.segment_id, p.segment_slug, p.next_step, p.session_id,
       COALESCE(s.score, 0), p.placed_at
FROM placements p JOIN quiz_sessions s ON s.id = p.session_id
WHERE NOT EXISTS (
    SELECT 1 FROM placements q WHERE q.contact_id = p.contact_id
    AND (q.placed_at > p.placed_at OR (q.placed_at = p.placed_at AND q.session_id > p.session_id))
);
