/**
 * What a person asks for from a device's page: a service call, an order of toner or a waste box;
 * and cancelling an order not yet shipped or a call not yet worked on, where actions are listed.
 * The service decides; the forms show its answer, or its reason for refusing.
 */
import { useState } from 'preact/hooks'
import { type Action, api } from './api.ts'

/** Orders not yet shipped and calls not yet worked on: what the service lets a person cancel. */
export function cancellable(a: Action): boolean {
  if (a.status === 'resolved') return false
  const delivery = a.details.delivery as { step?: string } | undefined
  if (delivery?.step) return delivery.step === 'ordered'
  const ticket = a.details.ticket as { events?: unknown[] } | undefined
  return a.type === 'service-request' && (ticket?.events?.length ?? 0) === 0
}

export function CancelButton({
  action,
  onChange,
  onError,
}: {
  action: Action
  onChange: (a: Action) => void
  onError: (message: string) => void
}) {
  if (!cancellable(action)) return null
  const cancel = async () => {
    const reason = prompt('Why is it cancelled? (optional)') ?? ''
    try {
      onChange(
        await api<Action>(
          'POST',
          `/actions/${encodeURIComponent(action.id)}/cancel`,
          reason.trim() ? { reason: reason.trim() } : {},
        ),
      )
    } catch (err) {
      onError((err as Error).message)
    }
  }
  return (
    <button type="button" class="cancel" onClick={cancel}>
      Cancel
    </button>
  )
}

/** The forms of a device's page; `colors` are the toners it reports (any colour when it reports none). */
export function RequestForms({
  deviceId,
  colors,
  onAction,
}: {
  deviceId: string
  colors: string[]
  onAction: (a: Action) => void
}) {
  const [message, setMessage] = useState('')
  const [error, setError] = useState('')
  const [item, setItem] = useState<'toner' | 'waste-box'>('toner')
  const id = encodeURIComponent(deviceId)
  const submit =
    (path: string, body: (f: FormData) => unknown, done: (a: Action) => string) => async (e: Event) => {
      e.preventDefault()
      setError('')
      setMessage('')
      const form = e.target as HTMLFormElement
      try {
        const action = await api<Action>('POST', path, body(new FormData(form)))
        onAction(action)
        setMessage(done(action))
        form.reset()
      } catch (err) {
        setError((err as Error).message)
      }
    }
  const text = (f: FormData, name: string) => String(f.get(name) ?? '')
  return (
    <div class="cards requests">
      <form
        class="card"
        id="service-call"
        onSubmit={submit(
          `/devices/${id}/service-requests`,
          (f) => ({ description: text(f, 'description'), stopped: f.get('stopped') === 'on' }),
          (a) =>
            a.type === 'service-request'
              ? `Service call registered (${a.id}).`
              : `Added to the ticket already open (${a.type} ${a.id}).`,
        )}
      >
        <strong>Open a service call</strong>
        <label>
          What is wrong
          <textarea name="description" required maxLength={2000} rows={3} />
        </label>
        <label class="inline">
          <input type="checkbox" name="stopped" /> The device prints nothing
        </label>
        <button type="submit">Open the call</button>
      </form>
      <form
        class="card"
        id="order"
        onSubmit={submit(
          `/devices/${id}/orders`,
          (f) => ({
            item,
            ...(item === 'toner' ? { color: text(f, 'color') } : {}),
            quantity: Number(text(f, 'quantity')),
            reason: text(f, 'reason'),
            extra: f.get('extra') === 'on',
          }),
          (a) =>
            `Ordered (${a.id}), expected ${new Date(String(a.details.expectedDelivery)).toLocaleDateString()}.`,
        )}
      >
        <strong>Order supplies</strong>
        <label>
          Item
          <select
            name="item"
            value={item}
            onChange={(e) => setItem((e.target as HTMLSelectElement).value as typeof item)}
          >
            <option value="toner">toner</option>
            <option value="waste-box">waste toner box</option>
          </select>
        </label>
        {item === 'toner' &&
          (colors.length > 0 ? (
            <label>
              Colour
              <select name="color">
                {colors.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <label>
              Colour
              <input name="color" required pattern="[a-z][a-zA-Z0-9]{0,31}" />
            </label>
          ))}
        <label>
          Quantity
          <input name="quantity" type="number" min={1} max={50} value={1} required />
        </label>
        <label>
          Reason
          <input name="reason" required maxLength={500} />
        </label>
        <label class="inline">
          <input type="checkbox" name="extra" /> Extra, for the shelf
        </label>
        <button type="submit">Order</button>
      </form>
      {message && <p class="notice">{message}</p>}
      {error && <p class="error">{error}</p>}
    </div>
  )
}
