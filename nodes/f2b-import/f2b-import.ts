/**
 * The editor's "Import fail2ban jails" (a Node-RED plugin): the runtime machine's /etc/fail2ban, or a pasted
 * jail.local laid over it, turned into a flow and its report for the editor to preview, by lib/config.
 */
import { formatReport, importJails } from '../../lib/config';
import { errorText, type NodeAPI } from '../node-red';

/** Where the runtime's fail2ban configuration is, unless a request names another directory. */
const DEFAULT_CONFIG_DIR = '/etc/fail2ban';

export = function register(RED: NodeAPI): void {
  RED.plugins?.registerPlugin('f2b-import', { type: 'f2b-import' });

  // Only for users who may change the flows: the answer is a flow to add, and it reads files of the runtime machine.
  RED.httpAdmin.post('/f2b-import/preview', RED.auth.needsPermission('flows.write'), (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
    try {
      const dir = text(body.dir) ?? DEFAULT_CONFIG_DIR;
      const jailLocal = body.source === 'paste' ? String(body.jailLocal ?? '') : undefined;
      if (jailLocal !== undefined && jailLocal.trim() === '') throw new Error('the pasted jail.local is empty: paste the text of your jail.local');
      const result = importJails(dir, { jailLocal, backend: text(body.backend) });
      res.json({ flow: result.flow, report: formatReport(result), jails: result.jails.map((j) => j.jail), notCarried: result.jails.reduce((n, j) => n + j.notCarried.length, 0) });
    } catch (err) {
      res.status(400).json({ error: errorText(err) });
    }
  });
};
