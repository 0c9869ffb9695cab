// chdb publishes `chdb/connection` through package.json `exports`, which this workspace's
// `moduleResolution: node` does not read; this points the compiler at the types the package ships.
declare module 'chdb/connection' {
  export * from 'chdb/dist/connection';
}
