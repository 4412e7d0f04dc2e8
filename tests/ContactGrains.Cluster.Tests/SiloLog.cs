using System.Text.RegularExpressions;

namespace ContactGrains.Cluster.Tests;

/// <summary>
/// One entry of a silo's console log: the "level: Category[EventId]" line (after its timestamp) and
/// the indented lines under it (message, exception, stack trace).
/// </summary>
internal sealed record LogEntry(int LineNumber, string Level, string Source, IReadOnlyList<string> Lines)
{
    public bool IsError => Level is "fail" or "crit";

    /// <summary>The first <paramref name="lines"/> lines, numbered as in the file, for a failure message.</summary>
    public string Excerpt(int lines) =>
        $"line {LineNumber}: " + string.Join("\n      ", Lines.Take(lines).Select(l => l.Trim()));
}

/// <summary>Reads the silo logs that <see cref="SiloProcess"/> writes (the simple console formatter, see <see cref="SiloSettings"/>).</summary>
internal static partial class SiloLog
{
    /// <summary>How many lines the log has now: a mark to read from later.</summary>
    public static int LineCount(string path) => File.ReadLines(path).Count();

    /// <summary>Every entry that starts at or after line <paramref name="fromLine"/> (0-based; the file's first line is the command line).</summary>
    public static IReadOnlyList<LogEntry> EntriesFrom(string path, int fromLine)
    {
        var entries = new List<LogEntry>();
        List<string>? lines = null;
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (lineNumber <= fromLine)
            {
                continue;
            }

            if (Header().Match(line) is { Success: true } header)
            {
                lines = [line];
                entries.Add(new LogEntry(lineNumber, header.Groups["level"].Value, header.Groups["source"].Value, lines));
            }
            else
            {
                // Lines under an entry; anything before the first (the watchdog shell's "Killed") belongs to none.
                lines?.Add(line);
            }
        }

        return entries;
    }

    // "HH:mm:ss.fff " is optional: a silo started without FormatterName=simple writes no timestamp.
    [GeneratedRegex(@"^(?:\d{2}:\d{2}:\d{2}\.\d{3} )?(?<level>trce|dbug|info|warn|fail|crit): (?<source>\S+)")]
    private static partial Regex Header();
}
