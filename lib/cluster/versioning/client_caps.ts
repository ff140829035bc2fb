// Caps on the client write path (PROTOCOL.md §4.6): sibling count and encoded object size.
// Repair, replication and hint replay never call this: refusing them could lose
// acknowledged writes.

import { KvError } from '../../errors'
import { objectBytesMax, siblingsMax } from '../../constants'
import type { DvvObject } from './dvv_object'
import { encodedObjectLength } from './object_codec'

export function checkClientCaps(obj: DvvObject, maxSiblings = siblingsMax, maxBytes = objectBytesMax): void {
  if (obj.siblings.length > maxSiblings) {
    throw new KvError('KV_TOO_MANY_SIBLINGS', `a write would leave ${obj.siblings.length} siblings (limit ${maxSiblings}); write with a context to resolve them`, {
      siblings: obj.siblings.length,
      limit: maxSiblings,
    })
  }
  const bytes = encodedObjectLength(obj)
  if (bytes > maxBytes) {
    throw new KvError('KV_TOO_MANY_SIBLINGS', `a write would make the object ${bytes} bytes (limit ${maxBytes}); write with a context to resolve its siblings`, {
      siblings: obj.siblings.length,
      bytes,
      limit: maxBytes,
    })
  }
}
