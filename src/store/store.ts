/**
 * What the service keeps, behind one interface: readings (the time series), devices, the action
 * ledger and its outbox, and the processing journal. Nothing outside `src/store/` knows which
 * database is behind it.
 */
import type { Scope } from '../access/permissions.ts'
import type { Action, Birth } from '../contract/schemas.ts'
import type { Delivery } from '../domain/delivery.ts'
import type { DeviceState } from '../domain/device-state.ts'
import type { ActionCandidate, LedgerEntry, Transition } from '../domain/ledger.ts'
import type { Reading } from '../domain/reading.ts'
import type { StockCount, StockTally } from '../domain/stock.ts'
import type { Ticket } from '../domain/ticket.ts'

/** A stored reading with its place in arrival order, the processing journal's position. */
export interface JournalEntry {
  position: number
  reading: Reading
  /** When the service received it (its wall clock at ingest). */
  receivedAt?: number
}

export interface BirthRecord {
  siteId: string
  deviceId: string
  birth: Birth
}

/** A gateway's new state, or the devices it publishes for (from its MQTT connection). */
export interface GatewayUpdate {
  siteId: string
  gatewayId: string
  status?: { state: 'online' | 'offline'; at: number; devices?: string[]; software?: string }
  publishedFor?: string[]
}

/** A gateway as the service knows it. */
export interface GatewayRecord {
  siteId: string
  gatewayId: string
  state: 'online' | 'offline'
  /** When its state began. */
  since: number
  /** The devices its last online state named, or null if it named none. */
  devices: string[] | null
  /** The devices it published readings for since it last came online. */
  publishedFor: string[]
  software: string | null
  receivedAt: number
}

export interface IngestResult {
  stored: number
  duplicates: number
  /** The newest journal position after this commit. */
  end: number
}

export interface DeviceRecord {
  deviceId: string
  siteId: string
  birth: Birth
  state: DeviceState | null
}

export interface ActionFilter {
  type?: string
  deviceId?: string
  siteId?: string
  status?: Action['status']
  limit: number
  /** Tenant scope (Access): only actions of these sites and devices. */
  scope?: Scope
}

export interface LedgerChange {
  /** Candidates to record, unless an action with the same dedup key exists already. */
  create: ActionCandidate[]
  /** Dedup keys of candidates whose episode is already over: recorded, then resolved at once. */
  resolveAtOnce: ReadonlySet<string>
  /** Ids of unresolved actions whose episode is over. */
  resolve: string[]
  /** A device's tickets that join the person's service request open on it, instead of being made. */
  join?: { into: string; candidate: ActionCandidate }[]
}

export interface Commit {
  /** The journal position processed up to, if readings were processed. */
  position?: number
  states: DeviceState[]
  ledger: LedgerChange
  /** When the changes are made. */
  at: number
  /** Stamp a new action with the instant its rule looked at rather than `at` (event time). */
  createdAtDecision?: boolean
  /** New cartridges seen in the readings processed. */
  installs?: CartridgeInstall[]
}

export interface CartridgeInstall {
  deviceId: string
  siteId: string
  model: string | null
  color: string
  ts: number
}

/** What the spare stock of a site is reckoned from: its last count, and what was shipped and installed since. */
export interface StockHistory {
  count: StockCount | null
  shipped: StockTally[]
  installed: StockTally[]
}

export interface OpenTicket {
  id: string
  deviceId: string
  siteId: string
  rule: string
  subject: string
  episode: string
  ticket: Ticket
}

export interface ReadingRange {
  from: number
  to: number
  limit: number
}

export interface Store {
  start(): Promise<void>
  stop(): Promise<void>
  /** Rejects when the store cannot answer. */
  ping(): Promise<void>

  /** Stores readings (dropping duplicates by device and seq, and by device and ts) and births, durably, in one commit. */
  ingest(
    readings: readonly Reading[],
    births: readonly BirthRecord[],
    receivedAt: number,
    /** Gateways' states, in the same commit. */
    gateways?: readonly GatewayUpdate[],
  ): Promise<IngestResult>
  /** Every gateway heard of, with its last state. */
  gateways(): Promise<GatewayRecord[]>

  /** Readings not yet processed, in arrival order. */
  journalAfter(position: number, limit: number): Promise<JournalEntry[]>
  journalPosition(): Promise<number>
  deviceStates(): Promise<DeviceState[]>
  /** With a scope (Access), a device outside it is null, as an unknown one. */
  device(deviceId: string, scope?: Scope): Promise<DeviceRecord | null>
  /** A device's description from its birth message; `{}` if it sent none. */
  birth(deviceId: string): Promise<Birth>
  devices(scope?: Scope): Promise<DeviceRecord[]>
  readings(deviceId: string, range: ReadingRange): Promise<Reading[]>

  /** The actions not resolved yet of each of these devices (an empty list for a device with none), in one read. */
  unresolvedActions(deviceIds: readonly string[]): Promise<Map<string, LedgerEntry[]>>
  /** The actions about a whole site not resolved yet, of each of these sites, in one read. */
  unresolvedSiteActions(siteIds: readonly string[]): Promise<Map<string, LedgerEntry[]>>
  /** Applies processing results and their outbox messages in one transaction; returns how many messages it wrote. */
  commit(change: Commit): Promise<number>
  actions(filter: ActionFilter): Promise<Action[]>
  /** Service tickets of actions not resolved (of one device, if given), for their SLA clocks. */
  openTickets(deviceId?: string): Promise<OpenTicket[]>
  /**
   * Changes an action's service ticket (and its details.ticket) in one transaction, with its outbox
   * message. Null for an unknown id.
   */
  updateTicket(
    id: string,
    /** The new ticket, and fields of the details to set with it. */
    change: (ticket: Ticket) => { ticket: Ticket; details?: Record<string, unknown> } | { refused: string },
    at: number,
  ): Promise<{ action: Action } | { refused: string } | null>
  /**
   * Records a step of an order's delivery (details.delivery) in one transaction, with its outbox
   * message. Null for an unknown id; refused for an action that is no order, or a step out of order.
   */
  updateDelivery(
    id: string,
    change: (delivery: Delivery) => { delivery: Delivery } | { refused: string },
    at: number,
  ): Promise<{ action: Action } | { refused: string } | null>
  /**
   * Records an action a person asked for (a service call, an order) with its outbox message, in one
   * transaction: null when its cause is known already.
   */
  openAction(candidate: ActionCandidate, at: number): Promise<Action | null>
  /**
   * Cancels an action: resolved, with `details.resolution: "cancelled"`, who and why, and its
   * follow-ups with it, in one transaction with the outbox messages; `refusal` says why it may
   * not be (null: it may). Null for an unknown id.
   */
  cancel(
    id: string,
    refusal: (action: Action) => string | null,
    cancelled: { at: number; by?: string; reason?: string },
  ): Promise<{ action: Action } | { refused: string } | null>
  /** How many actions are not resolved, by type. */
  unresolvedCounts(): Promise<Record<string, number>>
  action(id: string, scope?: Scope): Promise<Action | null>
  /** A person's status change, recorded in `details.history` with who made it. Returns null for an unknown id. */
  transition(
    id: string,
    verb: Transition,
    at: number,
    by?: string,
  ): Promise<{ action: Action; changed: boolean } | { refused: string } | null>

  /** Action messages written with their change, after an outbox position, in order. */
  outboxAfter(position: number, limit: number): Promise<{ id: number; action: Action }[]>
  /** Deletes the outbox messages every sink has sent. */
  pruneOutbox(upToPosition: number): Promise<void>
  /** How many outbox messages there are after a position: what a sink there has still to send. */
  outboxPending(afterPosition: number): Promise<number>

  /** A follower's position (an action sink's in the outbox, the forwarder's in the journal); 0 if new. */
  /** A site's last stock count (the one with the latest time), or null. */
  lastStockCount(siteId: string): Promise<StockCount | null>
  /** A site's last stock count and the reorders and installs after it, by item. */
  stockHistory(siteId: string): Promise<StockHistory>
  /**
   * Records a site's stock count and, in the same transaction, resolves its open
   * `stock-reconciliation` actions whose half-year the count is in or after (with their outbox
   * messages). Returns the actions resolved.
   */
  recordStockCount(siteId: string, count: StockCount, at: number, zone?: string): Promise<Action[]>
  cursor(name: string): Promise<number>
  setCursor(name: string, position: number): Promise<void>
  /** The newest journal position. */
  journalEnd(): Promise<number>
  /**
   * Drops the bodies of readings up to a position, keeping what duplicates are told by: for when
   * another store (InfluxDB) keeps the time series and every follower of the journal is past them.
   */
  compactJournal(upToPosition: number): Promise<void>
}
