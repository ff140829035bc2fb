// ringwood/level: the storage engine as an abstract-level 3 database (README, "abstract-level").
// Code outside lib/level imports only from here.
export {
  RingwoodLevel,
  type RingwoodBatchOptions,
  type RingwoodDelOptions,
  type RingwoodEngineOptions,
  type RingwoodLevelOptions,
  type RingwoodPutOptions,
  type RingwoodWriteOptions,
} from './ringwood_level'
export { RingwoodSnapshot } from './ringwood_snapshot'
