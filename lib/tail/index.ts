export { Follower, type FollowerOptions } from './follower';
export { expandPath, hasWildcard } from './glob';
export { JournalFollower, type JournalOptions } from './journal';
