// A child process for test/storage/crash.test.ts: opens an engine and writes op i of a known
// history (op i: delete of key i-3 when i % 7 == 3, else put key i), up to 1000 in flight,
// printing "ack i" for each acknowledged op, until it is killed. argv: dir memtableBytes durability
import { Engine } from '../../lib/storage'

export function opOf(i: number): { type: 'put' | 'del'; key: string; value: string } {
  return i % 7 === 3 ? { type: 'del', key: keyOf(i - 3), value: '' } : { type: 'put', key: keyOf(i), value: `value-${i}-${'v'.repeat(i % 200)}` }
}

export function keyOf(i: number): string {
  return `key${String(i).padStart(8, '0')}`
}

async function main(): Promise<void> {
  const [dir, memtableBytes, durability] = process.argv.slice(2) as [string, string, 'sync' | 'none' | 'interval']
  const e = await Engine.open(dir, { memtableBytes: Number(memtableBytes), durability, blockBytes: 1024 })
  let inFlight = 0
  let acked: number[] = []
  const flushAcks = (): void => {
    if (acked.length > 0) process.stdout.write(acked.map((i) => `ack ${i}\n`).join(''))
    acked = []
  }
  setInterval(() => {
    flushAcks()
    const s = e.stats()
    process.stdout.write(`stats flushes=${s.flushes} compactions=${s.compactions} l0=${s.levels[0]!.files}\n`)
  }, 20)
  process.stdout.write('ready\n')
  for (let i = 0; ; i++) {
    while (inFlight >= 1000) await new Promise((r) => setImmediate(r))
    const op = opOf(i)
    inFlight++
    const p = op.type === 'put' ? e.put(op.key, op.value) : e.del(op.key)
    p.then(
      () => {
        inFlight--
        acked.push(i)
      },
      (err) => {
        process.stderr.write(`write ${i} failed: ${String(err)}\n`)
        process.exit(3)
      },
    )
    if (i % 100 === 99) await new Promise((r) => setImmediate(r))
  }
}

if (require.main === module) void main()
