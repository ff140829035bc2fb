// Explicit snapshots (abstract-level's `db.snapshot()`): a token that holds one engine snapshot
// (lib/storage/DESIGN.md, read path) until it is closed. abstract-level closes it when its owner
// database closes and delays the close while a read that uses it is in flight.

import { AbstractSnapshot } from 'abstract-level'
import { invalidArgument } from '../errors'
import type { Engine, Snapshot } from '../storage'

// abstract-level's type declarations omit AbstractSnapshot's constructor (it takes { owner }).
const SnapshotBase = AbstractSnapshot as unknown as new (options: { owner: unknown }) => AbstractSnapshot

export class RingwoodSnapshot extends SnapshotBase {
  readonly engineSnapshot: Snapshot
  /** Set when abstract-level closed this snapshot (the engine snapshot is then released). */
  released = false

  constructor(
    options: { owner: unknown },
    readonly engine: Engine,
  ) {
    super(options)
    // Taken synchronously: a write issued after db.snapshot() returns is not in it.
    this.engineSnapshot = engine.snapshot()
  }

  async _close(): Promise<void> {
    this.released = true
    this.engineSnapshot.release()
  }
}

/** The engine snapshot behind an abstract-level `snapshot` option, checked to belong to `engine`. */
export function engineSnapshotOf(snapshot: unknown, engine: Engine): Snapshot | undefined {
  if (snapshot === undefined || snapshot === null) return undefined
  // The engine recognises a snapshot by its sequence number alone, so a snapshot of another
  // database must be refused here.
  if (!(snapshot instanceof RingwoodSnapshot) || snapshot.engine !== engine) {
    throw invalidArgument('the snapshot belongs to another database')
  }
  if (snapshot.released) {
    // abstract-level's code for a read through a closed snapshot.
    const err: Error & { code?: string } = new Error('the snapshot is closed')
    err.code = 'LEVEL_SNAPSHOT_NOT_OPEN'
    throw err
  }
  return snapshot.engineSnapshot
}
