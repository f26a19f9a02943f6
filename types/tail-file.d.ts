declare module 'tail-file' {
  import { EventEmitter } from 'events';
  interface TailOptions {
    startPos?: 'start' | 'end' | number;
    force?: boolean;
    encoding?: string;
    cutoff?: number;
    secondary?: string;
    sep?: string | RegExp;
  }
  class Tail extends EventEmitter {
    constructor(filename: string, options?: TailOptions, cb?: (line: string) => void);
    filename: string;
    start(): void;
    stop(): Promise<void>;
  }
  export = Tail;
}
