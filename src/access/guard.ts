/**
 * Limits enforced on the raw byte stream, before aedes and mqtt-packet buffer anything: a packet
 * whose announced remaining length (MQTT 3.1.1 2.2.3, a variable-length integer of up to 4 bytes)
 * is over the limit closes the connection at its fixed header, before its body is read.
 */
import type { Duplex } from 'node:stream'

/**
 * The remaining length past which a connection is closed at the packet's header. A packet a little
 * over --max-payload is still read and rejected as `too-large` with the connection kept, as
 * CONTRACT.md's Bad input promises (the messages after it are not disturbed); one announcing far more
 * (four times the limit, or the limit and 1 MiB) is an attack, closed before its body is read.
 */
export function hardPacketLimit(maxPayloadBytes: number): number {
  return maxPayloadBytes + Math.max(3 * maxPayloadBytes, 1024 * 1024)
}

export type PacketScan = 'ok' | { tooLarge: number }

/**
 * Follows packet boundaries across chunks: a header byte, the remaining length, then that many
 * bytes skipped. Pure state, no buffering.
 */
export class PacketScanner {
  private state: 'header' | 'length' | 'body' = 'header'
  private length = 0
  private multiplier = 1
  private lengthBytes = 0
  private left = 0

  constructor(private readonly maxRemaining: number) {}

  scan(chunk: Uint8Array): PacketScan {
    let i = 0
    while (i < chunk.length) {
      if (this.state === 'body') {
        const step = Math.min(this.left, chunk.length - i)
        this.left -= step
        i += step
        if (this.left === 0) this.state = 'header'
        continue
      }
      const byte = chunk[i++] as number
      if (this.state === 'header') {
        this.state = 'length'
        this.length = 0
        this.multiplier = 1
        this.lengthBytes = 0
        continue
      }
      this.length += (byte & 0x7f) * this.multiplier
      this.multiplier *= 128
      this.lengthBytes++
      if (this.length > this.maxRemaining) return { tooLarge: this.length }
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return { tooLarge: Number.POSITIVE_INFINITY } // malformed
        continue
      }
      this.left = this.length
      this.state = this.left === 0 ? 'header' : 'body'
    }
    return 'ok'
  }
}

/**
 * Watches what aedes reads from a connection (it reads with `read()` on 'readable'): each chunk is
 * scanned before mqtt-packet sees it, and a packet announcing more than the limit destroys the
 * connection there, before its body is read or buffered. The connection stays the real socket (its
 * address and TLS certificate are the access hooks'), and its flow control is untouched.
 */
export function guardReads(
  stream: Duplex,
  maxRemaining: number,
  onTooLarge: (announced: number) => void,
): void {
  const scanner = new PacketScanner(maxRemaining)
  const read = stream.read.bind(stream)
  stream.read = (size?: number) => {
    const chunk = read(size) as Buffer | string | null
    if (chunk === null || typeof chunk === 'string') return chunk
    const scan = scanner.scan(chunk)
    if (scan === 'ok') return chunk
    onTooLarge(scan.tooLarge)
    stream.destroy()
    return null
  }
}
