-- Installations of the GitHub App, kept current from `installation` events. A push from an
-- installation that is deleted or suspended is not graded (its tokens would be refused).
CREATE TABLE installations (
    id          INTEGER PRIMARY KEY,
    account     TEXT NOT NULL,
    state       TEXT NOT NULL,          -- active | suspended | deleted
    updated_at  INTEGER NOT NULL
);
