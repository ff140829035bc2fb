// A client's causal context on its way to the coordinating replica (§4.4 bytes). The
// request check decoded it (to refuse a malformed one before anything is sent); the wire
// carries the canonical encoding again.

import { encodeContext, type Context } from '../cluster'

export function encodeContextForWire(key: Buffer, ctx: Context): Buffer {
  return encodeContext(key, ctx)
}
