// lib/db: the embedded cluster's public API, open() and the Database (README "Cluster API").
// Code outside this folder imports only this file.

export { open } from './open'
export { Database, type GetResult, type WriteResult, type SetOptions, type GetOptions, type DeleteOptions, type SetEntry, type Bytes } from './database'
export { Admin, type NodeInfoView, type HintsView, type ClusterStats } from './admin'
export type { OpenOptions, HintOptions, Coordination } from './open_options'
