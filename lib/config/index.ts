export { readJailConfig, isTrue, type JailConfig, type JailSection, type ReadJailOptions } from './jails';
export { importJails, formatReport, type ImportOptions, type ImportResult } from './flow';
export { JailRow, formatJailReport, type FlowNode, type JailReport, type ReportLine } from './jail-row';
export { splitActions, type ActionSpec } from './actions';
export { readServices, portsOf, type ServiceTable, type PortList } from './services';
export { ConfigFileError, FilterFileError, parseIni, readLayered, layeredFiles, mergeSections, expandReferences, type Sections } from './ini';
