/**
 * Where @types/node-red (written for Node-RED 1 to 3) says less than Node-RED 4 and 5 do, for what this
 * package uses. Node-RED 5 still serves its admin API with Express 4, hence @types/express 4 beside it.
 */
import 'node-red';

declare module '@node-red/registry' {
  /** RED.nodes.eachNode hands each node's whole definition: every property its editor saved, and its wires. */
  interface NodeDef {
    [property: string]: unknown;
  }
}

declare global {
  namespace Express {
    /** The editor's user on an admin request (Node-RED's adminAuth): who lifted a ban, by hand. */
    interface User {
      username?: string;
      permissions?: string | string[];
    }
  }
}
