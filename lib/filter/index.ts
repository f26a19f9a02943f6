export { Matcher, MAX_LINE_LENGTH, type FailureMatch, type MatchResult } from './matcher';
export {
  loadFilterFile, loadBuiltinFilter, inlineFilter, builtinFilterNames, filterLabel, parseFilterOptions, splitFilterSpec,
  BUILTIN_FILTER_DIR, type FilterDefinition,
} from './load';
export { FilterFileError } from '../config/ini';
export { RegexError } from './regex';
export { DateDetector } from './date';
export { filterFromSettings, type FilterSettings } from './settings';
