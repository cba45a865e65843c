import type Database from 'better-sqlite3';

/** Rows per multi-row INSERT: 32 rows of 14 values stay far below SQLite's 32,766 bound variables. */
const ROWS = 32;

/**
 * Inserts rows given as one flat array of values, `ROWS` rows per statement run: a plan store adds a
 * row per walked file and per planned action, and one `run` per row (a call into the addon, a bind,
 * a step and a reset each) was most of the time those inserts took.
 */
export class BulkInsert {
  private readonly one: Database.Statement;
  private readonly many: Database.Statement;

  /** `head`: `INSERT INTO t (a, b, …)`, with `width` columns. */
  constructor(
    db: Database.Database,
    head: string,
    private readonly width: number,
  ) {
    const row = `(${new Array<string>(width).fill('?').join(', ')})`;
    this.one = db.prepare(`${head} VALUES ${row}`);
    this.many = db.prepare(`${head} VALUES ${new Array<string>(ROWS).fill(row).join(', ')}`);
  }

  /** Inserts `values.length / width` rows, in order (the caller holds the transaction). */
  run(values: readonly unknown[]): void {
    const { width } = this;
    const chunk = ROWS * width;
    let i = 0;
    for (; i + chunk <= values.length; i += chunk) this.many.run(values.slice(i, i + chunk));
    for (; i < values.length; i += width) this.one.run(values.slice(i, i + width));
  }
}
