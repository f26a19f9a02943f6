/** crowdsec-lapi: where CrowdSec's Local API is, the bouncer key and the watcher login (in the credential store). */
import { checkLapiUrl } from '../../lib/crowdsec';
import { errorText, type CrowdsecLapiNode, type NodeAPI, type NodeDef } from '../node-red';

export = function register(RED: NodeAPI): void {
  function CrowdsecLapiNodeCtor(this: CrowdsecLapiNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    this.url = null;
    this.problem = null;
    try {
      this.url = checkLapiUrl(def.url);
    } catch (err) {
      this.problem = errorText(err);
    }
  }
  RED.nodes.registerType<CrowdsecLapiNode, NodeDef, Record<string, never>, { apiKey?: string; machineId?: string; password?: string }>('crowdsec-lapi', CrowdsecLapiNodeCtor, {
    credentials: { apiKey: { type: 'password' }, machineId: { type: 'text' }, password: { type: 'password' } },
  });
};
