export { Follower, type FollowerOptions } from './follower';
export { FileTail, type TailHost } from './file-tail';
export { expandPath, hasWildcard, matchesGlob } from './glob';
export { JournalFollower, JournalLines, journalLine, journalTime, type JournalOptions } from './journal';
export { LineSplitter, MAX_LINE } from './lines';
export { PositionStore, type FilePosition } from './positions';
