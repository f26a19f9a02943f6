/** When addresses enter an nftables set, for the latency benchmarks: `nft -j monitor new elements` read. */

/**
 * The elements one line of `nft -j monitor new elements` adds to a set of `table` whose name `set`
 * accepts (nft reports an element as "add" or "create", after the command that put it there).
 */
export function addedElements(line: string, table: string, set: (name: string) => boolean): string[] {
  type Added = { element?: { table: string; name: string; elem?: { set?: Array<{ elem?: { val: unknown } } | string> } } };
  let doc: { add?: Added; create?: Added };
  try {
    doc = JSON.parse(line);
  } catch {
    return [];
  }
  const el = (doc.add ?? doc.create)?.element;
  if (!el || el.table !== table || !set(el.name)) return [];
  const out: string[] = [];
  for (const e of el.elem?.set ?? []) {
    const val = typeof e === 'string' ? e : e.elem?.val;
    if (typeof val === 'string') out.push(val);
  }
  return out;
}

/** The time each address first arrived, and waiting for one to arrive. */
export class Arrivals {
  private readonly seen = new Map<string, number>();
  private readonly waiting = new Map<string, (at: number) => void>();

  constructor(private readonly missMs: number) {}

  get count(): number {
    return this.seen.size;
  }

  /** Records `ip` arriving at `at`: 'again' when it had before, 'awaited' when when() waited for it, else 'unasked'. */
  arrived(ip: string, at: number): 'again' | 'awaited' | 'unasked' {
    if (this.seen.has(ip)) return 'again';
    this.seen.set(ip, at);
    const w = this.waiting.get(ip);
    if (!w) return 'unasked';
    this.waiting.delete(ip);
    w(at);
    return 'awaited';
  }

  /** Resolves with the time `ip` arrived, or null after missMs. */
  when(ip: string): Promise<number | null> {
    const t = this.seen.get(ip);
    if (t !== undefined) return Promise.resolve(t);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(ip);
        resolve(null);
      }, this.missMs);
      this.waiting.set(ip, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  }
}
