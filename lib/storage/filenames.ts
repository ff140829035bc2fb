// The one module that names every file in a data directory (FORMAT.md, the file table).
// Numbers share one counter (the manifest's nextFileNumber) and are zero-padded to 6 digits.

import path from 'node:path'

export type FileKind = 'log' | 'table' | 'manifest' | 'current' | 'lock' | 'temp'

export interface ParsedName {
  kind: FileKind
  number: number
}

const pad = (n: number): string => String(n).padStart(6, '0')

export const logFileName = (dir: string, n: number): string => path.join(dir, `${pad(n)}.log`)
export const tableFileName = (dir: string, n: number): string => path.join(dir, `${pad(n)}.sst`)
export const manifestFileName = (dir: string, n: number): string => path.join(dir, `MANIFEST-${pad(n)}`)
export const currentFileName = (dir: string): string => path.join(dir, 'CURRENT')
export const lockFileName = (dir: string): string => path.join(dir, 'LOCK')

/** Parses a directory entry's name; undefined for files that are not the engine's. */
export function parseFileName(name: string): ParsedName | undefined {
  let m: RegExpExecArray | null
  if (name === 'CURRENT') return { kind: 'current', number: 0 }
  if (name === 'LOCK') return { kind: 'lock', number: 0 }
  if (name.endsWith('.tmp')) return { kind: 'temp', number: 0 }
  if ((m = /^(\d{6,})\.log$/.exec(name))) return { kind: 'log', number: Number(m[1]) }
  if ((m = /^(\d{6,})\.sst$/.exec(name))) return { kind: 'table', number: Number(m[1]) }
  if ((m = /^MANIFEST-(\d{6,})$/.exec(name))) return { kind: 'manifest', number: Number(m[1]) }
  return undefined
}
