// Named limits of the abstract-level adapter (lib/level). They bound how much one call reads or
// writes on the engine's thread before it returns or yields. They live here, beside the only code
// that uses them, and are checked against the engine's limits in lib/constants.ts when this loads.

import { assert } from '../assert'
import * as C from '../constants'

/** At most this many entries per iterator `nextv()` / per `all()` chunk (abstract-level's own default is 1000). */
export const iteratorChunkEntriesMax = 1000
/** A `nextv()` / `all()` chunk stops once its keys and values pass this many bytes. */
export const iteratorChunkBytesMax = 4 * 1024 * 1024
/** `clear()` deletes in engine batches of at most this many keys... */
export const clearBatchKeysMax = 10_000
/** ...and of at most this many key bytes. */
export const clearBatchBytesMax = 4 * 1024 * 1024

assert(iteratorChunkEntriesMax >= 1 && iteratorChunkBytesMax >= 1, 'an iterator chunk holds at least one entry')
assert(clearBatchKeysMax <= C.batchOpsMax, 'a clear() batch fits an engine batch (operations)')
assert(clearBatchBytesMax + C.keyBytesMax <= C.batchBytesMax, 'a clear() batch fits an engine batch (bytes), one key past the cap included')
