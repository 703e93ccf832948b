// DuckDB peer of the engine benchmark (bench/engine.sh): runs one SQL query with @duckdb/node-api and prints the
// row count, the first rows and the query time. bench/engine.sh copies this file next to its npm install
// (build/bench-peers), where the package resolves.
//
//   node duckdb_query.mjs THREADS SQL...
import { DuckDBInstance } from '@duckdb/node-api';

const [threads, ...sql] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const connection = await instance.connect();
const t0 = performance.now();
const reader = await connection.runAndReadAll(sql.join(' '));
const seconds = (performance.now() - t0) / 1000;
const rows = reader.getRows();
const first = JSON.stringify(rows.slice(0, 2), (_, v) => (typeof v === 'bigint' ? Number(v) : v));
console.log(`rows=${rows.length} first=${first.slice(0, 200)} query_s=${seconds.toFixed(3)}`);
