namespace ContactGrains.Bot.Text;

/// <summary>
/// Damerau-Levenshtein distance in its optimal-string-alignment form: insertions, deletions, substitutions and
/// transpositions of adjacent characters each cost 1 ("refnud" is 1 from "refund").
/// </summary>
internal static class DamerauLevenshtein
{
    /// <summary>
    /// The distance between <paramref name="a"/> and <paramref name="b"/>, or <paramref name="maxDistance"/> + 1 as
    /// soon as it is known to exceed <paramref name="maxDistance"/>.
    /// </summary>
    internal static int Distance(ReadOnlySpan<char> a, ReadOnlySpan<char> b, int maxDistance)
    {
        if (Math.Abs(a.Length - b.Length) > maxDistance)
        {
            return maxDistance + 1;
        }

        if (a.Length == 0 || b.Length == 0)
        {
            return Math.Max(a.Length, b.Length);
        }

        const int StackLimit = 128;
        var width = b.Length + 1;
        Span<int> rows = width * 3 <= StackLimit ? stackalloc int[StackLimit] : new int[width * 3];
        var previousPrevious = rows[..width];
        var previous = rows.Slice(width, width);
        var current = rows.Slice(width * 2, width);

        for (var j = 0; j < width; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var rowMinimum = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var value = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    value = Math.Min(value, previousPrevious[j - 2] + 1);
                }

                current[j] = value;
                rowMinimum = Math.Min(rowMinimum, value);
            }

            if (rowMinimum > maxDistance)
            {
                return maxDistance + 1;
            }

            var recycled = previousPrevious;
            previousPrevious = previous;
            previous = current;
            current = recycled;
        }

        var distance = previous[b.Length];
        return distance > maxDistance ? maxDistance + 1 : distance;
    }
}
