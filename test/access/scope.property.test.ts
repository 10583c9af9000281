/**
 * For random fleets, accounts and filters, no list or lookup of the store or the inventory, read
 * through an account's scope, returns another customer's device, reading, action or report.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { AccountView } from '../../src/access/accounts.ts'
import { inScope, scopeOf } from '../../src/access/permissions.ts'
import type { Inventory } from '../../src/contract/schemas.ts'
import { InventoryBook } from '../../src/inventory/inventory.ts'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { tempDir } from '../helpers/service-process.ts'

const SITES = ['s0', 's1', 's2', 's3', 's4']
const CUSTOMERS = ['c0', 'c1', 'c2']
const DEVICES = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7']
const GROUPS = ['g0', 'g1']
const T0 = Date.UTC(2026, 10, 1)

const world = fc.record({
  customerOf: fc.tuple(...SITES.map(() => fc.constantFrom(...CUSTOMERS))),
  siteOf: fc.tuple(...DEVICES.map(() => fc.constantFrom(...SITES))),
  groups: fc.tuple(
    ...GROUPS.map(() =>
      fc.record({ customer: fc.constantFrom(...CUSTOMERS), devices: fc.subarray(DEVICES) }),
    ),
  ),
  actions: fc.array(
    fc.record({
      device: fc.option(fc.constantFrom(...DEVICES), { nil: undefined }),
      site: fc.constantFrom(...SITES),
    }),
    { maxLength: 12 },
  ),
  account: fc.record({
    role: fc.constantFrom('customer-admin' as const, 'customer-user' as const),
    customer: fc.constantFrom(...CUSTOMERS),
    // Assignments may name anything, another customer's devices included: the scope must not follow them.
    devices: fc.subarray(DEVICES),
    groups: fc.subarray(GROUPS),
  }),
  filter: fc.record({
    siteId: fc.option(fc.constantFrom(...SITES), { nil: undefined }),
    deviceId: fc.option(fc.constantFrom(...DEVICES), { nil: undefined }),
  }),
})

describe('tenant scope', () => {
  it("never returns another customer's device, reading, action or report, for random accounts, sites and filters", async () => {
    await fc.assert(
      fc.asyncProperty(world, async (w) => {
        const dir = tempDir()
        const store = new SqliteStore(dir.path)
        try {
          const customer = (site: string) => w.customerOf[SITES.indexOf(site)] as string
          const siteOfDevice = (d: string) => w.siteOf[DEVICES.indexOf(d)] as string
          const inventory: Inventory = {
            sites: SITES.map((siteId, i) => ({
              siteId,
              customer: w.customerOf[i] as string,
              contact: 'x@example.com',
            })),
            devices: DEVICES.map((deviceId) => ({ deviceId, siteId: siteOfDevice(deviceId) })),
            customers: [],
            groups: w.groups.map(({ customer, devices }, i) => ({
              groupId: GROUPS[i] as string,
              name: GROUPS[i] as string,
              customerId: customer,
              devices,
            })),
          }
          writeFileSync(join(dir.path, 'inventory.json'), JSON.stringify(inventory))
          const book = new InventoryBook(dir.path)
          await book.load()
          await store.start()
          await store.ingest(
            DEVICES.map((deviceId, i) => ({
              deviceId,
              siteId: siteOfDevice(deviceId),
              ts: T0 + i,
              counters: { total: i },
            })),
            DEVICES.map((deviceId) => ({ deviceId, siteId: siteOfDevice(deviceId), birth: {} })),
            T0,
          )
          await store.commit({
            states: [],
            at: T0,
            ledger: {
              create: w.actions.map((a, i) => {
                const site = a.device ? siteOfDevice(a.device) : a.site
                return {
                  rule: 'r',
                  type: 'reorder',
                  deviceId: a.device ?? '',
                  siteId: site,
                  subject: `s${i}`,
                  episode: '1',
                  details: {},
                  at: T0,
                }
              }),
              resolveAtOnce: new Set(),
              resolve: [],
            },
          })
          const account: AccountView = {
            name: 'someone',
            sites: [],
            grants: [],
            createdAt: '',
            rotatedAt: '',
            ...w.account,
          }
          const scope = scopeOf(account, {
            sitesOfCustomer: (c) => book.sitesOfCustomer(c),
            devicesOfGroups: (c, g) => book.devicesOfGroups(c, g),
            siteOf: (d) => book.device(d)?.siteId,
          })
          const own = (site: string) => customer(site) === w.account.customer
          const assigned = new Set([
            ...account.devices,
            ...book.devicesOfGroups(w.account.customer, account.groups),
          ])
          const mine = (site: string, device: string) =>
            own(site) && (account.role === 'customer-admin' || device === '' || assigned.has(device))

          const actions = await store.actions({ ...w.filter, limit: 1000, scope })
          for (const a of actions) expect(mine(a.siteId, a.deviceId ?? '')).toBe(true)
          for (const a of await store.actions({ limit: 1000 }))
            expect((await store.action(a.id, scope)) !== null).toBe(
              mine(a.siteId, a.deviceId ?? '') && inScope(scope, a.siteId, a.deviceId),
            )
          for (const d of await store.devices(scope)) expect(mine(d.siteId, d.deviceId)).toBe(true)
          for (const d of book.devicesInScope(scope)) expect(mine(d.siteId, d.deviceId)).toBe(true)
          for (const deviceId of DEVICES) {
            // A device's readings and its billing report are reached through this lookup only.
            const found = await store.device(deviceId, scope)
            expect(found === null || mine(found.siteId, deviceId)).toBe(true)
            expect(found !== null).toBe(mine(siteOfDevice(deviceId), deviceId))
          }
          // A site's stock report is reached through the scoped site lookup.
          for (const site of SITES)
            expect(book.siteInScope(site, scope) === undefined || own(site)).toBe(true)
          for (const site of book.sitesInScope(scope)) expect(own(site.siteId)).toBe(true)
        } finally {
          await store.stop()
          dir.remove()
        }
      }),
      { numRuns: 40 },
    )
  })
})
