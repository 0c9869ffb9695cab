/**
 * The all-in-one composition the benches measure. They drive the app's own `AllInOne` (its stages,
 * bus, store and gRPC gateway exactly as `npm start` runs them) rather than a copy of its wiring,
 * so a figure can never come from a composition the product does not ship. The app is not a
 * library, hence the two exemptions below.
 */
// eslint-disable-next-line @nx/enforce-module-boundaries
export { AllInOne, type AllInOneOptions } from '../../../../apps/all-in-one/src/lib/all-in-one';
// eslint-disable-next-line @nx/enforce-module-boundaries
export { testConfig } from '../../../../apps/all-in-one/src/testing/run-all-in-one';
