/**
 * Limits enforced on the raw byte stream, before aedes and mqtt-packet buffer anything: a packet
 * whose announced remaining length (MQTT 3.1.1 2.2.3, a variable-length integer of up to 4 bytes)
 * is over the limit closes the connection at its fixed header, before its body is read.
 */
import { Duplex } from 'node:stream'

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
 * A connection as aedes sees it: the bytes of `inner`, checked by a PacketScanner on the way in.
 * `socket` keeps the real socket (its address, its TLS certificate) for the access hooks.
 */
export class GuardedConnection extends Duplex {
  readonly socket: Duplex
  private readonly scanner: PacketScanner

  constructor(inner: Duplex, maxRemaining: number, onTooLarge: (announced: number) => void) {
    super()
    this.socket = inner
    this.scanner = new PacketScanner(maxRemaining)
    inner.on('data', (chunk: Buffer) => {
      const scan = this.scanner.scan(chunk)
      if (scan !== 'ok') {
        onTooLarge(scan.tooLarge)
        inner.destroy()
        this.destroy()
        return
      }
      if (!this.push(chunk)) inner.pause()
    })
    inner.on('end', () => this.push(null))
    inner.on('error', (err) => this.destroy(err))
    inner.on('close', () => this.destroy())
  }

  override _read(): void {
    this.socket.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.socket.write(chunk)) callback()
    else this.socket.once('drain', () => callback())
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.socket.end(callback)
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.socket.destroy()
    callback(err)
  }
}
