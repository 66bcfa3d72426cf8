-- Handled updates (issue 12): the keys of updates whose effect has been
-- applied ("tg:<update_id>" for Telegram), written in the transaction that
-- applies the effect, so that a redelivery (a crash before Telegram was told)
-- is recognised and not applied again. Content-free; purged after a week.
CREATE TABLE handled_updates (
    key        TEXT PRIMARY KEY,
    handled_at {{INT64}} NOT NULL
);
CREATE INDEX handled_updates_at ON handled_updates (handled_at);
