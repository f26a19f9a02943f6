export { readJailConfig, isTrue, type JailConfig, type JailSection, type ReadJailOptions } from './jails';
export { importJails, formatReport, formatJailReport, splitActions, type ActionSpec, type FlowNode, type ImportOptions, type ImportResult, type JailReport, type ReportLine } from './flow';
export { readServices, portsOf, type ServiceTable, type PortList } from './services';
export { ConfigFileError, FilterFileError, parseIni, readLayered, layeredFiles, mergeSections, expandReferences, type Sections } from './ini';
