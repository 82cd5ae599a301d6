-- Keys every instance of one installation shares, made by whichever starts
-- first: what one instance signs (a quiz page's start time), another checks.
CREATE TABLE instance_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
