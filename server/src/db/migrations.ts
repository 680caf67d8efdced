/**
 * Numbered, forward-only migrations (STYLE.md habit 10). Never edit a migration that has shipped:
 * add the next number. `PRAGMA user_version` records the last one applied. The file only grows (each
 * migration's SQL stays as it shipped), which is why it is over 300 lines.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'foundation',
    sql: `
      CREATE TABLE areas (
        code TEXT PRIMARY KEY,
        parent_code TEXT REFERENCES areas(code),
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('province', 'commune', 'village', 'district')),
        valid_from TEXT,
        valid_until TEXT,
        imported_at INTEGER NOT NULL
      );
      CREATE INDEX areas_parent ON areas(parent_code);

      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('province-admin', 'approver', 'operator', 'viewer')),
        area_code TEXT,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );

      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX sessions_user ON sessions(user_id);

      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        area_code TEXT NOT NULL REFERENCES areas(code),
        lat REAL,
        lon REAL,
        secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        online INTEGER NOT NULL DEFAULT 0,
        status_at INTEGER,
        last_seen_at INTEGER,
        agent_version TEXT,
        volume INTEGER,
        cache_bytes INTEGER,
        uptime_s REAL
      );
      CREATE INDEX devices_area ON devices(area_code);

      CREATE TABLE bulletins (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        category TEXT,
        voice TEXT NOT NULL,
        speed REAL NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('synthesizing', 'ready', 'failed')),
        progress INTEGER NOT NULL DEFAULT 0,
        stage TEXT,
        error TEXT,
        audio_sha256 TEXT,
        audio_bytes INTEGER,
        duration_ms INTEGER,
        engine TEXT,
        lufs REAL,
        true_peak_db REAL,
        created_by TEXT REFERENCES users(id),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );

      CREATE TABLE broadcasts (
        id TEXT PRIMARY KEY,
        bulletin_id TEXT NOT NULL REFERENCES bulletins(id),
        priority TEXT NOT NULL CHECK (priority IN ('normal', 'priority', 'emergency')),
        target_json TEXT NOT NULL,
        schedule_json TEXT,
        start_at INTEGER NOT NULL,
        window_ms INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected', 'cancelled')),
        media_base_url TEXT NOT NULL,
        created_by TEXT REFERENCES users(id),
        created_at INTEGER NOT NULL
      );

      CREATE TABLE deliveries (
        broadcast_id TEXT NOT NULL REFERENCES broadcasts(id),
        device_id TEXT NOT NULL REFERENCES devices(id),
        occurrence_at INTEGER NOT NULL,
        command_id TEXT NOT NULL,
        state TEXT NOT NULL,
        at INTEGER NOT NULL,
        reason TEXT,
        PRIMARY KEY (broadcast_id, device_id, occurrence_at)
      ) WITHOUT ROWID;
      CREATE INDEX deliveries_device_state ON deliveries(device_id, state);
      CREATE INDEX deliveries_state_occurrence ON deliveries(state, occurrence_at);
      CREATE INDEX deliveries_command ON deliveries(command_id);

      -- The as-run log: every transition with the device's time and the server's receipt time.
      CREATE TABLE delivery_events (
        id INTEGER PRIMARY KEY,
        broadcast_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        occurrence_at INTEGER NOT NULL,
        state TEXT NOT NULL,
        at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        reason TEXT
      );
      CREATE INDEX delivery_events_delivery ON delivery_events(broadcast_id, device_id, occurrence_at);
    `,
  },
  {
    version: 2,
    name: 'reading dictionary',
    sql: `
      -- Operators' additions to the shipped reading dictionary (vi-reading.md § Abbreviations), applied over it.
      CREATE TABLE dictionary_entries (
        term TEXT PRIMARY KEY,
        reading TEXT NOT NULL,
        updated_by TEXT REFERENCES users(id),
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'scheduling and approval',
    sql: `
      ALTER TABLE broadcasts ADD COLUMN resume_mode TEXT NOT NULL DEFAULT 'restart' CHECK (resume_mode IN ('resume', 'restart'));
      ALTER TABLE broadcasts ADD COLUMN decided_by TEXT REFERENCES users(id);
      ALTER TABLE broadcasts ADD COLUMN decided_at INTEGER;
      ALTER TABLE broadcasts ADD COLUMN decision_reason TEXT;
      -- Occurrences are written as deliveries up to this instant; the scheduler extends it as time passes.
      ALTER TABLE broadcasts ADD COLUMN materialized_until INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX broadcasts_status ON broadcasts(status);

      -- One occurrence of a recurring broadcast cancelled or moved without touching the others.
      CREATE TABLE occurrence_exceptions (
        broadcast_id TEXT NOT NULL REFERENCES broadcasts(id),
        occurrence_at INTEGER NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('cancel', 'move')),
        moved_to INTEGER,
        created_by TEXT REFERENCES users(id),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (broadcast_id, occurrence_at)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: 'offers',
    sql: `
      -- Bulletins the province offers to communes' inboxes (Circular 39/2020/TT-BTTTT).
      CREATE TABLE offers (
        id TEXT PRIMARY KEY,
        bulletin_id TEXT NOT NULL REFERENCES bulletins(id),
        area_code TEXT NOT NULL REFERENCES areas(code),
        priority TEXT NOT NULL CHECK (priority IN ('normal', 'priority', 'emergency')),
        start_at INTEGER,
        expires_at INTEGER,
        status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'expired', 'scheduled')),
        since INTEGER NOT NULL,
        action TEXT NOT NULL,
        reason TEXT,
        collides_with TEXT,
        broadcast_id TEXT REFERENCES broadcasts(id),
        created_by TEXT REFERENCES users(id),
        created_at INTEGER NOT NULL
      );
      CREATE INDEX offers_area_status ON offers(area_code, status);
    `,
  },
  {
    version: 5,
    name: 'device faults and health',
    sql: `
      -- Faults a box reports, each with its start and end (open while ended_at IS NULL).
      CREATE TABLE device_faults (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES devices(id),
        kind TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        detail TEXT,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX device_faults_open ON device_faults(device_id, kind) WHERE ended_at IS NULL;
      CREATE INDEX device_faults_device ON device_faults(device_id, started_at);
      -- The latest heartbeat's health readings, as sent (temperature, load, disk, signal, clock offset …).
      ALTER TABLE devices ADD COLUMN health_json TEXT;
    `,
  },
  {
    version: 6,
    name: 'device agendas',
    sql: `
      -- The agenda last sent to each device: its version only moves when the items change (hash).
      CREATE TABLE device_agendas (
        device_id TEXT PRIMARY KEY REFERENCES devices(id),
        version INTEGER NOT NULL,
        hash TEXT NOT NULL,
        items INTEGER NOT NULL,
        sent_at INTEGER NOT NULL,
        acked_version INTEGER
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: 'coverage snapshots',
    sql: `
      -- Measured coverage of each province every few minutes: the dashboard's trend, never synthetic.
      CREATE TABLE coverage_snapshots (
        area_code TEXT NOT NULL,
        at INTEGER NOT NULL,
        communes INTEGER NOT NULL,
        installed INTEGER NOT NULL,
        working INTEGER NOT NULL,
        installed_pct REAL NOT NULL,
        working_pct REAL NOT NULL,
        PRIMARY KEY (area_code, at)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    name: 'audit log',
    sql: `
      -- Who did what to which object, from where (issue 7). Append-only: the triggers refuse edits.
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        user_id TEXT,
        username TEXT,
        ip TEXT,
        method TEXT NOT NULL,
        route TEXT NOT NULL,
        url TEXT NOT NULL,
        status INTEGER NOT NULL,
        body_json TEXT
      );
      CREATE INDEX audit_log_at ON audit_log(at);
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    `,
  },
  {
    version: 9,
    name: 'recorded bulletins',
    sql: `
      -- A bulletin is synthesized from text or made from an uploaded recording (kept until processed).
      ALTER TABLE bulletins ADD COLUMN source TEXT NOT NULL DEFAULT 'text' CHECK (source IN ('text', 'recording'));
      ALTER TABLE bulletins ADD COLUMN upload_path TEXT;
      ALTER TABLE bulletins ADD COLUMN original_name TEXT;
    `,
  },
  {
    version: 10,
    name: 'claim codes',
    sql: `
      -- One-time codes an installer types (or scans) on a box to receive its credentials; stored hashed.
      CREATE TABLE device_claim_codes (
        code_hash TEXT PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES devices(id),
        created_by TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX device_claim_codes_device ON device_claim_codes(device_id);
    `,
  },
  {
    version: 11,
    name: 'mp3 rendition',
    sql: `
      -- The same audio as MP3 48 kbps, for people who download a bulletin (the boxes get Opus).
      ALTER TABLE bulletins ADD COLUMN mp3_sha256 TEXT;
    `,
  },
  {
    version: 12,
    name: 'heartbeat count',
    sql: `
      -- Heartbeats stored per device since it was registered: heartbeats are written in batches, and this
      -- is how "every heartbeat that reached the server was stored" is counted (issue 8 § Benchmarks).
      ALTER TABLE devices ADD COLUMN heartbeats INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 13,
    name: 'audit objects',
    sql: `
      -- Which object an audited request wrote, and its stored state before and after (issue 7: "before/after
      -- for edits"). Added columns only: the append-only triggers stay as they are.
      ALTER TABLE audit_log ADD COLUMN object_type TEXT;
      ALTER TABLE audit_log ADD COLUMN object_id TEXT;
      ALTER TABLE audit_log ADD COLUMN before_json TEXT;
      ALTER TABLE audit_log ADD COLUMN after_json TEXT;
      CREATE INDEX audit_log_object ON audit_log(object_type, object_id);
    `,
  },
  {
    version: 14,
    name: 'heartbeat log',
    sql: `
      -- Heartbeats as they arrive, appended (issue 8: 10,000 boxes every 30 s). Rewriting each box's devices
      -- row per heartbeat touched ~80 scattered pages per 250 ms batch and was most of the ingest CPU; an
      -- append touches a few. The latest readings are folded into devices about once a minute, on reads
      -- and at shutdown, and the folded rows deleted; at start-up whatever a crash left here is folded first.
      -- AUTOINCREMENT so seq never goes back after the deletes: readers (the benchmarks) follow it.
      -- The readings the server checked are columns of their own: the payload text is kept as it came, and
      -- JSON with a key twice would read differently in SQL than it was checked.
      CREATE TABLE heartbeat_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        device_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        volume INTEGER,
        cache_bytes INTEGER,
        uptime_s REAL,
        agent_version TEXT,
        health_json TEXT NOT NULL
      );
      -- When a status last stated the agent version: a heartbeat's version counts unless a status stated one after it.
      ALTER TABLE devices ADD COLUMN version_at INTEGER;
    `,
  },
  {
    version: 15,
    name: 'bulletin and audit areas',
    sql: `
      -- A bulletin belongs to its author's area when it is written (issue 13, finding 9): who may read it
      -- and broadcast it is decided by that area, not by any login. NULL: written by an installation-wide
      -- user. Existing bulletins take their author's current area.
      ALTER TABLE bulletins ADD COLUMN area_code TEXT;
      UPDATE bulletins SET area_code = (SELECT area_code FROM users WHERE users.id = bulletins.created_by);
      CREATE INDEX bulletins_area ON bulletins(area_code);
      -- An audit row belongs to the area of the user who acted (for a login, of the account tried), so a
      -- province admin reads only its province's rows (issue 13, finding 2). NULL: installation-wide, read
      -- only by installation-wide admins. Filling the existing rows is the one edit the log ever gets: the
      -- append-only trigger is lifted for it inside this migration's transaction and put back.
      ALTER TABLE audit_log ADD COLUMN area_code TEXT;
      DROP TRIGGER audit_log_no_update;
      UPDATE audit_log SET area_code = (SELECT area_code FROM users WHERE users.id = audit_log.user_id OR (audit_log.user_id IS NULL AND users.username = audit_log.username));
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE INDEX audit_log_area ON audit_log(area_code, id);
    `,
  },
  {
    version: 16,
    name: 'dictionary areas',
    sql: `
      -- A reading belongs to an area (issue 13, finding 8): a commune's entry changes only how that commune's
      -- bulletins are read, and a bulletin is read with the most local entry of its area's ancestry. NULL:
      -- installation-wide, what every entry so far was. The key becomes (term, area); SQLite cannot change a
      -- primary key in place, so the table is rebuilt. COALESCE in the unique index because UNIQUE treats
      -- NULLs as distinct, which would allow two installation-wide entries for one term.
      CREATE TABLE dictionary_entries_by_area (
        term TEXT NOT NULL,
        area_code TEXT REFERENCES areas(code),
        reading TEXT NOT NULL,
        updated_by TEXT REFERENCES users(id),
        updated_at INTEGER NOT NULL
      );
      INSERT INTO dictionary_entries_by_area (term, area_code, reading, updated_by, updated_at)
        SELECT term, NULL, reading, updated_by, updated_at FROM dictionary_entries;
      DROP TABLE dictionary_entries;
      ALTER TABLE dictionary_entries_by_area RENAME TO dictionary_entries;
      CREATE UNIQUE INDEX dictionary_entries_term_area ON dictionary_entries(term, COALESCE(area_code, ''));
      CREATE INDEX dictionary_entries_area ON dictionary_entries(area_code);
    `,
  },
  {
    version: 17,
    name: 'relays',
    sql: `
      -- Live sources a box relays (issue 15: VOV, the provincial station): stream URLs in order of preference,
      -- who may use them (area_code: the area it belongs to and everything inside it; NULL: the whole
      -- installation), the bulletin played when every URL fails. A deleted source keeps its row (deleted_at):
      -- the as-run of relays aired from it still names it.
      CREATE TABLE stream_sources (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        urls_json TEXT NOT NULL,
        area_code TEXT REFERENCES areas(code),
        fallback_bulletin_id TEXT REFERENCES bulletins(id),
        -- Asked for per source (issue 15: few listeners allowed, credentials); stored, not yet served.
        restream INTEGER NOT NULL DEFAULT 0,
        created_by TEXT REFERENCES users(id),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        deleted_at INTEGER
      );
      CREATE INDEX stream_sources_area ON stream_sources(area_code);
      -- The server's latest check of each URL of a source: up, down (with why) or silent.
      CREATE TABLE stream_source_checks (
        source_id TEXT NOT NULL REFERENCES stream_sources(id),
        url TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('up', 'down', 'silent')),
        reason TEXT,
        level_db REAL,
        checked_at INTEGER NOT NULL,
        PRIMARY KEY (source_id, url)
      ) WITHOUT ROWID;
      -- A bulletin is now also a relay of a source for a duration (duration_ms): no audio, ready at once.
      -- The CHECK on "source" is part of its column, so the column is replaced (ADD, copy, DROP, RENAME)
      -- rather than the whole table rebuilt under the broadcasts and offers that reference it.
      ALTER TABLE bulletins ADD COLUMN kind TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'recording', 'relay'));
      UPDATE bulletins SET kind = source;
      ALTER TABLE bulletins DROP COLUMN source;
      ALTER TABLE bulletins RENAME COLUMN kind TO source;
      ALTER TABLE bulletins ADD COLUMN relay_source_id TEXT REFERENCES stream_sources(id);
      CREATE INDEX bulletins_relay_source ON bulletins(relay_source_id) WHERE relay_source_id IS NOT NULL;
      -- What a box's relay did (issue 15 § As-run): each start, failover, return, fallback and end as the box
      -- reported it. Unique per report so that a QoS 1 redelivery changes nothing.
      CREATE TABLE relay_log (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL,
        broadcast_id TEXT NOT NULL,
        occurrence_at INTEGER NOT NULL,
        url TEXT,
        cause TEXT NOT NULL,
        at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        detail TEXT
      );
      CREATE UNIQUE INDEX relay_log_report ON relay_log(broadcast_id, occurrence_at, device_id, at, cause, COALESCE(url, ''));
      -- A relay's played report: milliseconds of the stream the box actually aired (gaps and fallback excluded).
      ALTER TABLE deliveries ADD COLUMN aired_ms INTEGER;
    `,
  },
  {
    version: 18,
    name: 'programmes',
    sql: `
      -- A programme (issue 15) is a bulletin of source 'programme': broadcast, targeted and approved like any
      -- other. The CHECK is part of the column, so the column is replaced as in migration 17.
      ALTER TABLE bulletins ADD COLUMN kind TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'recording', 'relay', 'programme'));
      UPDATE bulletins SET kind = source;
      ALTER TABLE bulletins DROP COLUMN source;
      ALTER TABLE bulletins RENAME COLUMN kind TO source;
      -- The programme's current version (its items are in programme_versions).
      ALTER TABLE bulletins ADD COLUMN programme_version INTEGER;
      -- Every saved version, kept: the as-run names the version a box played, and boxes may still hold an
      -- older one in their agenda. items_json: the items as asked; rendered_json: per item the file it plays
      -- (sha256, durationMs, bytes), its source or pause, its title. relay_source_id: the first relay
      -- segment's source (the relay report names it); relay_ms: the relay segments' nominal length.
      CREATE TABLE programme_versions (
        programme_id TEXT NOT NULL REFERENCES bulletins(id),
        version INTEGER NOT NULL,
        items_json TEXT NOT NULL,
        rendered_json TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        open_ended INTEGER NOT NULL DEFAULT 0,
        relay_source_id TEXT REFERENCES stream_sources(id),
        created_by TEXT REFERENCES users(id),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (programme_id, version)
      ) WITHOUT ROWID;
      -- How each item of a programme went on each box (programme-item events). Unique per report so that a
      -- QoS 1 redelivery changes nothing.
      CREATE TABLE programme_item_log (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL,
        broadcast_id TEXT NOT NULL,
        occurrence_at INTEGER NOT NULL,
        version INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('playing', 'played', 'skipped', 'failed')),
        at INTEGER NOT NULL,
        aired_ms INTEGER,
        reason TEXT,
        received_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX programme_item_log_report ON programme_item_log(broadcast_id, occurrence_at, device_id, version, idx, state, at);
    `,
  },
  {
    version: 19,
    name: 'live voice',
    sql: `
      -- A live voice's recording (issue 16) is a bulletin of source 'live'. The CHECK is part of the column, so
      -- the column is replaced as in migrations 17 and 18.
      ALTER TABLE bulletins ADD COLUMN kind TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'recording', 'relay', 'programme', 'live'));
      UPDATE bulletins SET kind = source;
      ALTER TABLE bulletins DROP COLUMN source;
      ALTER TABLE bulletins RENAME COLUMN kind TO source;
      -- One live airing: its bulletin (the same id; the recording becomes its audio), the broadcast that took it
      -- to the boxes, who spoke, the URL the boxes pull (the server's /live/{id}, or an Icecast mount), and how it
      -- went: waiting for the voice, on air, ended (with why); the ms of voice aired.
      CREATE TABLE live_sessions (
        id TEXT PRIMARY KEY REFERENCES bulletins(id),
        broadcast_id TEXT NOT NULL REFERENCES broadcasts(id),
        created_by TEXT NOT NULL REFERENCES users(id),
        stream_url TEXT NOT NULL,
        device_auth INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('waiting', 'on-air', 'ended')),
        end_reason TEXT CHECK (end_reason IN ('stopped', 'link-dropped', 'no-audio', 'too-long', 'server-stopping', 'encoder-failed')),
        input_type TEXT,
        created_at INTEGER NOT NULL,
        on_air_at INTEGER,
        ended_at INTEGER,
        ended_by TEXT REFERENCES users(id),
        aired_ms INTEGER NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX live_sessions_broadcast ON live_sessions(broadcast_id);
      CREATE INDEX live_sessions_open ON live_sessions(state) WHERE state != 'ended';
    `,
  },
  {
    version: 20,
    name: 'national link',
    sql: `
      -- Issue 17: the link to the province's source system (HTTT nguồn, Decision 135/QĐ-TTg, CV 1273/BTTTT-TTCS).
      -- A box's national id (CumLoaID: in practice its modem's IMEI); absent, the link names it by our id.
      ALTER TABLE devices ADD COLUMN national_id TEXT;
      CREATE UNIQUE INDEX devices_national_id ON devices(national_id) WHERE national_id IS NOT NULL;
      -- The on-disk outbox: every event of the internal model (shared/src/national/model.ts) that goes up, in
      -- order (seq), so a week offline loses nothing and arrives in order. dedupe_key keeps a redelivered box
      -- report from being queued twice (QoS 1). State: pending until the upstream answers; sent when it accepts;
      -- refused when it answers TrangThaiGui 1 or a 4xx other than 401 (kept with its answer for the admin, not
      -- retried: a refusal is about the message, and sending it again changes nothing).
      CREATE TABLE national_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('box-status', 'airing-start', 'airing-end', 'schedule-ack')),
        dedupe_key TEXT,
        event_json TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'refused')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        answer TEXT,
        sent_at INTEGER
      );
      CREATE UNIQUE INDEX national_outbox_dedupe ON national_outbox(dedupe_key) WHERE dedupe_key IS NOT NULL;
      CREATE INDEX national_outbox_pending ON national_outbox(state, seq) WHERE state = 'pending';
      -- The other systems of the link, with the credentials they log in to us with (served interface, under
      -- /national): a parent (the province's source system, or a central Loa Xã) may send bulletins down to us;
      -- a child (a commune system, vendor boxes, a province Loa Xã under a central one) reports up to us and gets
      -- bulletins from us at base_url, logging in there as out_username (out_password sealed like relay
      -- credentials). area_codes: the areas the peer may act on (JSON array of our codes).
      CREATE TABLE national_peers (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('parent', 'child')),
        name TEXT NOT NULL,
        source_id TEXT NOT NULL,
        mapping TEXT NOT NULL,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        area_codes TEXT NOT NULL DEFAULT '[]',
        base_url TEXT,
        out_username TEXT,
        out_password_sealed TEXT,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      -- Every request that reached the served interface, taken or refused (what, from whom, why), for the admin.
      CREATE TABLE national_inbound (
        id INTEGER PRIMARY KEY,
        peer_id TEXT REFERENCES national_peers(id),
        kind TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        accepted INTEGER NOT NULL,
        detail TEXT NOT NULL,
        body TEXT
      );
      CREATE INDEX national_inbound_time ON national_inbound(received_at);
      -- A bulletin that came down, by the sender's BanTinId: the bulletin and broadcasts or offers it became
      -- here, so delete and reschedule find them, and a repeated BanTinId is an update, not a second airing.
      CREATE TABLE national_bulletins (
        peer_id TEXT NOT NULL REFERENCES national_peers(id),
        upstream_id TEXT NOT NULL,
        bulletin_id TEXT REFERENCES bulletins(id),
        broadcast_ids TEXT NOT NULL DEFAULT '[]',
        offer_ids TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL CHECK (state IN ('fetching', 'inbox', 'scheduled', 'aired', 'deleted', 'failed')),
        detail TEXT,
        command_json TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (peer_id, upstream_id)
      ) WITHOUT ROWID;
      -- A source system's view of its children's boxes and airings (from their status and play logs): what the
      -- central dashboard counts for coverage, faults and as-run per child.
      CREATE TABLE national_child_boxes (
        peer_id TEXT NOT NULL REFERENCES national_peers(id),
        national_id TEXT NOT NULL,
        name TEXT NOT NULL,
        area_code TEXT NOT NULL,
        area_name TEXT NOT NULL,
        lat REAL,
        lon REAL,
        volume INTEGER,
        operating TEXT NOT NULL,
        connection TEXT NOT NULL,
        now_playing TEXT NOT NULL DEFAULT '',
        app_version TEXT NOT NULL DEFAULT '',
        last_status_at INTEGER NOT NULL,
        PRIMARY KEY (peer_id, national_id)
      ) WITHOUT ROWID;
      CREATE TABLE national_child_airings (
        peer_id TEXT NOT NULL REFERENCES national_peers(id),
        airing_key TEXT NOT NULL,
        bulletin_id TEXT NOT NULL,
        box_national_id TEXT,
        area_code TEXT,
        title TEXT NOT NULL DEFAULT '',
        content_type TEXT,
        priority TEXT,
        relay_source TEXT,
        started_at INTEGER,
        ended_at INTEGER,
        ok INTEGER,
        aired_s INTEGER,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (peer_id, airing_key)
      ) WITHOUT ROWID;
      CREATE INDEX national_child_airings_bulletin ON national_child_airings(peer_id, bulletin_id);
    `,
  },
  {
    version: 21,
    name: 'national bulletins sent down',
    sql: `
      -- Issue 17: what a source system (a province, or the central Loa Xã) sent down to each child peer, the
      -- child's answer (TrangThaiGui/MoTa) or why it could not be reached, and its later schedule-ack:
      -- GET /api/v1/national/sent.
      CREATE TABLE national_sent (
        id TEXT PRIMARY KEY,
        peer_id TEXT NOT NULL REFERENCES national_peers(id),
        upstream_id TEXT NOT NULL,
        bulletin_id TEXT REFERENCES bulletins(id),
        title TEXT NOT NULL,
        priority TEXT NOT NULL,
        command_json TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        detail TEXT NOT NULL,
        http_status INTEGER,
        sent_by TEXT REFERENCES users(id),
        -- The child's schedule-ack (what it did with it: inbox, aired, scheduled, or why refused), when it comes.
        ack_at INTEGER,
        ack_ok INTEGER,
        ack_detail TEXT
      );
      CREATE INDEX national_sent_time ON national_sent(sent_at);
    `,
  },
  {
    version: 22,
    name: 'system users',
    sql: `
      -- Issue 17 review: a parent peer's actor (national:<username>, id = the peer's id) is a users row only so
      -- that what the parent sends has an actor; marked here so that it can never be edited into a login, log
      -- in, or be listed as a person.
      ALTER TABLE users ADD COLUMN system INTEGER NOT NULL DEFAULT 0;
      UPDATE users SET system = 1 WHERE id IN (SELECT id FROM national_peers);
    `,
  },
  {
    version: 23,
    name: 'disaster warnings',
    sql: `
      -- Issue 18: the senders we take CAP 1.2 alerts from (pushed with a token, or pulled from a feed), with
      -- their policy (shared/src/api/warnings.ts warningPolicySchema) and, for a feed, the poller's state.
      -- The push token is kept as its SHA-256 only (a random 192-bit secret, like a box's: CONTRACTS.md).
      CREATE TABLE warning_sources (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('push', 'feed')),
        feed_url TEXT,
        poll_seconds INTEGER NOT NULL DEFAULT 60,
        area_codes TEXT NOT NULL DEFAULT '[]',
        policy TEXT NOT NULL,
        geocode_value_names TEXT NOT NULL DEFAULT '[]',
        require_signature INTEGER NOT NULL DEFAULT 0,
        certificate_pem TEXT,
        certificate_subject TEXT,
        token_hash TEXT UNIQUE,
        created_at INTEGER NOT NULL,
        disabled_at INTEGER,
        deleted_at INTEGER,
        etag TEXT,
        last_modified TEXT,
        last_polled_at INTEGER,
        last_changed_at INTEGER,
        last_result TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        next_poll_at INTEGER,
        seen TEXT NOT NULL DEFAULT '[]'
      );
      -- One row per warning: a CAP identifier chain (the Alert and the Updates that replace it), as it is now.
      -- source_id NULL: written on the province's form.
      CREATE TABLE warnings (
        id TEXT PRIMARY KEY,
        source_id TEXT REFERENCES warning_sources(id),
        source_name TEXT NOT NULL,
        identifier TEXT NOT NULL,
        sender TEXT NOT NULL,
        status TEXT NOT NULL,
        kind TEXT,
        risk_level INTEGER,
        event TEXT NOT NULL,
        headline TEXT,
        severity TEXT NOT NULL,
        urgency TEXT NOT NULL,
        certainty TEXT NOT NULL,
        expires_at INTEGER,
        state TEXT NOT NULL,
        reason TEXT,
        priority TEXT,
        decided_by TEXT,
        announcement TEXT NOT NULL,
        communes TEXT NOT NULL DEFAULT '[]',
        target TEXT NOT NULL DEFAULT '{}',
        boxes INTEGER NOT NULL DEFAULT 0,
        boxes_without_coordinates INTEGER NOT NULL DEFAULT 0,
        unmatched TEXT NOT NULL DEFAULT '[]',
        repeat_minutes INTEGER NOT NULL DEFAULT 0,
        attention INTEGER NOT NULL DEFAULT 1,
        version INTEGER NOT NULL DEFAULT 1,
        bulletin_id TEXT REFERENCES bulletins(id),
        broadcast_id TEXT REFERENCES broadcasts(id),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX warnings_state ON warnings(state, expires_at);
      CREATE INDEX warnings_created ON warnings(created_at, id);
      -- Every CAP message taken (Alert, Update, Cancel, Ack, Error), with its XML as received (bounded by the
      -- reader's document limit). CAP 1.2 §3.2.1: sender, identifier and sent make a message unique, so a
      -- repeated one is ignored (the unique index). source_key: the source's id, or 'form'.
      CREATE TABLE warning_versions (
        id INTEGER PRIMARY KEY,
        warning_id TEXT REFERENCES warnings(id),
        version INTEGER NOT NULL,
        source_key TEXT NOT NULL,
        sender TEXT NOT NULL,
        identifier TEXT NOT NULL,
        sent TEXT NOT NULL,
        sent_ms INTEGER NOT NULL,
        msg_type TEXT NOT NULL,
        status TEXT NOT NULL,
        origin TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        xml TEXT NOT NULL,
        bulletin_id TEXT REFERENCES bulletins(id),
        broadcast_id TEXT REFERENCES broadcasts(id),
        note TEXT
      );
      CREATE UNIQUE INDEX warning_versions_key ON warning_versions(source_key, sender, identifier, sent);
      CREATE INDEX warning_versions_warning ON warning_versions(warning_id, version);
      CREATE INDEX warning_versions_received ON warning_versions(received_at);
    `,
  },
  {
    version: 24,
    name: 'bulletin attention signal',
    sql: `
      -- Issue 18: a disaster warning's bulletin is read after the attention signal (audio/chime.ts 'attention'),
      -- not the commune bell; remembered on the bulletin so a restart that resumes synthesis keeps it.
      ALTER TABLE bulletins ADD COLUMN attention INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 25,
    name: 'mosquitto password hashes',
    sql: `
      -- Issue 21: a box's line of Mosquitto's password file ($7$ PBKDF2-SHA512, broker/mosquitto-files.ts), made
      -- when its secret is issued (the only time the server has it in clear), so that the password and ACL
      -- files can be rewritten whole from here at any time. NULL: no line (another broker, or registered before).
      ALTER TABLE devices ADD COLUMN mosquitto_hash TEXT;
    `,
  },
  {
    version: 26,
    name: 'device health history',
    sql: `
      -- Issue 20 (the box page): heartbeats are folded into the devices row and deleted (migration 14), so
      -- nothing said how a box did yesterday. Each fold also adds its heartbeats here, one row per box per
      -- 15 minutes with the min, max, sum and count of each numeric reading (CPU temperature, signal, free
      -- disk %, cache bytes, volume, clock offset, uptime, load), so the average survives several folds into
      -- one bucket. samples: heartbeats heard in the bucket (none: the box was silent). Kept 30 days
      -- (repos/device-health.ts prunes at each fold); 10,000 boxes make ~29 M rows at most.
      CREATE TABLE device_health_history (
        device_id TEXT NOT NULL,
        bucket_at INTEGER NOT NULL,
        samples INTEGER NOT NULL,
        temp_min REAL, temp_max REAL, temp_sum REAL, temp_n INTEGER NOT NULL DEFAULT 0,
        signal_min REAL, signal_max REAL, signal_sum REAL, signal_n INTEGER NOT NULL DEFAULT 0,
        disk_free_min REAL, disk_free_max REAL, disk_free_sum REAL, disk_free_n INTEGER NOT NULL DEFAULT 0,
        cache_min REAL, cache_max REAL, cache_sum REAL, cache_n INTEGER NOT NULL DEFAULT 0,
        volume_min REAL, volume_max REAL, volume_sum REAL, volume_n INTEGER NOT NULL DEFAULT 0,
        clock_min REAL, clock_max REAL, clock_sum REAL, clock_n INTEGER NOT NULL DEFAULT 0,
        uptime_min REAL, uptime_max REAL, uptime_sum REAL, uptime_n INTEGER NOT NULL DEFAULT 0,
        load_min REAL, load_max REAL, load_sum REAL, load_n INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (device_id, bucket_at)
      ) WITHOUT ROWID;
      -- Pruning by age without reading every box's rows.
      CREATE INDEX device_health_history_bucket ON device_health_history(bucket_at);
      -- The readings not already columns of the log, taken from the checked payload at ingest: reading them
      -- back from health_json with json_extract at each fold more than doubled the fold of 10,000 boxes.
      ALTER TABLE heartbeat_log ADD COLUMN cpu_temp_c REAL;
      ALTER TABLE heartbeat_log ADD COLUMN signal_pct REAL;
      ALTER TABLE heartbeat_log ADD COLUMN disk_free_pct REAL;
      ALTER TABLE heartbeat_log ADD COLUMN clock_offset_ms REAL;
      ALTER TABLE heartbeat_log ADD COLUMN load1 REAL;
    `,
  },
  {
    version: 27,
    name: 'notifications',
    sql: `
      -- Issue 20: what the header's badge counts and /thong-bao lists, one row per recipient (marked read by that
      -- user alone). title and body are the Vietnamese text as sent by push and e-mail; link a path of the app.
      CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        link TEXT NOT NULL,
        -- What it is about (a broadcast's id for approvals): once decided or withdrawn, the others' "waiting" is read.
        ref TEXT,
        created_at INTEGER NOT NULL,
        read_at INTEGER
      );
      CREATE INDEX notifications_user ON notifications(user_id, id);
      CREATE INDEX notifications_ref ON notifications(ref) WHERE ref IS NOT NULL;
      CREATE INDEX notifications_unread ON notifications(user_id) WHERE read_at IS NULL;
      -- A browser's Web Push subscription (RFC 8030 endpoint, RFC 8291 keys); removed when the push service
      -- answers 404/410 (the subscription expired or was revoked).
      CREATE TABLE push_subscriptions (
        endpoint TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        p256dh TEXT NOT NULL,
        auth TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_ok_at INTEGER
      );
      CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);
      -- Each user's e-mail address and channels per kind (JSON; absent kinds take the defaults).
      CREATE TABLE notification_prefs (
        user_id TEXT PRIMARY KEY REFERENCES users(id),
        email TEXT,
        channels TEXT NOT NULL DEFAULT '{}',
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 28,
    name: 'area voice settings',
    sql: `
      -- Issue 20 ("set reading speed and voice"): the voice and speaking rate an area's bulletins are read with
      -- when the bulletin does not choose; the most local area of a bulletin's ancestry wins, else the server's
      -- LOAXA_TTS_VOICE at speed 1 (repos/voice-settings.ts).
      CREATE TABLE area_voice_settings (
        area_code TEXT PRIMARY KEY,
        voice TEXT NOT NULL,
        speed REAL NOT NULL CHECK (speed >= 0.5 AND speed <= 2),
        updated_by TEXT,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 29,
    name: 'public bulletins',
    sql: `
      -- Issue 22: a bulletin marked public is published on its commune's web page (podcast, notices, player,
      -- share links) once it has aired there; not public unless a writer of its area says so.
      ALTER TABLE bulletins ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX bulletins_public ON bulletins(id) WHERE public = 1;
      -- The feeds go from a bulletin to its broadcasts (and then to the boxes that played them).
      CREATE INDEX broadcasts_bulletin ON broadcasts(bulletin_id);
    `,
  },
  {
    version: 30,
    name: 'bulletin library search',
    sql: `
      -- Issue 20, the bulletin library: words of a bulletin's title or text, any case, over a province's years
      -- of bulletins. Scanning the text with a case fold took 1.2-1.4 s for 20,000 bulletins of 1,500
      -- characters; the index answers in milliseconds. unicode61 folds case beyond ASCII ("ĐÔNG" finds "Đông")
      -- and keeps the tone marks (remove_diacritics 0: "má" is not "mà"). It keeps its own copy of the words,
      -- keyed by the bulletin's id, so nothing depends on rowids (which VACUUM may renumber).
      CREATE VIRTUAL TABLE bulletins_search USING fts5(id UNINDEXED, title, text, tokenize = 'unicode61 remove_diacritics 0');
      INSERT INTO bulletins_search (id, title, text) SELECT id, title, text FROM bulletins;
      CREATE TRIGGER bulletins_search_insert AFTER INSERT ON bulletins BEGIN
        INSERT INTO bulletins_search (id, title, text) VALUES (new.id, new.title, new.text);
      END;
      CREATE TRIGGER bulletins_search_update AFTER UPDATE OF title, text ON bulletins BEGIN
        DELETE FROM bulletins_search WHERE id = old.id;
        INSERT INTO bulletins_search (id, title, text) VALUES (new.id, new.title, new.text);
      END;
      CREATE TRIGGER bulletins_search_delete AFTER DELETE ON bulletins BEGIN
        DELETE FROM bulletins_search WHERE id = old.id;
      END;
      -- Newest first with every other filter of the library and its total read from the index alone: the
      -- columns sit after the text in the row, so each check read a whole bulletin (120-190 ms a page or a
      -- count at 20,000 bulletins; 4-15 ms with this index).
      CREATE INDEX bulletins_library ON bulletins(created_at, id, area_code, created_by, status, source, category);
    `,
  },
];
