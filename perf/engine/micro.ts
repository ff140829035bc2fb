// benchmark.js for the micro figures of the engine benchmark (one operation in a tight loop,
// with adaptive sampling and a margin of error); whole workloads use the plain harness.

// benchmark.js ships no types; this is the part used here.
interface BenchmarkStats { rme: number }
interface BenchmarkInstance { hz: number; stats: BenchmarkStats; error?: unknown; run(options?: { async: boolean }): void }
type BenchmarkCtor = new (name: string, options: { fn: () => void; maxTime: number; minSamples: number }) => BenchmarkInstance
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Benchmark = require('benchmark') as BenchmarkCtor

/** Runs `fn` synchronously for about `maxTimeS` seconds; ops/s and relative margin of error (%). */
export function microBench(name: string, fn: () => void, maxTimeS: number): { hz: number; rme: number } {
  const b = new Benchmark(name, { fn, maxTime: maxTimeS, minSamples: 5 })
  b.run({ async: false })
  if (b.error !== undefined) throw b.error
  return { hz: b.hz, rme: b.stats.rme }
}
