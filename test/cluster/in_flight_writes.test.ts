// Objects on their way to a node's engine (lib/cluster/node/in_flight_writes.ts): a read
// answers the newest until the engine has it, when writes fail out of order too.

import t from 'tap'
import { InFlightWrites } from '../../lib/cluster/node/in_flight_writes'

t.test('the newest object on its way is read, also after a later write failed first', async (tt) => {
  const w = new InFlightWrites()
  const [a, b, c] = [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]
  tt.equal(w.newest('k'), undefined)
  w.add('k', a)
  w.add('k', b)
  w.add('other', c)
  tt.equal(w.size, 2)
  tt.equal(w.newest('k'), b)
  w.settle('k', b) // the later write failed first
  tt.equal(w.newest('k'), a, 'the earlier write, still on its way, is read again')
  w.add('k', c)
  w.settle('k', a) // the earlier one reached the engine
  tt.equal(w.newest('k'), c)
  w.settle('k', c)
  tt.equal(w.has('k'), false, 'a key leaves once nothing of it is on its way')
  tt.equal(w.size, 1)
  tt.ok(w.has('other'))
})
