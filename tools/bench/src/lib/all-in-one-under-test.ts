/**
 * The all-in-one composition the benches measure. They drive the app's own `AllInOne` (its stages,
 * bus, store and gRPC gateway exactly as `npm start` runs them) rather than a copy of its wiring,
 * so a figure can never come from a composition the product does not ship.
 */
export { AllInOne, testConfig, type AllInOneOptions } from '@topology/all-in-one';
