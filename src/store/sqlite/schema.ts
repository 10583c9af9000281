/** The SQLite schema, by version (`PRAGMA user_version`). Add a step; never edit a shipped one. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE readings (
    position INTEGER PRIMARY KEY,   -- arrival order: the processing journal
    device_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    ts INTEGER NOT NULL,            -- epoch ms of the reading
    seq INTEGER,
    body TEXT NOT NULL,             -- the normalized reading, JSON
    received_at INTEGER NOT NULL
  );
  -- The contract's two duplicate rules, as constraints.
  CREATE UNIQUE INDEX readings_device_ts ON readings (device_id, ts);
  CREATE UNIQUE INDEX readings_device_seq ON readings (device_id, seq) WHERE seq IS NOT NULL;

  CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    birth TEXT NOT NULL DEFAULT '{}',
    state TEXT                      -- the folded DeviceState, JSON
  );

  CREATE TABLE actions (
    id TEXT PRIMARY KEY,
    dedup_key TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    device_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    status TEXT NOT NULL,
    rule TEXT NOT NULL,
    subject TEXT NOT NULL,
    episode TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    details TEXT NOT NULL,
    ticket TEXT                     -- a service ticket's state, JSON (details.ticket shows it)
  );
  CREATE INDEX actions_device_status ON actions (device_id, status);
  CREATE INDEX actions_created ON actions (created_at);

  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: sinks follow it with cursors
    action TEXT NOT NULL
  );

  CREATE TABLE journal (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
  );
  INSERT INTO journal (id, position) VALUES (1, 0);

  -- How far each follower got: an action sink through the outbox, the InfluxDB forwarder through
  -- the readings.
  CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL
  );
  `,
  `
  -- Each new cartridge a device showed (a rise of 30 points or more), for spare stock and history.
  CREATE TABLE cartridge_installs (
    device_id TEXT NOT NULL,
    color TEXT NOT NULL,
    ts INTEGER NOT NULL,
    site_id TEXT NOT NULL,
    model TEXT,
    PRIMARY KEY (device_id, color, ts)
  );
  CREATE INDEX cartridge_installs_site ON cartridge_installs (site_id, ts);

  -- What a site found when it counted its spare toner.
  CREATE TABLE stock_counts (
    site_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    items TEXT NOT NULL,            -- JSON [{ model, color, count }]
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, ts)
  );

  CREATE INDEX actions_site_type ON actions (site_id, type, created_at);
  `, // process-fleet: an action about a whole site has no device (device_id NULL) and says its scope;
  // the spare-stock counts that rode on a site's first device are moved to the site. SQLite cannot
  // drop a NOT NULL, so the table is rebuilt with its indexes.
  `
  CREATE TABLE actions_scoped (
    id TEXT PRIMARY KEY,
    dedup_key TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT 'device' CHECK (scope IN ('device', 'site')),
    device_id TEXT CHECK ((scope = 'device') = (device_id IS NOT NULL)),
    site_id TEXT NOT NULL,
    status TEXT NOT NULL,
    rule TEXT NOT NULL,
    subject TEXT NOT NULL,
    episode TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    details TEXT NOT NULL,
    ticket TEXT
  );
  INSERT INTO actions_scoped (id, dedup_key, type, scope, device_id, site_id, status, rule, subject, episode,
    created_at, updated_at, details, ticket)
  SELECT id, dedup_key, type,
    CASE WHEN subject LIKE 'stock:%' THEN 'site' ELSE 'device' END,
    CASE WHEN subject LIKE 'stock:%' THEN NULL ELSE device_id END,
    site_id, status, rule, subject, episode, created_at, updated_at, details, ticket
  FROM actions;
  DROP TABLE actions;
  ALTER TABLE actions_scoped RENAME TO actions;
  CREATE INDEX actions_device_status ON actions (device_id, status);
  CREATE INDEX actions_created ON actions (created_at);
  CREATE INDEX actions_site_type ON actions (site_id, type, created_at);
  CREATE INDEX actions_site_scope ON actions (site_id, scope, status);
  `, // process-fleet: each gateway's last state, from its status topic (retained, and its will), and the
  // devices it published for since it last came online.
  `
  CREATE TABLE gateways (
    site_id TEXT NOT NULL,
    gateway_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('online', 'offline')),
    since INTEGER NOT NULL,         -- when this state began: its ts, or when it was received
    devices TEXT,                   -- JSON: the devices its last online state named, or NULL
    published_for TEXT NOT NULL DEFAULT '[]',
    software TEXT,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, gateway_id)
  );
  `,
  // email: the messages the email sink wrote, what the mail server answered, and the advisories
  // waiting for their site's daily digest.
  `
  CREATE TABLE mail_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, -- the order messages are sent in
    message_id TEXT NOT NULL UNIQUE,       -- <action.change@domain>: one message per change
    action_id TEXT,                        -- null for a digest (mail_digest_items names its actions)
    site_id TEXT NOT NULL,
    change TEXT NOT NULL,                  -- created, shipped, sla-breach, …, digest
    template TEXT NOT NULL,
    recipients TEXT NOT NULL,              -- JSON { to: [], cc: [] }
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    html TEXT NOT NULL,
    status TEXT NOT NULL,                  -- pending, sent, failed
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    response TEXT,                         -- the server's last answer
    error TEXT
  );
  CREATE INDEX mail_messages_action ON mail_messages (action_id, seq);
  CREATE INDEX mail_messages_pending ON mail_messages (seq) WHERE status = 'pending';

  -- The last snapshot of each action the email sink planned messages for: changes are derived
  -- from it and the next one; position is its outbox message, so a replay is told apart.
  CREATE TABLE mail_seen (
    action_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    snapshot TEXT NOT NULL
  );

  CREATE TABLE mail_digest_items (
    action_id TEXT NOT NULL,
    change_key TEXT NOT NULL,
    site_id TEXT NOT NULL,
    day TEXT NOT NULL,                     -- the digest's local date
    due_at INTEGER NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    html TEXT NOT NULL,
    message_id TEXT,                       -- the digest it went into, once composed
    PRIMARY KEY (action_id, change_key)
  );
  CREATE INDEX mail_digest_items_due ON mail_digest_items (due_at) WHERE message_id IS NULL;
  CREATE INDEX mail_digest_items_slot ON mail_digest_items (site_id, day);
  `,
]
