-- A reply whose chat blocked the bot is held in the outbox rather than
-- dropped: held_at is when it was held (0: not held). When the reporter
-- writes again the chat's held replies go back in the queue, in order.
ALTER TABLE outbox ADD COLUMN held_at {{INT64}} NOT NULL DEFAULT 0;
