import { foldSketchesSql, decodeSketchesSql } from './src/sketch-sql.js';
const key = ['merchant_id', 'bucket'];
const d = decodeSketchesSql({ key, source: 'bench_stored', column: 'sketch' });
if (process.argv[2] === 'merge') console.log(foldSketchesSql({ key, hashes: `(${d.hashes} union all select merchant_id, bucket, hash from bench_new)`, registers: `(${d.registers})` }));
else if (process.argv[2] === 'hashes') console.log(d.hashes);
else if (process.argv[2] === 'registers') console.log(d.registers);
else console.log(foldSketchesSql({ key, hashes: 'bench_hashes' }));
