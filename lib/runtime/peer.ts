// What an endpoint holds for one destination (another thread, or itself): the ring it
// writes, the ring it reads, the peer's doorbell and the queue in front of the ring.

import { DoorbellRemote } from './doorbell'
import { HEADER_BYTES } from './envelope'
import { OverflowQueue } from './overflow_queue'
import { RingReader, RingWriter } from './ring'

export class Peer {
  readonly writer: RingWriter
  readonly reader: RingReader
  readonly bell: DoorbellRemote
  readonly queue = new OverflowQueue()
  /** The largest payload of one record to this peer. */
  readonly fragmentPayloadMax: number
  /** In the endpoint's dirty list (records written, not yet published). */
  dirty = false
  /** In the endpoint's list of peers with queued messages. */
  queued = false

  constructor(
    readonly id: number,
    readonly generation: number,
    outRing: SharedArrayBuffer,
    inRing: SharedArrayBuffer,
    doorbell: SharedArrayBuffer,
  ) {
    this.writer = new RingWriter(outRing)
    this.reader = new RingReader(inRing)
    this.bell = new DoorbellRemote(doorbell)
    this.fragmentPayloadMax = this.writer.recordBytesMax - HEADER_BYTES
  }

  /** The generation as carried in an envelope (16 bits). */
  get generation16(): number {
    return this.generation & 0xffff
  }
}

/** The rings and doorbell that connect an endpoint to one peer, as handed out by the supervisor. */
export interface PeerLink {
  id: number
  generation: number
  /** We write, the peer reads. */
  outRing: SharedArrayBuffer
  /** The peer writes, we read. */
  inRing: SharedArrayBuffer
  /** The peer's doorbell. */
  doorbell: SharedArrayBuffer
}
