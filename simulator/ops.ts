/** What the simulation asks of its gateways, in order: connect, drop the connection, publish. */

export type Op =
  | { op: 'connect'; gateway: number }
  /** The connection drops without a DISCONNECT: the broker publishes the gateway's last will. */
  | { op: 'disconnect'; gateway: number }
  | {
      op: 'publish'
      gateway: number
      topic: string
      payload: string
      retain: boolean
      kind: 'birth' | 'reading' | 'replay'
      readings: number
      deviceId: string
      /** Reading times (ms) in this message that should cause an action: their send time is kept. */
      watch: number[]
    }

export type PublishOp = Extract<Op, { op: 'publish' }>
