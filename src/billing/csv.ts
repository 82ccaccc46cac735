// RFC 4180 CSV: parsing uploads (quoted fields, doubled quotes, CRLF or LF, BOM) and writing exports.
// Exports guard against formula injection: a cell starting with = + - @ is prefixed with a quote
// when it is text, so a spreadsheet never evaluates customer-supplied names.

export interface CsvRow {
  /** 1-based line number of the row in the file (header is line 1) */
  line: number;
  cells: string[];
  raw: string;
}

export function parseCsv(text: string): CsvRow[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let rowStart = 0;
  let i = 0;
  const endRow = (end: number) => {
    cells.push(cell);
    const raw = src.slice(rowStart, end);
    if (!(cells.length === 1 && cells[0] === '')) rows.push({ line: rowLine, cells, raw });
    cells = [];
    cell = '';
  };
  while (i < src.length) {
    const c = src[i];
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (c === '\n') line++;
      cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      endRow(i);
      if (c === '\r' && src[i + 1] === '\n') i++;
      i++;
      line++;
      rowLine = line;
      rowStart = i;
    } else {
      cell += c;
      i++;
    }
  }
  if (cell !== '' || cells.length) endRow(src.length);
  return rows;
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(cellText).join(',')).join('\r\n') + '\r\n';
}
