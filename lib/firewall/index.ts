/** Picks a backend by name. */
import { FirewallError, parsePorts, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';
import { DryRunBackend } from './dry-run';
import { NftablesBackend } from './nftables';

export { FirewallError, parsePorts, DryRunBackend, NftablesBackend, type BackendOptions, type BanRequest, type FirewallBackend };
export { elementsOf } from './nftables';

/** Every backend name of SPEC.md; the ones not built yet say so. */
export const BACKENDS = ['nftables', 'iptables-ipset', 'iptables', 'ufw', 'firewalld', 'shorewall', 'route', 'hostsdeny', 'fail2ban-action', 'command', 'dry-run'] as const;

export function createBackend(name: string, options: BackendOptions): FirewallBackend {
  switch (name) {
    case 'dry-run':
      return new DryRunBackend();
    case 'nftables':
      return new NftablesBackend(options);
    default:
      if ((BACKENDS as readonly string[]).includes(name)) {
        throw new FirewallError(`backend "${name}" is not available in this version yet: choose nftables or dry-run`);
      }
      throw new FirewallError(`unknown backend "${name}": choose one of ${BACKENDS.join(', ')}`);
  }
}
export { BanManager, InvalidAddressError, type BanInput, type ManagerOptions } from './manager';
