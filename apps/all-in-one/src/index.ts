// The all-in-one composition, for the benchmarks that measure exactly what `npm start` runs.
export { AllInOne, type AllInOneOptions } from './lib/all-in-one';
export { testConfig, feedBatches, readEdgesOverGrpc } from './testing/run-all-in-one';
