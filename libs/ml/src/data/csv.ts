import { CsvError, parse } from 'csv-parse/sync';
import { InvalidCsvError } from './errors/invalid-csv-error.ts';
import { normaliseCell } from './values.ts';

/** A CSV file as a header and rows of normalised cells (trimmed; missing spellings → null). */
export interface ParsedCsv {
  columns: string[];
  rows: (string | null)[][];
}

function decode(uri: string, bytes: Uint8Array): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new InvalidCsvError(uri, 'the file is UTF-16 text; save it as UTF-8');
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new InvalidCsvError(uri, `binary data (a NUL byte at offset ${nul}), not CSV text`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidCsvError(uri, 'the file is not UTF-8 text; save it as UTF-8');
  }
}

function checkHeader(uri: string, header: string[]): string[] {
  if (header.length < 2) {
    const only = header[0] ?? '';
    const hint = /[;\t|]/.test(only) ? ' (the delimiter must be a comma)' : '';
    throw new InvalidCsvError(uri, `the header has 1 column "${only}"; a dataset needs at least 2 (features and a target)${hint}`, 1);
  }
  const seen = new Map<string, number>();
  return header.map((name, i) => {
    if (name === '') throw new InvalidCsvError(uri, `column ${i + 1} of the header has no name`, 1);
    const first = seen.get(name);
    if (first !== undefined) {
      throw new InvalidCsvError(uri, `column name "${name}" appears twice (columns ${first + 1} and ${i + 1})`, 1);
    }
    seen.set(name, i);
    return name;
  });
}

/**
 * Parses CSV bytes: a header row, RFC 4180 quoting (commas and newlines inside quotes), an
 * optional BOM, blank lines skipped, every cell trimmed, missing spellings turned into null.
 * @throws InvalidCsvError for anything that is not a table with a header and at least one row.
 */
export function parseCsv(uri: string, bytes: Uint8Array): ParsedCsv {
  const text = decode(uri, bytes);
  if (text.replace(/^\uFEFF/, '').trim() === '') throw new InvalidCsvError(uri, 'the file is empty');

  let columns: string[] | undefined;
  let endLine = 0;
  let emptyLines = 0;
  const rows: (string | null)[][] = [];
  try {
    parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      // A quote inside an unquoted field (`5" screen`) is taken literally rather than refused.
      relax_quotes: true,
      on_record: (record: string[], info) => {
        // `info.lines` is where the record ends; a quoted newline makes it span several lines.
        const line = endLine + 1 + (info.empty_lines - emptyLines);
        endLine = info.lines;
        emptyLines = info.empty_lines;
        const cells = record.map(normaliseCell);
        if (columns === undefined) {
          columns = checkHeader(uri, record.map((name) => name.trim()));
        } else if (cells.length !== columns.length) {
          throw new InvalidCsvError(uri, `the row has ${cells.length} fields, the header has ${columns.length}`, line);
        } else {
          rows.push(cells);
        }
        return null;
      },
    });
  } catch (err) {
    if (err instanceof CsvError) throw new InvalidCsvError(uri, err.message);
    throw err;
  }
  if (columns === undefined) throw new InvalidCsvError(uri, 'the file is empty');
  if (rows.length === 0) throw new InvalidCsvError(uri, 'the file has a header but no data rows', 2);
  return { columns, rows };
}
