namespace Ring.Cli;

/// <summary>Left-aligned text columns, two spaces apart, sized to their widest cell.</summary>
internal static class Table
{
    public static void Write(TextWriter output, IReadOnlyList<string[]> rows)
    {
        int columns = rows.Max(r => r.Length);
        int[] widths = new int[columns];
        foreach (string[] row in rows)
        {
            for (int i = 0; i < row.Length; i++) widths[i] = Math.Max(widths[i], row[i].Length);
        }
        foreach (string[] row in rows)
        {
            // The last column is not padded, so no line ends in spaces.
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))));
        }
    }
}
