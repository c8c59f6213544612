export interface Column {
  readonly header: string;
  /** Numbers read best right-aligned. @default 'left' */
  readonly align?: 'left' | 'right';
}

/** Aligned columns, two spaces apart, under a header line; the last column is never padded. */
export function textTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  indent = '  ',
): string[] {
  const widths = columns.map((column, index) =>
    Math.max(width(column.header), ...rows.map((row) => width(row[index] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    indent +
    columns
      .map((column, index) => {
        const cell = cells[index] ?? '';
        if (index === columns.length - 1 && column.align !== 'right') return cell;
        const pad = ' '.repeat((widths[index] ?? 0) - width(cell));
        return column.align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...rows.map(line)];
}

/** Code points, so names like `ünï` line up. */
function width(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
