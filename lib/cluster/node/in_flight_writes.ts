// Objects on their way to a node's engine, by key (a latin1 string of the engine key), oldest
// first: what a read of the key must answer until the engine has them (the newest), even while
// the engine holds writes back (a write stall). A write that fails while an earlier one of the
// key is still on its way leaves that earlier one to be read. VnodeStore and HintStore build
// each write on what the previous one left, so reading an older base would reuse a dot or drop
// a merged hint. Relies on the engine settling the puts of one key in the order they were
// made (it applies and acknowledges them in order): a later write that succeeded before an
// earlier one settled would leave the earlier, older object to be read.

import { assert } from '../../assert'

export class InFlightWrites {
  private readonly byKey = new Map<string, Buffer[]>()

  /** Keys with a write on its way. */
  get size(): number {
    return this.byKey.size
  }

  has(key: string): boolean {
    return this.byKey.has(key)
  }

  /** The newest object on its way for `key`, or undefined. */
  newest(key: string): Buffer | undefined {
    const list = this.byKey.get(key)
    return list === undefined ? undefined : list[list.length - 1]
  }

  /** `object` is on its way (each call its own Buffer: settle() finds it by identity). */
  add(key: string, object: Buffer): void {
    const list = this.byKey.get(key)
    if (list === undefined) this.byKey.set(key, [object])
    else list.push(object)
  }

  /** `object`, added for `key`, reached the engine or was refused. */
  settle(key: string, object: Buffer): void {
    const list = this.byKey.get(key)
    const at = list === undefined ? -1 : list.indexOf(object)
    assert(at >= 0, 'settle() of an object that is not on its way')
    if (list!.length === 1) this.byKey.delete(key)
    else list!.splice(at, 1)
  }
}
