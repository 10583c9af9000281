import { describe, expect, it } from 'vitest'
import { MODELS, profileOf } from '../../src/catalogue/catalogue.ts'
import { deviceInfo } from '../../src/rules/facts.ts'

describe('the printer catalogue', () => {
  it('knows a model however the device spells its vendor and model', () => {
    for (const [vendor, model] of [
      ['Kyocera', 'ECOSYS M3145dn'],
      ['KYOCERA Document Solutions Inc.', 'ecosys m3145dn'],
      [undefined, 'Kyocera ECOSYS M3145dn'],
    ] as const) {
      const p = profileOf(vendor, model)
      expect(p?.match, `${vendor} ${model}`).toBe('model')
      expect(p?.model?.model).toBe('ECOSYS M3145dn')
      expect(p?.wasteBoxShipsWithToner).toBe(true)
    }
  })

  it("falls back to the vendor's way for a model it does not list, and knows nothing of another vendor", () => {
    expect(profileOf('Kyocera', 'FS-9999')).toMatchObject({
      match: 'vendor',
      wasteBoxShipsWithToner: true,
      yields: {},
    })
    expect(profileOf('Konica Minolta', 'bizhub 9999')).toMatchObject({
      match: 'vendor',
      wasteBoxShipsWithToner: false,
    })
    expect(profileOf('Acme Printers', 'X1')).toBeUndefined()
    expect(profileOf(undefined, undefined)).toBeUndefined()
  })

  it('gives each model its own waste-box facts where they differ from its vendor’s', () => {
    const taskalfa = MODELS.find((m) => m.model === 'TASKalfa 2554ci')
    expect(taskalfa?.wasteBox).toMatchObject({ shipsWithToner: false, capacity: 40_000 })
    expect(taskalfa?.counters).toEqual({ mono: true, color: true })
  })

  it('lets the inventory override the profile that the birth gives', () => {
    const birth = { vendor: 'Konica Minolta', model: 'bizhub C300i' }
    expect(deviceInfo(birth)).toMatchObject({
      profile: 'model',
      wasteBoxShipsWithToner: false,
      yields: { cyan: 28_000 },
    })
    const overridden = deviceInfo(birth, {
      deviceId: 'D',
      siteId: 'S',
      wasteBoxShipsWithToner: true,
      yields: { cyan: 10_000 },
    })
    expect(overridden).toMatchObject({
      wasteBoxShipsWithToner: true,
      yields: { black: 28_000, cyan: 10_000 },
    })
    // The inventory's model wins over the birth's, and brings its own profile.
    expect(
      deviceInfo(birth, { deviceId: 'D', siteId: 'S', vendor: 'Kyocera', model: 'ECOSYS M3145dn' }),
    ).toMatchObject({
      wasteBoxShipsWithToner: true,
      yields: { black: 12_500 },
    })
  })
})
